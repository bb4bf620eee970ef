"""The integrations context's models, one module per part (ERP sync, channels; webhooks add theirs)."""
from .channel_models import ChannelConnection, ChannelOrder, ChannelOrderStatus, ChannelSyncRun  # noqa: F401
from .erp_models import ErpDirection, ErpEntity, ErpJob, ErpJobStatus, ErpRecord, ErpSchedule  # noqa: F401
