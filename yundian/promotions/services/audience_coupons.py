"""Issuing a coupon campaign to an audience (a member list, e.g. a cdp segment's): every member on the list gets
one code, exactly once, however often the issue is retried or however many workers run it at the same time.

A run walks the list by member id in batches; each batch is one transaction that locks the campaign row (the
order of coupons.py: campaign, then coupons, then the run), reads who already holds a code of this source, and
issues to the rest. The unique (campaign, member, source) index backs the check up. Small lists are issued in
the request; larger ones by the `issue_coupons_to_audience` task, with the run's counts as its progress.
"""
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound
from yundian.core.locking import lock_one
from yundian.members import selectors as member_selectors
from yundian.members.models import AudienceMember, MemberStatus
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_paths

from .. import locks
from ..models import CodeMode, Coupon, CouponCampaign, CouponIssueRun, IssueRunStatus, PromotionStatus
from .coupons import _new_codes, campaign_for

BATCH = 1_000
INLINE_MAX = 1_000  # lists up to this size are issued within the request


def _in_scope(staff: Staff) -> Q:
    paths = scope_paths(staff, Perm.COUPON_ISSUE)
    where = Q(pk__in=[])
    for path in paths:
        where |= Q(member__home__path__startswith=path)
    return where


def _entries(run: CouponIssueRun, staff: Staff):
    return (AudienceMember.objects.filter(_in_scope(staff), audience_id=run.audience_id,
                                          member__status=MemberStatus.ACTIVE))


@transaction.atomic
def coupon_issue_to_audience(*, actor: Staff, campaign_id: int, audience_id: int) -> CouponIssueRun:
    """Start issuing one code of a unique-code campaign to each member of an audience the actor may aim at
    (coupon.issue over the members; members outside the actor's coupon.issue scope are left out). A run of the
    same campaign and audience that is still going is returned instead of a second one. Audited.
    Locks: the campaign row."""
    campaign = campaign_for(actor, campaign_id, Perm.COUPON_ISSUE)
    audience = member_selectors.audience_get(actor=actor, audience_id=audience_id)
    if not has_perm(actor, Perm.COUPON_ISSUE):
        raise Forbidden()
    if campaign.code_mode != CodeMode.UNIQUE:
        raise Conflict(_("A shared-code campaign has no codes to issue."), code="campaign_is_shared")
    if campaign.promotion.status == PromotionStatus.ENDED:
        raise Conflict(_("This campaign has ended."), code="campaign_ended")
    locks.lock_campaigns([campaign.pk])
    running = CouponIssueRun.objects.filter(campaign=campaign, audience=audience,
                                            status=IssueRunStatus.RUNNING).first()
    if running is not None:
        return running
    run = CouponIssueRun(enterprise_id=actor.enterprise_id, campaign=campaign, audience=audience,
                         requested_by=actor)
    run.total = _entries(run, actor).count()
    run.save()
    audit_record(actor=actor, action="coupon_audience.start", target=campaign,
                 after={"audience": audience.name, "audience_id": audience.pk, "members": run.total, "run": run.pk},
                 scope_path=campaign.node.path)
    return run


def coupon_issue_run_step(*, run_id: int, batch: int = BATCH) -> CouponIssueRun:
    """Issue to the next batch of the run's members (one transaction); marks the run done (audited) when none
    is left. Safe to call from two workers at once. Locks: the campaign row, then the run row."""
    with transaction.atomic():
        run = CouponIssueRun.objects.select_related("requested_by", "campaign__node").filter(pk=run_id).first()
        if run is None:
            raise NotFound(_("Issue run not found."), code="issue_run_not_found")
        campaign = locks.lock_campaigns([run.campaign_id])[run.campaign_id]
        run = lock_one(CouponIssueRun.objects.filter(pk=run_id).select_related("requested_by"))
        if run.status == IssueRunStatus.DONE:
            return run
        staff = run.requested_by
        ids = list(_entries(run, staff).filter(member_id__gt=run.cursor).order_by("member_id")
                   .values_list("member_id", flat=True)[:batch])
        now = timezone.now()
        if not ids:
            CouponIssueRun.objects.filter(pk=run.pk).update(status=IssueRunStatus.DONE, finished_at=now,
                                                             updated_at=now)
            run.status, run.finished_at = IssueRunStatus.DONE, now
            audit_record(actor=staff, action="coupon_audience.issue", target=campaign,
                         after={"audience_id": run.audience_id, "run": run.pk, "issued": run.issued,
                                "skipped": run.skipped}, scope_path=run.campaign.node.path)
            return run
        source = run.source
        held = dict(Coupon.objects.filter(campaign=campaign, member_id__in=ids).values("member_id")
                    .annotate(n=Count("id")).values_list("member_id", "n"))
        already = set(Coupon.objects.filter(campaign=campaign, source=source, member_id__in=ids)
                      .values_list("member_id", flat=True))
        targets = [m for m in ids if m not in already and held.get(m, 0) < campaign.per_member_limit]
        codes = _new_codes(run.enterprise_id, len(targets))
        Coupon.objects.bulk_create([
            Coupon(enterprise_id=run.enterprise_id, campaign=campaign, code=code, member_id=member_id,
                   issued_by=staff, issued_at=now, source=source) for code, member_id in zip(codes, targets)])
        if targets:
            CouponCampaign.objects.filter(pk=campaign.pk).update(issued_count=F("issued_count") + len(targets))
        CouponIssueRun.objects.filter(pk=run.pk).update(
            issued=F("issued") + len(targets), skipped=F("skipped") + len(ids) - len(targets), cursor=ids[-1],
            updated_at=now)
        run.refresh_from_db()
        return run


def coupon_issue_run_work(*, run_id: int, batch: int = BATCH) -> CouponIssueRun:
    """Run batches until the run is done (what the task does; a retry continues from the run's cursor)."""
    while True:
        run = coupon_issue_run_step(run_id=run_id, batch=batch)
        if run.status == IssueRunStatus.DONE:
            return run
