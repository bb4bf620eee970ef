"""Reads of the promotions context, scoped to the acting staff member: they see the promotions that reach their part
of the tree (their subtree's and those of the nodes above them; scoping.visible_q), never a sibling's.

Results per promotion come from PromotionUsage rows (written when sales reports an order paid): orders, GMV (the
orders' totals), discount cost, members, new members (registered on or after the promotion started) and
repurchase (members who bought with it more than once). Reversed usage (cancelled, fully returned) is left out.
"""
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import NotFound
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_paths, scope_q

from .models import (
    Coupon, CouponCampaign, FlashSale, GroupBuyCampaign, GroupBuyGroup, Promotion, PromotionUsage, ReferralEntry, ShareLink,
    UsageSource,
)
from .scoping import visible_q


@dataclass(frozen=True)
class Results:
    orders: int = 0
    gmv: int = 0
    discount: int = 0
    members: int = 0
    new_members: int = 0
    repeat_members: int = 0

    @property
    def repurchase_rate(self) -> float:
        return round(self.repeat_members / self.members, 4) if self.members else 0.0

    def as_dict(self) -> dict:
        return {"orders": self.orders, "gmv": self.gmv, "discount": self.discount, "members": self.members,
                "new_members": self.new_members, "repeat_members": self.repeat_members,
                "repurchase_rate": self.repurchase_rate}


def results_for(enterprise_id: int, source: str, ids: list[int], *, store_path: str | None = None) -> dict[int, Results]:
    """{source id: Results} for promotions of one source kind; `store_path` narrows to orders of that subtree."""
    if not ids:
        return {}
    qs = PromotionUsage.objects.filter(enterprise_id=enterprise_id, source=source, source_id__in=ids, is_reversed=False)
    if store_path:
        qs = qs.filter(store__path__startswith=store_path)
    totals = qs.values("source_id").annotate(
        orders=Count("order_ref", distinct=True), gmv=Sum("gmv"), discount=Sum("discount"),
        members=Count("member", distinct=True), new_members=Count("member", filter=Q(is_new_member=True), distinct=True))
    repeat = (qs.exclude(member__isnull=True).values("source_id", "member_id").annotate(n=Count("order_ref"))
              .filter(n__gte=2).values_list("source_id", flat=True))
    repeats: dict[int, int] = {}
    for source_id in repeat:
        repeats[source_id] = repeats.get(source_id, 0) + 1
    return {row["source_id"]: Results(orders=row["orders"], gmv=row["gmv"] or 0, discount=row["discount"] or 0,
                                      members=row["members"], new_members=row["new_members"],
                                      repeat_members=repeats.get(row["source_id"], 0)) for row in totals}


def _store_path(actor: Staff) -> str | None:
    """Staff below HQ see the results of their own subtree's orders only."""
    paths = scope_paths(actor, Perm.PROMOTION_VIEW)
    return paths[0] if len(paths) == 1 and paths[0].count("/") > 2 else None


def promotion_list(*, actor: Staff, status: str | None = None, search: str | None = None,
                   coupons: bool = False) -> QuerySet[Promotion]:
    qs = Promotion.objects.filter(visible_q(actor), requires_coupon=coupons).select_related("node")
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(code__icontains=search))
    return qs.order_by("-id")


def promotion_get(*, actor: Staff, promotion_id: int) -> Promotion:
    promotion = (Promotion.objects.filter(visible_q(actor), pk=promotion_id).select_related("node", "audience")
                 .first())
    if promotion is None:
        raise NotFound(_("Promotion not found."), code="promotion_not_found")
    return promotion


def campaign_list(*, actor: Staff) -> QuerySet[CouponCampaign]:
    return CouponCampaign.objects.filter(visible_q(actor)).select_related("node", "promotion").order_by("-id")


def campaign_get(*, actor: Staff, campaign_id: int) -> CouponCampaign:
    campaign = CouponCampaign.objects.filter(visible_q(actor), pk=campaign_id).select_related("node", "promotion").first()
    if campaign is None:
        raise NotFound(_("Coupon campaign not found."), code="campaign_not_found")
    return campaign


