"""Coupons issued by the system on behalf of an automation (a journey step), each keyed so a replay, a retry or
a second worker issues nothing twice: the key is the coupon's `source`, unique per (campaign, member, source)."""
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from .. import locks
from ..models import CodeMode, Coupon, CouponCampaign, PromotionStatus
from .coupons import _new_codes

SKIPPED_ENDED = "campaign_ended"
SKIPPED_LIMIT = "member_limit_reached"


def coupon_issue_keyed(*, enterprise_id: int, campaign_id: int, grants: list[tuple[int, str]]) -> dict[str, object]:
    """One code of a unique-code campaign to each (member_id, key) not issued under that key before. Returns
    {key: Coupon (new or the one issued before) | a skip code ("campaign_ended", "member_limit_reached")}.
    A member already holding the campaign's per-member limit is skipped. One transaction; locks the campaign row."""
    if not grants:
        return {}
    with transaction.atomic():
        campaign = locks.lock_campaigns([campaign_id]).get(campaign_id)
        if campaign is None or campaign.enterprise_id != enterprise_id or campaign.code_mode != CodeMode.UNIQUE \
                or campaign.promotion.status == PromotionStatus.ENDED:
            return {key: SKIPPED_ENDED for _m, key in grants}
        keys = [key for _m, key in grants]
        out: dict[str, object] = {c.source: c for c in Coupon.objects.filter(
            campaign=campaign, member_id__in={m for m, _k in grants}, source__in=keys)}
        todo = [(m, k) for m, k in grants if k not in out]
        held = dict(Coupon.objects.filter(campaign=campaign, member_id__in={m for m, _k in todo})
                    .values("member_id").annotate(n=Count("id")).values_list("member_id", "n"))
        targets = []
        for member_id, key in todo:
            if held.get(member_id, 0) >= campaign.per_member_limit:
                out[key] = SKIPPED_LIMIT
                continue
            held[member_id] = held.get(member_id, 0) + 1
            targets.append((member_id, key))
        now = timezone.now()
        codes = _new_codes(enterprise_id, len(targets))
        made = Coupon.objects.bulk_create([
            Coupon(enterprise_id=enterprise_id, campaign=campaign, code=code, member_id=member_id, issued_at=now,
                   source=key) for code, (member_id, key) in zip(codes, targets)])
        if made:
            CouponCampaign.objects.filter(pk=campaign.pk).update(issued_count=F("issued_count") + len(made))
        out.update({c.source: c for c in made})
    return out
