"""Members step: the membership programme (tiers, top-up rules), members across channels with their identities,
opening points and growth, stored value, consent, exclusive guides, and mini-program twins merged by One-ID.

Shape at scale s (M members; exact):

    M = 1,000 + 62 s^2              s = 1 -> 1,062; s = 20 -> 25,800; s = 400 -> 9,921,000 (DESIGN.md: 10 million)
                                    (quadratic: a bigger chain has more stores and more members per store)
    T = min(M // 50, 20 + 2 s)      mini-program twins: a member who first came through the mini program (UnionID),
                                    later gave the phone of a POS member, and was merged into them by
                                    `member_resolve` (a real MemberMerge each)

    member i (0 <= i < M) has       a phone; UnionID + OpenID if i % 4 == 1; a card if i % 10 == 3;
                                    opening points (one lot) and growth if i % 5 != 0; a top-up, partly spent,
                                    if i % 8 == 0;
                                    an SMS consent answer if i % 3 != 2; an exclusive guide if i % 2 == 0
    twin j (0 <= j < T)             UnionID + mini-program id and opening points; merged into member 4 j + 2

    members               M + T          (T of them merged)
    member_identities     M + 2 |i%4==1| + |i%10==3| + 2 T
    points_entries        |i%5!=0| + T + 2 T   (openings, twin openings, merge out + in)
    stored_value_entries  2 |i%8==0|           (a top-up and what was spent of it)
    member_merges         T
    member_tiers          4

Which store a member registered at (weighted towards the busiest), the channel (POS 55%, storefront 15%,
mini program 25%, API 5%), names, birthdays, amounts and expiry dates come from the step's random stream.
Opening balances are posted as ledger entries (source "import"), so `yundian check-ledgers` holds on a fresh
demo; tiers follow from each member's growth. Rows are written with bulk_create in batches of 5,000, holding
only one batch in memory, so the step scales to the 10-million-member chain.
"""
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import SeedContext, Step

BATCH = 5000
CHANNELS = [("pos", 55), ("storefront", 15), ("miniprogram", 25), ("api", 5)]
TIERS = [("normal", "普通会员", 0, 0, "1.000", 0, False, "1.00"),
         ("silver", "银卡会员", 1, 1000, "0.980", 50, False, "1.20"),
         ("gold", "金卡会员", 2, 5000, "0.950", 200, True, "1.50"),
         ("diamond", "钻石会员", 3, 20000, "0.900", 500, True, "2.00")]
PHONE_PREFIXES = ["138", "139", "135", "136", "137", "150", "151", "158", "159", "186", "187", "188", "177", "199"]

LABELS = {
    "members": _("members (with merged twins)"),
    "member_identities": _("member identities"),
    "points_entries": _("points ledger entries"),
    "stored_value_entries": _("stored value entries"),
    "member_merges": _("One-ID merges"),
    "member_tiers": _("member tiers"),
}


def _every(m: int, k: int, r: int) -> int:
    """How many i in [0, m) have i % k == r."""
    return (m - r + k - 1) // k if r < m else 0


def members_for(scale: int) -> int:
    return 1_000 + 62 * scale * scale


