"""Background work of the outbox: the sending worker (woken after each enqueue commits, and every minute for
deferred messages and retries). Idempotent: several at once send each message once (see sending.py)."""
from django.tasks import task


@task()
def messages_send_due() -> int:
    """Send every due message in batches; returns how many were claimed."""
    from .sending import send_due

    return send_due().claimed
