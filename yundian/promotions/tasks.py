"""Background work of the promotions context; every task is idempotent (safe to run twice or from two workers)."""
from django.tasks import task

from . import services


@task()
def expire_group_buys() -> dict:
    """Fail group buys whose window closed and refund their paid members, exactly once each."""
    return services.group_buy_expire_due()


@task()
def release_flash_claims() -> int:
    """Give back flash-sale units that were secured but not ordered in time."""
    return services.flash_claims_release_expired()


@task()
def issue_coupons_to_audience(run_id: int) -> dict:
    """Issue a campaign's codes to an audience's members, batch by batch; a retry continues where it stopped and
    never gives a member a second code."""
    run = services.coupon_issue_run_work(run_id=run_id)
    return {"run": run.pk, "issued": run.issued, "skipped": run.skipped}