def twins_for(scale: int) -> int:
    return min(members_for(scale) // 50, 20 + 2 * scale)


def counts_for(scale: int) -> dict[str, int]:
    m, t = members_for(scale), twins_for(scale)
    with_points = m - _every(m, 5, 0)
    return {
        "members": m + t,
        "member_identities": m + 2 * _every(m, 4, 1) + _every(m, 10, 3) + 2 * t,
        "points_entries": with_points + t + 2 * t,
        "stored_value_entries": 2 * _every(m, 8, 0),
        "member_merges": t,
        "member_tiers": len(TIERS),
    }


def _phone(i: int, salt: int) -> str:
    # a bijection of i modulo 10^8 (7,919,777 is coprime with 10^8), prefixed: unique for i < 10^8 per prefix
    prefix = PHONE_PREFIXES[i % len(PHONE_PREFIXES)]
    return prefix + f"{((i // len(PHONE_PREFIXES)) * 7_919_777 + salt) % 10**8:08d}"


def run(ctx: SeedContext) -> None:
    from yundian.members import services
    from yundian.members.models import (
        BindingKind, ConsentEvent, ConsentState, GrowthEntry, GrowthKind, GuideBindingEvent, IdentityKind, Member,
        MemberIdentity, MemberProgram, PointsBalance, PointsEntry, PointsKind, PointsLot, StoredValueBalance,
        StoredValueEntry, StoredValueKind, Tier, TopUpRule,
    )
    from yundian.members.services import IdentityIn
    from yundian.org.models import RoleAssignment
    from yundian.org.roles import Role

    from .org import GIVEN, SURNAMES

    rng, enterprise = ctx.rng, ctx.enterprise
    stores = ctx.created["stores"]
    m, t = members_for(ctx.scale), twins_for(ctx.scale)
    now = timezone.now()

    def person() -> str:
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _n in range(rng.choice((1, 2, 2))))

    salt = rng.randrange(10**8)

    program = MemberProgram.objects.create(enterprise=enterprise)
    tiers = Tier.objects.bulk_create([
        Tier(enterprise=enterprise, code=code, name=name, rank=rank, min_growth=need, discount_rate=rate,
             birthday_gift_points=gift, free_shipping=ship, points_multiplier=mult)
        for code, name, rank, need, rate, gift, ship, mult in TIERS])
    TopUpRule.objects.bulk_create([TopUpRule(enterprise=enterprise, min_amount=50_000, bonus=5_000),
                                   TopUpRule(enterprise=enterprise, min_amount=100_000, bonus=15_000)])
    guides: dict[int, list[int]] = {}
    for staff_id, node_id in (RoleAssignment.objects.filter(role=Role.GUIDE, node__in=stores)
                              .order_by("id").values_list("staff_id", "node_id")):
        guides.setdefault(node_id, []).append(staff_id)
    # busier stores register more members: weight by a long-tailed draw per store
    weights = [rng.lognormvariate(0, 0.6) for _s in stores]
    channels, channel_weights = zip(*CHANNELS)

    def tier_for(growth: int):
        return max((tier for tier in tiers if tier.min_growth <= growth), key=lambda tier: tier.rank)

    def insert(indices: range, *, twin: bool = False) -> list:
        """Write one batch of members (or twins) with all their rows; returns the members."""
        homes = rng.choices(stores, weights=weights, k=len(indices))
        members, plans = [], []
        for i, home in zip(indices, homes):
            has_points = twin or i % 5 != 0
            growth = int(rng.lognormvariate(7.0, 1.3)) if has_points and not twin else 0
            tier = tier_for(growth)
            joined = now - timedelta(days=rng.randrange(1, 1500), minutes=rng.randrange(1440))
            birthday = (now.date() - timedelta(days=rng.randrange(18 * 365, 70 * 365))) if rng.random() < 0.6 else None
            channel = "miniprogram" if twin else rng.choices(channels, weights=channel_weights)[0]
            guide_ids = guides.get(home.pk) or []
            guide = guide_ids[i % len(guide_ids)] if (guide_ids and not twin and i % 2 == 0) else None
            members.append(Member(enterprise=enterprise, home=home, name="" if twin else person(),
                                  gender=rng.choice(["f", "m", ""]), birthday=None if twin else birthday,
                                  channel=channel, tier=tier, tier_since=joined, guide_id=guide,
                                  guide_bound_at=joined if guide else None,
                                  tier_review_at=now + timedelta(days=rng.randrange(1, program.growth_window_days))))
            opening = (rng.randrange(10, 300) if twin else rng.randrange(10, 5000)) if has_points else 0
            plans.append((i, joined, growth, opening, has_points))
        Member.objects.bulk_create(members, batch_size=BATCH)
        identities, entries, growth_rows, sv_entries, consents, bindings = [], [], [], [], [], []
        points_of, sv_of = {}, {}
        for member, (i, joined, growth, opening, has_points) in zip(members, plans):
            if twin:
                identities += [MemberIdentity(enterprise=enterprise, member=member, kind=IdentityKind.WECHAT_UNIONID,
                                              value=f"ou-twin-{ctx.seed}-{i:09d}", channel="miniprogram",
                                              is_verified=True),
                               MemberIdentity(enterprise=enterprise, member=member, kind=IdentityKind.MINIPROGRAM,
                                              value=f"mp-twin-{ctx.seed}-{i:09d}", channel="miniprogram",
                                              is_verified=True)]
            else:
                identities.append(MemberIdentity(enterprise=enterprise, member=member, kind=IdentityKind.PHONE,
                                                  value=_phone(i, salt), channel=member.channel, is_verified=True))
                if i % 4 == 1:
                    identities += [
                        MemberIdentity(enterprise=enterprise, member=member, kind=IdentityKind.WECHAT_UNIONID,
                                       value=f"ou-{ctx.seed}-{i:09d}", channel="miniprogram", is_verified=True),
                        MemberIdentity(enterprise=enterprise, member=member, kind=IdentityKind.WECHAT_OPENID,
                                       value=f"oo-{ctx.seed}-{i:09d}", channel="miniprogram", is_verified=True)]
                if i % 10 == 3:
                    identities.append(MemberIdentity(enterprise=enterprise, member=member, kind=IdentityKind.CARD,
                                                     value=f"C{ctx.seed % 100:02d}{i:010d}", channel="pos"))
            if has_points:
                entries.append(PointsEntry(enterprise=enterprise, member=member, kind=PointsKind.EARN, points=opening,
                                           source_type="import", source_id=f"opening:{member.pk}",
                                           reason="opening balance"))
                points_of[member.pk] = opening
                if growth:
                    growth_rows.append(GrowthEntry(enterprise=enterprise, member=member, kind=GrowthKind.ADJUST,
                                                   growth=growth, amount_fen=growth * 100, occurred_at=joined,
                                                   source_type="import", source_id=f"opening:{member.pk}"))
            if not twin and i % 8 == 0:
                amount = rng.choice([20_000, 50_000, 100_000, 200_000])
                bonus = 15_000 if amount >= 100_000 else (5_000 if amount >= 50_000 else 0)
                spent = rng.randrange(100, amount + bonus + 1, 100)
                principal_left = max(amount - spent, 0)
                bonus_left = bonus - max(spent - amount, 0)
                sv_entries.append(StoredValueEntry(enterprise=enterprise, member=member, kind=StoredValueKind.TOPUP,
                                                   principal=amount, bonus=bonus, source_type="payment",
                                                   source_id=f"demo:{member.pk}", reason="opening top-up"))
                sv_entries.append(StoredValueEntry(
                    enterprise=enterprise, member=member, kind=StoredValueKind.SPEND,
                    principal=principal_left - amount, bonus=bonus_left - bonus, source_type="import",
                    source_id=f"spent:{member.pk}", reason="spent before migration"))
                sv_of[member.pk] = (principal_left, bonus_left)
            if not twin and i % 3 != 2:
                consents.append(ConsentEvent(member=member, channel="sms", granted=rng.random() < 0.7,
                                             source=member.channel))
            if member.guide_id:
                bindings.append(GuideBindingEvent(member=member, kind=BindingKind.FIRST, to_guide_id=member.guide_id))
        MemberIdentity.objects.bulk_create(identities, batch_size=BATCH)
        PointsEntry.objects.bulk_create(entries, batch_size=BATCH)
        expiry_days = program.points_expiry_days or 365
        PointsLot.objects.bulk_create(
            [PointsLot(member_id=e.member_id, entry=e, points=e.points, remaining=e.points,
                       expires_at=now + timedelta(days=rng.randrange(1, expiry_days))) for e in entries],
            batch_size=BATCH)
        GrowthEntry.objects.bulk_create(growth_rows, batch_size=BATCH)
        PointsBalance.objects.bulk_create([PointsBalance(member=x, points=points_of.get(x.pk, 0)) for x in members],
                                          batch_size=BATCH)
        StoredValueEntry.objects.bulk_create(sv_entries, batch_size=BATCH)
        StoredValueBalance.objects.bulk_create(
            [StoredValueBalance(member=x, principal=sv_of.get(x.pk, (0, 0))[0], bonus=sv_of.get(x.pk, (0, 0))[1])
             for x in members], batch_size=BATCH)
        ConsentEvent.objects.bulk_create(consents, batch_size=BATCH)
        ConsentState.objects.bulk_create([ConsentState(member=e.member, channel=e.channel, granted=e.granted, event=e)
                                          for e in consents], batch_size=BATCH)
        GuideBindingEvent.objects.bulk_create(bindings, batch_size=BATCH)
        return members

    survivors = {}
    for start in range(0, m, BATCH):
        batch = insert(range(start, min(m, start + BATCH)))
        for offset, member in enumerate(batch):
            i = start + offset
            if i % 4 == 2 and (i - 2) // 4 < t:
                survivors[(i - 2) // 4] = (member, _phone(i, salt))
    merges = 0
    for start in range(0, t, BATCH):
        insert(range(start, min(t, start + BATCH)), twin=True)
    for j in range(t):
        survivor, phone = survivors[j]
        result = services.member_resolve(
            actor=None, enterprise_id=enterprise.pk, store_id=survivor.home_id, channel="miniprogram",
            identities=[IdentityIn(IdentityKind.WECHAT_UNIONID, f"ou-twin-{ctx.seed}-{j:09d}"),
                        IdentityIn(IdentityKind.PHONE, phone)])
        merges += len(result.merged)

    ctx.created.update({"tiers": tiers})
    ctx.counts.update({
        "members": Member.objects.filter(enterprise=enterprise).count(),
        "member_identities": MemberIdentity.objects.filter(enterprise=enterprise).count(),
        "points_entries": PointsEntry.objects.filter(enterprise=enterprise).count(),
        "stored_value_entries": StoredValueEntry.objects.filter(enterprise=enterprise).count(),
        "member_merges": merges,
        "member_tiers": Tier.objects.filter(enterprise=enterprise).aggregate(n=Count("id"))["n"],
    })


step = Step(name="members", shape=counts_for, run=run, labels=LABELS)
