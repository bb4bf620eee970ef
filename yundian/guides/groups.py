"""Community groups (社群): a guide's groups of members, the stand-in for WeChat groups.

A member joins by the group's link or QR code (signed in on the group store's storefront), once. The group's
member list is a members.Audience (source "community_group"), so a coupon campaign for that audience is a
group-only deal that the one pricing engine checks; a group buy can be posted into the group as well. The group
has its own share link (source "group:<id>"): orders through it are the group's GMV.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import cycle
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import NotFound, ValidationFailed
from yundian.core.locking import lock_rows
from yundian.members.models import Member, MemberStatus
from yundian.members.services.audiences import audience_ensure, audience_replace
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_q
from yundian.promotions.models import CouponCampaign, GroupBuyCampaign, ShareLink
from yundian.promotions.services._common import random_code
from yundian.promotions.services.coupons import coupon_campaign_create
from yundian.promotions.services.referrals import share_link_create
from yundian.sales.models import Order, OrderStatus

from .funnels import link_counts
from .materials import share_stores
from .models import CommunityGroup, CommunityMember, GroupDeal

AUDIENCE_SOURCE = "community_group"
ACTIVE_DAYS = 30
MAX_GROUPS_PER_GUIDE = 50


@transaction.atomic
def group_create(*, actor: Staff, name: str, store_id: int | None = None) -> CommunityGroup:
    """A new group of the guide's (material.share at the store; their first store when not given), with its
    member list and its share link. Audited."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 60 or not name.isprintable():
        raise ValidationFailed(_("A name of 1 to 60 characters is required."), code="invalid_name",
                               details={"field": "name"})
    stores = share_stores(actor)
    store = stores[0] if stores and store_id is None else next((s for s in stores if s.pk == store_id), None)
    if store is None:
        raise NotFound(_("Store not found."), code="store_not_found")
    if CommunityGroup.objects.filter(guide=actor, is_active=True).count() >= MAX_GROUPS_PER_GUIDE:
        raise ValidationFailed(_("A guide runs at most %(n)d groups.") % {"n": MAX_GROUPS_PER_GUIDE},
                               code="too_many_groups")
    group = CommunityGroup.objects.create(enterprise_id=actor.enterprise_id, store=store, guide=actor, name=name,
                                          join_code=random_code(10))
    group.audience = audience_ensure(enterprise_id=actor.enterprise_id, node_id=store.pk, source=AUDIENCE_SOURCE,
                                     source_id=group.pk, name=name)
    group.link = share_link_create(store_id=store.pk, actor=actor, source=f"group:{group.pk}")
    group.save(update_fields=["audience", "link", "updated_at"])
    audit_record(actor=actor, action="community_group.create", target=group, scope_path=store.path,
                 after={"name": name, "store_id": store.pk})
    return group


def groups_reassign(*, actor: Staff, from_guide: Staff, to_guide_ids: list[int]) -> dict[int, int]:
    """A leaving guide's active groups, one receiver after the other (the handover's, `guide_handover_all`, which
    checked them: active guides of the store): each group gets its new guide and a share link of theirs, so what
    comes through the group's link from now on is theirs (the old link's orders stay in the group's figures).
    Returns {guide id: groups}. Must run inside the handover's transaction. Locks: the groups (pk order)."""
    receivers = {s.pk: s for s in Staff.objects.filter(pk__in=to_guide_ids, enterprise_id=actor.enterprise_id)}
    turn, moved, now = cycle(to_guide_ids), Counter(), timezone.now()
    for group in lock_rows(CommunityGroup.objects.filter(guide=from_guide, enterprise_id=actor.enterprise_id,
                                                         is_active=True)):
        to = receivers[next(turn)]
        link = share_link_create(store_id=group.store_id, actor=to, source=f"group:{group.pk}")
        CommunityGroup.objects.filter(pk=group.pk).update(guide=to, link=link, updated_at=now)
        moved[to.pk] += 1
    return dict(moved)


def group_by_code(code: Any) -> CommunityGroup:
    group = (CommunityGroup.objects.filter(join_code=code, is_active=True).select_related("store", "guide").first()
             if isinstance(code, str) and 1 <= len(code) <= 16 and code.isalnum() else None)
    if group is None:
        raise NotFound(_("Group not found."), code="group_not_found")
    return group


@transaction.atomic
def group_join(*, code: str, member: Member, at: datetime | None = None) -> tuple[CommunityGroup, bool]:
    """The signed-in member joins the group of the code, once: (group, joined now). Their enterprise's only; the
    group's member list follows in the same transaction. Locks: the list row."""
    group = group_by_code(code)
    if member.enterprise_id != group.enterprise_id or member.status != MemberStatus.ACTIVE:
        raise NotFound(_("Group not found."), code="group_not_found")
    at = at or timezone.now()
    try:
        with transaction.atomic():
            CommunityMember.objects.create(group=group, member=member, joined_at=at)
    except IntegrityError:
        return group, False
    audience_replace(enterprise_id=group.enterprise_id, audience_id=group.audience_id,
                     member_ids=list(CommunityMember.objects.filter(group=group).values_list("member_id", flat=True)),
                     at=at)
    return group, True