def coupon_list(*, actor: Staff, campaign_id: int, status: str | None = None) -> QuerySet[Coupon]:
    """The issued codes of a campaign the actor may see again: codes issued to members of their member scope, and
    bearer codes (no member) when they manage promotions where the campaign runs. Oldest first."""
    campaign = campaign_get(actor=actor, campaign_id=campaign_id)
    visible = Q(member__isnull=False) & scope_q(actor, Perm.MEMBER_VIEW, "member__home__path")
    if has_perm(actor, Perm.PROMOTION_MANAGE, campaign.node):
        visible |= Q(member__isnull=True)
    qs = Coupon.objects.filter(visible, campaign=campaign, enterprise_id=actor.enterprise_id)
    if status:
        qs = qs.filter(status=status)
    # the page and its export show each member's phone (masked): their identities come in one query per page
    return (qs.select_related("member", "issued_by", "campaign__promotion")
            .prefetch_related("member__identities").order_by("id"))


def flash_sale_list(*, actor: Staff) -> QuerySet[FlashSale]:
    return FlashSale.objects.filter(visible_q(actor)).select_related("node", "sku__product").order_by("-starts_at", "-id")


def flash_sale_get(*, actor: Staff, flash_sale_id: int) -> FlashSale:
    sale = FlashSale.objects.filter(visible_q(actor), pk=flash_sale_id).select_related("node", "sku__product").first()
    if sale is None:
        raise NotFound(_("Flash sale not found."), code="flash_sale_not_found")
    return sale


def group_buy_list(*, actor: Staff) -> QuerySet[GroupBuyCampaign]:
    return (GroupBuyCampaign.objects.filter(visible_q(actor)).select_related("node", "sku__product")
            .annotate(open_groups=Count("groups", filter=Q(groups__status="open")),
                      succeeded_groups=Count("groups", filter=Q(groups__status="succeeded")),
                      failed_groups=Count("groups", filter=Q(groups__status="failed")))
            .order_by("-starts_at", "-id"))


def group_buy_get(*, actor: Staff, campaign_id: int) -> GroupBuyCampaign:
    campaign = GroupBuyCampaign.objects.filter(visible_q(actor), pk=campaign_id).select_related("node", "sku").first()
    if campaign is None:
        raise NotFound(_("Group buy not found."), code="group_buy_not_found")
    return campaign


def group_list(*, campaign: GroupBuyCampaign) -> QuerySet[GroupBuyGroup]:
    return campaign.groups.select_related("leader").order_by("-id")


def share_link_list(*, actor: Staff) -> QuerySet[ShareLink]:
    return (ShareLink.objects.filter(scope_q(actor, Perm.PROMOTION_VIEW, "store__path"),
                                     enterprise_id=actor.enterprise_id)
            .select_related("store", "product", "sharer_staff", "sharer_member")
            .annotate(rewards=Sum("entries__amount")).order_by("-id"))


def referral_entry_list(*, actor: Staff, link_id: int | None = None) -> QuerySet[ReferralEntry]:
    qs = ReferralEntry.objects.filter(scope_q(actor, Perm.PROMOTION_VIEW, "link__store__path"),
                                      enterprise_id=actor.enterprise_id)
    if link_id is not None:
        qs = qs.filter(link_id=link_id)
    return qs.select_related("link").order_by("-id")


def promotion_results(*, actor: Staff, source: str, ids: list[int]) -> dict[int, Results]:
    """Results of promotions the actor can see (callers pass ids from a scoped list), over the actor's orders."""
    return results_for(actor.enterprise_id, source, ids, store_path=_store_path(actor))


