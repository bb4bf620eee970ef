"""Guide workbench step: a materials library with shares and orders through them, community groups with a
group-only coupon, and competitions (one running, one finished with its results). Written through the guides
services; needs the org, catalog, stock, members and promotions steps. Runs after the to-do step.

Shape at any scale (fixed: a demo of the workbench, not a volume generator):

    materials             4    HQ: two product cards, a copy text and a poster (a generated picture)
    material_shares       6    the demo store's two guides and another store's first guide share the two product cards
    share_opens           40   browsers that opened those links (each once)
    share_signups         4    new members who joined through them
    share_orders          6    paid orders through the links (the sharer earns commission and the 分销 reward)
    community_groups      2    the demo guide's groups, 6 members each, one with a group-only coupon
    competitions          2    a running guide sales PK in the demo region (top 3 win) and last week's store
                               sales PK (the scheduler's hourly close records its results and prizes)
"""
import secrets
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from . import SeedContext, Step

LABELS = {"materials": _("materials"), "material_shares": _("material shares"), "share_opens": _("share link opens"),
          "share_signups": _("sign-ups through shares"), "share_orders": _("orders through shares"),
          "community_groups": _("community groups"), "competitions": _("competitions")}
OPENS, SIGNUPS, ORDERS, GROUP_SIZE = 40, 4, 6, 6


def counts_for(scale: int) -> dict[str, int]:
    return {"materials": 4, "material_shares": 6, "share_opens": OPENS, "share_signups": SIGNUPS,
            "share_orders": ORDERS, "community_groups": 2, "competitions": 2}