def group_list(*, actor: Staff) -> QuerySet[CommunityGroup]:
    """A guide's own groups; a manager's: every group of the stores in their subtree."""
    qs = CommunityGroup.objects.filter(enterprise_id=actor.enterprise_id, is_active=True)
    if has_perm(actor, Perm.COMMISSION_VIEW_ALL):
        qs = qs.filter(scope_q(actor, Perm.COMMISSION_VIEW_ALL, "store__path") | Q(guide=actor))
    else:
        qs = qs.filter(guide=actor)
    return qs.select_related("store", "guide", "link").annotate(size=Count("members"))


def group_get(*, actor: Staff, group_id: Any) -> CommunityGroup:
    group = (group_list(actor=actor).filter(pk=group_id).first()
             if isinstance(group_id, int) and not isinstance(group_id, bool) else None)
    if group is None:
        raise NotFound(_("Group not found."), code="group_not_found")
    return group


@transaction.atomic
def group_coupon_create(*, actor: Staff, group_id: int, name: str, amount: int, threshold: int = 0,
                        shared_code: str = "", valid_days: int = 14) -> GroupDeal:
    """A group-only coupon: a shared-code coupon campaign on the group's store for the group's member list only
    (promotion.manage at the store: its manager or above), posted into the group. Audited by promotions."""
    group = group_get(actor=actor, group_id=group_id)
    if isinstance(valid_days, bool) or not isinstance(valid_days, int) or not 1 <= valid_days <= 90:
        raise ValidationFailed(_("Valid for 1 to 90 days."), code="invalid_days", details={"field": "valid_days"})
    now = timezone.now()
    code = shared_code or f"G{group.pk}{random_code(6)}"
    if threshold:
        kind, maths = "threshold_amount", {"tiers": [{"min": threshold, "off": amount}]}
    else:
        kind, maths = "amount_off", {"amount": amount}
    campaign = coupon_campaign_create(actor=actor, node_id=group.store_id, code=code[:40], name=name, kind=kind,
                                      code_mode="shared", shared_code=code[:32], per_member_limit=1,
                                      audience_id=group.audience_id, valid_from=now,
                                      valid_to=now + timedelta(days=valid_days), **maths)
    return GroupDeal.objects.create(group=group, coupon_campaign=campaign, posted_by=actor)


@transaction.atomic
def group_deal_post(*, actor: Staff, group_id: int, coupon_campaign_id: int | None = None,
                    group_buy_id: int | None = None) -> GroupDeal:
    """Post a coupon campaign or a group buy the actor can see into their group, once per deal."""
    group = group_get(actor=actor, group_id=group_id)
    if (coupon_campaign_id is None) == (group_buy_id is None):
        raise ValidationFailed(_("Pick a coupon or a group buy."), code="deal_required")
    scope = scope_q(actor, Perm.PROMOTION_VIEW, "node__path")
    if coupon_campaign_id is not None:
        deal = CouponCampaign.objects.filter(scope, pk=coupon_campaign_id, enterprise_id=actor.enterprise_id).first()
        kwargs = {"coupon_campaign": deal}
    else:
        deal = GroupBuyCampaign.objects.filter(scope, pk=group_buy_id, enterprise_id=actor.enterprise_id).first()
        kwargs = {"group_buy": deal}
    if deal is None:
        raise NotFound(_("Deal not found."), code="deal_not_found")
    existing = GroupDeal.objects.filter(group=group, **kwargs).first()
    return existing or GroupDeal.objects.create(group=group, posted_by=actor, **kwargs)


@dataclass
class GroupMetrics:
    members: int
    active_members: int  # with a paid order in the last 30 days
    opens: int
    orders: int
    gmv: int  # paid less refunded, through the group's link


def group_metrics(group: CommunityGroup, *, now: datetime | None = None) -> GroupMetrics:
    now = now or timezone.now()
    member_ids = CommunityMember.objects.filter(group=group).values("member_id")
    active = (Order.objects.filter(member_id__in=member_ids, paid_at__gte=now - timedelta(days=ACTIVE_DAYS))
              .exclude(status=OrderStatus.CANCELLED).values("member_id").distinct().count())
    # every link the group was shared by (a handed-over group has its former guide's too)
    links = list(ShareLink.objects.filter(enterprise_id=group.enterprise_id, source=f"group:{group.pk}")
                 .values_list("pk", "code"))
    counts = link_counts([code for _pk, code in links], [pk for pk, _code in links]).values()
    return GroupMetrics(members=CommunityMember.objects.filter(group=group).count(), active_members=active,
                        opens=sum(c["opens"] for c in counts), orders=sum(c["orders"] for c in counts),
                        gmv=sum(c["gmv"] for c in counts))


def group_deals(group: CommunityGroup) -> list[GroupDeal]:
    return list(group.deals.select_related("coupon_campaign__promotion", "group_buy").order_by("-id")[:20])


__all__ = ["GroupMetrics", "group_by_code", "group_coupon_create", "group_create", "group_deal_post", "group_deals",
           "group_get", "group_join", "group_list", "group_metrics", "groups_reassign"]
