"""Promotions step: a few live promotions of every kind, created through the services (so they are audited and
priced by the one engine at the till and on the storefront). Needs the org, catalog and members steps.

Shape at any scale (fixed: a demo of the programme, not a volume generator):

    promotions            4    HQ 满300减30 / 满500减80 (multi-tier), HQ member tier price, the first region's
                               category 九折, the first store's 买二赠一 on a category
    coupon_campaigns      2    new-customer coupons (unique codes, ¥20 off from ¥99) and a shared code WELCOME10
                               (¥10 off, once per member); each campaign's benefit is a promotion of its own
    coupons               20   bearer codes of the first campaign, issued in bulk by HQ
    flash_sales           1    100 units of a popular SKU at 1 yuan, one per member, running for a week
    group_buys            1    the same SKU: 2-person and 3-person prices, 24 hours to fill a group
    referral_rules        1    the enterprise default: 3 % commission to whoever shared the link
    price_floors          1    no promotion takes the first category below half its list price
    promotion_orders      6    sales at the first store through the real checkout: 3 redeem new-customer coupons,
                               3 come by a guide's share link (rewarded 分销 commission), so the promotion results
                               page has figures
"""
from django.utils.translation import gettext_lazy as _

from . import SeedContext, Step

LABELS = {
    "promotions": _("promotions (automatic)"),
    "coupon_campaigns": _("coupon campaigns"),
    "coupons": _("coupon codes"),
    "flash_sales": _("flash sales"),
    "group_buys": _("group buys"),
    "referral_rules": _("referral rules"),
    "price_floors": _("price floors"),
    "promotion_orders": _("orders with a coupon or a share link"),
}
COUPONS = 20


def counts_for(scale: int) -> dict[str, int]:
    return {"promotions": 4, "coupon_campaigns": 2, "coupons": COUPONS, "flash_sales": 1, "group_buys": 1,
            "referral_rules": 1, "price_floors": 1, "promotion_orders": 6}


def run(ctx: SeedContext) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from yundian.catalog.models import Sku
    from yundian.promotions import services

    admin, hq = ctx.created["admin"], ctx.created["hq"]
    regions, stores = ctx.created["regions"], ctx.created["stores"]
    categories = [c for c in ctx.created["categories"] if c.parent_id is None]
    tiers = [t for t in ctx.created.get("tiers", []) if Decimal(str(t.discount_rate)) < 1]
    now = timezone.now()
    week = now + timedelta(days=7)
    common = {"actor": admin, "status": "active", "valid_from": now - timedelta(days=1), "valid_to": now + timedelta(days=30)}
    services.promotion_create(node_id=hq.pk, code="MJ300", name=str(_("Spend 300 save 30, 500 save 80")),
                              kind="threshold_amount", tiers=[{"min": 30000, "off": 3000}, {"min": 50000, "off": 8000}],
                              **common)
    services.promotion_create(node_id=hq.pk, code="MEMBER-PRICE", name=str(_("Member tier price")), kind="tier_rate",
                              tier_codes=[t.code for t in tiers] or None, members_only=True, **common)
    services.promotion_create(node_id=regions[0].pk, code="REGION-90", name=str(_("Region week: 10% off")),
                              kind="percent_off", rate="0.9", category_ids=[categories[0].pk], **common)
    services.promotion_create(node_id=stores[0].pk, code="B2G1", name=str(_("Buy 2 get 1 free")), kind="buy_x_get_y",
                              buy_quantity=2, get_quantity=1, category_ids=[categories[-1].pk], **common)
    new_customer = services.coupon_campaign_create(
        actor=admin, node_id=hq.pk, code="NEW20", name=str(_("New customer coupon")), kind="threshold_amount",
        tiers=[{"min": 9900, "off": 2000}], valid_from=now - timedelta(days=1), valid_to=now + timedelta(days=30))
    services.coupon_campaign_create(
        actor=admin, node_id=hq.pk, code="WELCOME", name=str(_("Welcome code")), kind="threshold_amount",
        code_mode="shared", shared_code="WELCOME10", tiers=[{"min": 0, "off": 1000}],
        valid_from=now - timedelta(days=1), valid_to=now + timedelta(days=30))
    services.coupon_issue(actor=admin, campaign_id=new_customer.pk, count=COUPONS)
    sku = (Sku.objects.filter(enterprise=ctx.enterprise, is_weighed=False, is_active=True, base_price__gt=100)
           .order_by("id").first())
    services.flash_sale_create(actor=admin, node_id=hq.pk, code="FLASH-1", name=str(_("One-yuan flash sale")),
                               sku_id=sku.pk, price=100, cap=100, per_member_limit=1, starts_at=now, ends_at=week)
    services.group_buy_create(actor=admin, node_id=hq.pk, code="GROUP-1", name=str(_("Buy together")), sku_id=sku.pk,
                              price_tiers=[{"size": 2, "price": sku.base_price * 8 // 10},
                                           {"size": 3, "price": sku.base_price * 7 // 10}],
                              cap=300, starts_at=now, ends_at=week, window_minutes=24 * 60)
    services.referral_rule_set(actor=admin, rate="0.03")
    services.price_floor_set(actor=admin, category_id=categories[0].pk, min_percent=50)
    counts = counts_for(ctx.scale)
    counts["promotion_orders"] = _checkout(ctx, stores[0], new_customer)
    ctx.counts.update(counts)


def _checkout(ctx: SeedContext, store, campaign) -> int:
    """Ring up sales at `store` that redeem coupons of `campaign` and come by a guide's share link, through sales'
    order_create (the same path as the till). Returns how many were booked."""
    from django.db.models import F

    from yundian.core.errors import DomainError
    from yundian.inventory.models import StockBalance, WarehouseKind
    from yundian.org.models import RoleAssignment, Staff
    from yundian.org.roles import Role
    from yundian.promotions import services
    from yundian.promotions.models import Coupon
    from yundian.sales import services as sales

    guide = Staff.objects.filter(pk__in=RoleAssignment.objects.filter(node=store, role=Role.GUIDE).values(
        "staff_id")).order_by("id").first()
    if guide is None:
        return 0
    shelf = list(StockBalance.objects.filter(
        warehouse__node=store, warehouse__kind=WarehouseKind.STORE, on_hand__gt=F("reserved") + 10,
        sku__is_weighed=False, sku__is_active=True, sku__base_price__gte=5000).order_by("sku_id").values_list(
        "sku_id", flat=True)[:6])
    if not shelf:
        return 0
    link = services.share_link_create(actor=guide, store_id=store.pk)
    codes = list(Coupon.objects.filter(campaign=campaign).order_by("id").values_list("code", flat=True)[:3])
    booked = 0
    for n in range(6):
        extra = {"coupon_codes": [codes[n]]} if n < 3 and n < len(codes) else {"share_code": link.code}
        try:
            sales.order_create(actor=guide, store_id=store.pk, client_ref=f"demo-promo-{n}",
                               lines=[{"sku_id": shelf[n % len(shelf)], "quantity": 2}],
                               payments=[{"method": "wallet", "client_ref": "wallet"}], **extra)
            booked += 1
        except DomainError:
            continue  # a basket under the coupon's threshold: the demo goes on
    return booked


step = Step(name="promotions", shape=counts_for, run=run, labels=LABELS)
