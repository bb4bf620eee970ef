from ninja import Router

from .webhooks_api import router as webhooks_router

# each part of the context (webhooks, ERP sync, channels) adds its endpoints to this router
router = Router(tags=["integrations"])

from .erp_api import router as erp_router  # noqa: E402

router.add_router("/", erp_router)
router.add_router("/webhooks", webhooks_router)