def overview(*, actor: Staff) -> list[dict]:
    """Every visible promotion of every kind with its results, newest first (the console's monitor)."""
    rows = []
    promotions = list(promotion_list(actor=actor)[:200])
    campaigns = list(campaign_list(actor=actor)[:200])
    sales = list(flash_sale_list(actor=actor)[:200])
    groups = list(group_buy_list(actor=actor)[:200])
    res = {
        UsageSource.PROMOTION: promotion_results(actor=actor, source=UsageSource.PROMOTION, ids=[p.pk for p in promotions]),
        UsageSource.COUPON: promotion_results(actor=actor, source=UsageSource.COUPON, ids=[c.pk for c in campaigns]),
        UsageSource.FLASH_SALE: promotion_results(actor=actor, source=UsageSource.FLASH_SALE, ids=[s.pk for s in sales]),
        UsageSource.GROUP_BUY: promotion_results(actor=actor, source=UsageSource.GROUP_BUY, ids=[g.pk for g in groups]),
    }
    for p in promotions:
        rows.append({"source": UsageSource.PROMOTION, "obj": p, "name": p.name, "code": p.code, "node": p.node,
                     "status": p.get_status_display(), "results": res[UsageSource.PROMOTION].get(p.pk, Results())})
    for c in campaigns:
        rows.append({"source": UsageSource.COUPON, "obj": c, "name": c.promotion.name, "code": c.promotion.code,
                     "node": c.node, "status": c.promotion.get_status_display(),
                     "results": res[UsageSource.COUPON].get(c.pk, Results())})
    for s in sales:
        rows.append({"source": UsageSource.FLASH_SALE, "obj": s, "name": s.name, "code": s.code, "node": s.node,
                     "status": f"{s.sold}/{s.cap}", "results": res[UsageSource.FLASH_SALE].get(s.pk, Results())})
    for g in groups:
        rows.append({"source": UsageSource.GROUP_BUY, "obj": g, "name": g.name, "code": g.code, "node": g.node,
                     "status": f"{g.sold}/{g.cap}", "results": res[UsageSource.GROUP_BUY].get(g.pk, Results())})
    return rows


def cart_quote(*, actor: Staff, store_id: int, channel: str, lines: list[tuple[int, int]], member_id: int | None = None,
               coupon_codes: list[str] | None = None, at=None):
    """Price a cart at a store the actor can see (list prices from the catalogue, then the engine): what POS,
    storefront and API show before an order. Reads only."""
    from yundian.catalog.barcodes import weighed_price
    from yundian.catalog.models import Channel, Sku
    from yundian.catalog.pricing import price_resolve_many
    from yundian.core.errors import ValidationFailed
    from yundian.org.models import OrgNode
    from yundian.org.selectors import require

    from .pricing import LineIn, price_lines
    from .services._common import member_for

    store = OrgNode.objects.filter(pk=store_id, enterprise_id=actor.enterprise_id).first()
    if store is None:
        raise NotFound(_("Store not found."), code="store_not_found")
    require(actor, Perm.PROMOTION_VIEW, store)
    if channel not in ("pos", "storefront", "api"):
        raise ValidationFailed(_("Unknown channel."), code="invalid_channel", details={"field": "channel"})
    skus = {s.pk: s for s in Sku.objects.filter(enterprise_id=actor.enterprise_id, pk__in=[i for i, _q in lines])
            .select_related("product__category")}
    if len(skus) != len({i for i, _q in lines}):
        raise ValidationFailed(_("Unknown SKU."), code="unknown_sku", details={"field": "lines"})
    resolved = price_resolve_many(list(skus.values()), store, Channel.ONLINE if channel == "storefront"
                                  else Channel.STORE, at)
    cart = []
    for sku_id, quantity in lines:
        sku, unit = skus[sku_id], resolved[sku_id].price.amount
        gross = weighed_price(unit, quantity) if sku.is_weighed else unit * quantity
        cart.append(LineIn(sku=sku, quantity=quantity, unit_price=unit, gross=gross, list_price=unit))
    member = member_for(actor.enterprise_id, member_id) if member_id is not None else None
    return price_lines(store=store, channel=channel, lines=cart, member=member, coupon_codes=coupon_codes or (), at=at)


# --- live selling sessions -------------------------------------------------------------------------------------------

def live_session_list(*, actor: Staff) -> QuerySet:
    """The sessions of the stores in the actor's subtree (a store manager: their store's only)."""
    from .models import LiveSession

    return (LiveSession.objects.filter(scope_q(actor, Perm.PROMOTION_VIEW, "store__path"),
                                       enterprise_id=actor.enterprise_id)
            .select_related("store", "host").order_by("-starts_at", "-id"))


def live_session_get(*, actor: Staff, session_id) -> "LiveSession":  # noqa: F821
    session = None
    if isinstance(session_id, int) and not isinstance(session_id, bool):
        session = live_session_list(actor=actor).filter(pk=session_id).first()
    if session is None:
        raise NotFound(_("Live session not found."), code="live_session_not_found")
    return session


def live_session_links(session) -> list[ShareLink]:
    """Every share link of a session (the host's and each guide's), oldest first."""
    return list(ShareLink.objects.filter(enterprise_id=session.enterprise_id, source=session.source)
                .select_related("sharer_staff").order_by("id"))