def _poster_upload(code: str, title: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .images import draw_product_image

    return SimpleUploadedFile(f"{code}-poster.png", draw_product_image("fresh", None, title, "★"),
                              content_type="image/png")


def run(ctx: SeedContext) -> None:
    from django.db.models import F
    from django.utils import timezone

    from yundian.core.errors import DomainError
    from yundian.guides import competitions, groups, materials
    from yundian.inventory.models import StockBalance, WarehouseKind
    from yundian.members.models import Member
    from yundian.members.services import member_register
    from yundian.org.models import RoleAssignment, Staff
    from yundian.org.roles import Role
    from yundian.promotions.services.referrals import referral_link_visit, share_link_signup
    from yundian.sales import services as sales

    rng, admin, hq = ctx.rng, ctx.created["admin"], ctx.created["hq"]
    manager = Staff.objects.select_related("home").get(enterprise=ctx.enterprise, user__username=f"{ctx.code}-manager")
    store = manager.home
    guides = list(Staff.objects.filter(is_active=True, pk__in=RoleAssignment.objects.filter(
        node=store, role=Role.GUIDE).values("staff_id")).order_by("id"))  # a departed guide (handover) shares nothing
    others = list(Staff.objects.filter(is_active=True, pk__in=RoleAssignment.objects.filter(
        role=Role.GUIDE, node__enterprise=ctx.enterprise).exclude(node=store).values("staff_id")).order_by("id"))[:1]
    shelf = list(StockBalance.objects.filter(
        warehouse__node=store, warehouse__kind=WarehouseKind.STORE, on_hand__gt=F("reserved") + 10,
        sku__is_weighed=False, sku__is_active=True, sku__base_price__gte=3000).select_related("sku__product")
        .order_by("sku_id")[:4])
    if not guides or len(shelf) < 2:
        return
    products = [b.sku.product for b in shelf]
    now = timezone.now()
    library = [
        materials.material_create(actor=admin, node_id=hq.pk, kind="product_card", title=str(_("New in: %(name)s") % {
            "name": products[0].name}), body=str(_("Fresh this week, in every store.")), product_id=products[0].pk),
        materials.material_create(actor=admin, node_id=hq.pk, kind="product_card", title=str(_("Best seller: %(name)s") % {
            "name": products[1].name}), body=str(_("Loved by our members.")), product_id=products[1].pk,
            valid_until=now + timedelta(days=30)),
        materials.material_create(actor=admin, node_id=hq.pk, kind="copy", title=str(_("Weekend members' day")),
                                  body=str(_("This weekend members get double points on every order."))),
        materials.material_create(actor=admin, node_id=hq.pk, kind="poster", title=str(_("Spring sale")),
                                  body=str(_("Up to 30% off storewide.")), upload=_poster_upload(ctx.code, "Spring"),
                                  product_id=products[0].pk),
    ]
    sharers = guides[:2] + others
    shares = []
    for guide in sharers:
        for material in library[:2]:
            if len(shares) < 6:
                shares.append(materials.material_share(actor=guide, material_id=material.pk))
    for n in range(OPENS):
        referral_link_visit(shares[n % len(shares)].link.code, visitor=secrets.token_hex(16),
                            at=now - timedelta(hours=rng.randint(1, 96)))
    signed_up = []
    for n in range(SIGNUPS):
        share = shares[n % len(shares)]
        try:
            member = member_register(actor=None, store_id=share.store_id, channel="storefront",
                                     phone=f"139{ctx.seed % 100:02d}{rng.randint(0, 999999):06d}",
                                     enterprise_id=ctx.enterprise.pk)
        except DomainError:
            continue
        share_link_signup(code=share.link.code, member_id=member.pk, at=now - timedelta(hours=rng.randint(1, 48)))
        signed_up.append((member, share))
    booked = 0
    for n in range(ORDERS):
        member, share = signed_up[n % len(signed_up)] if signed_up else (None, shares[n % len(shares)])
        if share.store_id != store.pk:
            share = next(s for s in shares if s.store_id == store.pk)
        sku = next((b.sku for b in shelf if b.sku.product_id == share.material.product_id), shelf[0].sku)
        try:
            sales.order_create(actor=manager, store_id=store.pk, client_ref=f"demo-share-{n}",
                               member_id=member.pk if member and member.home_id == store.pk else None,
                               share_code=share.link.code, lines=[{"sku_id": sku.pk, "quantity": 1 + n % 2}],
                               payments=[{"method": "wallet", "client_ref": "wallet"}])
            booked += 1
        except DomainError:
            continue
    # groups: the demo guide's two groups of the store's members, one with a group-only coupon
    guide = guides[0]
    regulars = list(Member.objects.filter(enterprise=ctx.enterprise, home=store, status="active").order_by("id")
                    [:GROUP_SIZE * 2])
    made = []
    for i, name in enumerate((_("Young parents"), _("Regulars"))):
        group = groups.group_create(actor=guide, name=str(name))
        for member in regulars[i * GROUP_SIZE:(i + 1) * GROUP_SIZE]:
            groups.group_join(code=group.join_code, member=member, at=now - timedelta(days=rng.randint(1, 20)))
        made.append(group)
    groups.group_coupon_create(actor=manager, group_id=made[0].pk, name=str(_("Group only: ¥15 off ¥99")),
                               amount=1500, threshold=9900, valid_days=14)
    # competitions: a guide sales PK running this week in the store's region, and last week's store PK recorded
    region = store.parent
    while region is not None and region.kind not in ("region", "hq"):
        region = region.parent
    region = region or hq
    competitions.competition_create(actor=admin, node_id=region.pk, name=str(_("Guide sales PK this week")),
                                    competitor="guide", metric="sales", starts_at=now - timedelta(days=3),
                                    ends_at=now + timedelta(days=4), prize_top_n=3, prize=str(_("¥300 bonus")))
    # (its results are recorded by the scheduler's hourly close, after the history's orders are in)
    competitions.competition_create(actor=admin, node_id=hq.pk, name=str(_("Store PK: last week's sales")),
                                    competitor="store", metric="sales", starts_at=now - timedelta(days=8),
                                    ends_at=now - timedelta(days=1), prize_top_n=3, prize=str(_("Team dinner")))
    counts = counts_for(ctx.scale)
    counts.update({"material_shares": len(shares), "share_signups": len(signed_up), "share_orders": booked})
    ctx.counts.update(counts)


step = Step(name="guide_workbench", shape=counts_for, run=run, labels=LABELS)
