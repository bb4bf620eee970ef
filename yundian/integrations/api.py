from ninja import Router

# each part of the context (webhooks, ERP sync, channels) adds its endpoints to this router
router = Router(tags=["integrations"])
