"""Background work of outside channels: every active connection synced every minute (orders in; statuses, stock
and prices out). Idempotent: orders are keyed by the marketplace's id, pushes send absolute values."""
from django.tasks import task


@task()
def channels_sync_task() -> int:
    from .channels_services import channels_sync_all

    return channels_sync_all()
