"""The integrations context's models, one module per part (ERP sync, channels, webhooks)."""
from .channel_models import ChannelConnection, ChannelOrder, ChannelOrderStatus, ChannelSyncRun  # noqa: F401
from .erp_models import ErpDirection, ErpEntity, ErpJob, ErpJobStatus, ErpRecord, ErpSchedule  # noqa: F401
from .webhook_models import (  # noqa: F401
    DeliveryStatus, WebhookAttempt, WebhookCursor, WebhookDelivery, WebhookEvent, WebhookReplay, WebhookSubscription,
)
