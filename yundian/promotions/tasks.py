"""Background work of the promotions context; every task is idempotent (safe to run twice or from two workers).

A start that either works at once or hands the work to a task lives here, beside the task, so services never
import tasks (tasks import services)."""
from django.db import transaction
from django.tasks import task

from yundian.org.models import Staff

from . import services
from .models import CouponIssueRun, IssueRunStatus
from .services.audience_coupons import INLINE_MAX


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


def coupon_issue_run_start(*, actor: Staff, campaign_id: int, audience_id: int) -> CouponIssueRun:
    """Start a run and issue it now when the list is small (INLINE_MAX), else hand it to the task after commit."""
    run = services.coupon_issue_to_audience(actor=actor, campaign_id=campaign_id, audience_id=audience_id)
    if run.status == IssueRunStatus.RUNNING and run.total <= INLINE_MAX:
        return services.coupon_issue_run_work(run_id=run.pk)
    if run.status == IssueRunStatus.RUNNING:
        transaction.on_commit(lambda: issue_coupons_to_audience.enqueue(run_id=run.pk))
    return run
