"""Background work for inventory. Idempotent: running a task twice gives the same result."""
from django.tasks import task

from .services.ledger import reservations_expire
from .services.replenish import replenishment_run


@task()
def replenishment_nightly() -> int:
    """Draft purchase orders from the replenishment rules of every warehouse; returns how many were drafted."""
    return len(replenishment_run())


@task()
def reservations_expire_task() -> int:
    """Release reservations past their expiry (sales also release them lazily on the rows they touch)."""
    return reservations_expire()
