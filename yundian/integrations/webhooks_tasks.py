"""Background work of webhooks: every minute (the scheduler) the outbox is dispatched into deliveries and what is
due is delivered; `yundian webhooks worker` does the same in a loop for lag under a second. Idempotent and safe in
several workers at once (see webhooks_delivery.py)."""
from django.tasks import task


@task()
def webhooks_deliver_due() -> int:
    """Dispatch the outbox, then deliver every due delivery; returns how many deliveries were claimed."""
    from .webhooks_delivery import run_once

    _created, outcome = run_once()
    return outcome.claimed
