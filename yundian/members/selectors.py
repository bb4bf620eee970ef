"""Reads of members, scoped to the acting staff member.

Rule: staff see a member when the member's home node (where they registered) lies in the staff member's subtree
for `member.view`; HQ sees all. Out-of-scope members are 404, never 403. Phone numbers and other identities are
masked unless the actor holds `personal_data.view` at the member's home node.

`member_lookup` is the till's exception: any store may identify an enterprise member by one exact identity
(phone, card, WeChat id) to earn or redeem; it answers a masked minimal record, not the profile.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.cache import CATALOG, ORG, PROGRAMME, VersionCache, clone
from yundian.core.errors import Forbidden, NotFound, ValidationFailed
from yundian.core.money import Money
from yundian.org.models import OrgNode, RoleAssignment, Staff
from yundian.org.roles import Perm, Role
from yundian.org.selectors import has_perm, node_cached, require, scope_paths, scope_q

from .hooks import profile_section
from .models import (
    Audience, AudienceMember, AdjustmentStatus, ConsentChannel, ConsentEvent, ConsentState, GiftCard, GrowthEntry, GuideBindingEvent,
    IdentityKind, Member, MemberIdentity, MemberMerge, MemberProgram, MemberStatus, PointsAdjustment, PointsBalance, PointsEntry, PointsLot,
    PointsRule, StoredValueBalance, StoredValueEntry, Tier, TopUpRule,
)
from .normalize import mask_identity, normalize_identity

MAX_MERGE_CHAIN = 20


# per process, by enterprise: the programme, its tiers (by rank) and its active points rules; by id: category paths.
# Their writers bump PROGRAMME (CATALOG for categories, ORG for the rules' nodes) in their transaction.
_PROGRAMS = VersionCache("members.program", PROGRAMME)
_TIERS = VersionCache("members.tiers", PROGRAMME)
_POINTS_RULES = VersionCache("members.points_rules", PROGRAMME, ORG, CATALOG)
_CATEGORY_PATHS = VersionCache("members.category_paths", CATALOG)


@dataclass(frozen=True)
class RuleRate:
    """An active points rule as the earn computation reads it."""

    pk: int
    node_path: str  # "" for enterprise-wide
    category_path: str  # "" for every category
    priority: int
    points_per_yuan: Decimal


def program_get(enterprise_id: int) -> MemberProgram:
    """The enterprise's programme settings (created with defaults on first use); a copy the caller may change."""
    program = _PROGRAMS.get(enterprise_id, lambda e: MemberProgram.objects.filter(enterprise_id=e).first())
    if program is None:
        program, _created = MemberProgram.objects.get_or_create(enterprise_id=enterprise_id)
        return program
    return clone(program)


def tiers_by_rank(enterprise_id: int) -> tuple[Tier, ...]:
    """The enterprise's tiers, lowest rank first (shared: copy one before changing it)."""
    return _TIERS.get(enterprise_id, lambda e: tuple(Tier.objects.filter(enterprise_id=e).order_by("rank")))


def points_rules(enterprise_id: int) -> tuple[RuleRate, ...]:
    """The enterprise's active points rules with their node and category paths."""
    def load(e: int) -> tuple[RuleRate, ...]:
        return tuple(RuleRate(r.pk, r.node.path if r.node_id else "", r.category.path if r.category_id else "",
                              r.priority, Decimal(r.points_per_yuan))
                     for r in PointsRule.objects.filter(enterprise_id=e, is_active=True).select_related("node", "category"))
    return _POINTS_RULES.get(enterprise_id, load)


def category_paths(enterprise_id: int, category_ids) -> dict[int, str]:
    """{category id: path} for the enterprise's categories among `category_ids`."""
    from yundian.catalog.models import Category

    def load(keys: list) -> dict:
        rows = Category.objects.filter(pk__in=[k[1] for k in keys], enterprise_id=enterprise_id).values_list("pk", "path")
        return {(enterprise_id, pk): path for pk, path in rows}
    found = _CATEGORY_PATHS.get_many([(enterprise_id, c) for c in category_ids], load)
    return {key[1]: path for key, path in found.items()}


def member_scope_q(actor: Staff, perm: str = Perm.MEMBER_VIEW) -> Q:
    return scope_q(actor, perm, "home__path") & Q(enterprise_id=actor.enterprise_id)


def member_get(*, actor: Staff, member_id: int, perm: str = Perm.MEMBER_VIEW) -> Member:
    """The member if visible to the actor (else 404); 403 if visible but `perm` is missing at their home."""
    member = (Member.objects.filter(member_scope_q(actor), pk=member_id)
              .select_related("home", "tier", "guide", "merged_into", "enterprise").first())
    if member is None:
        raise NotFound(_("Member not found."), code="member_not_found")
    if perm != Perm.MEMBER_VIEW and not has_perm(actor, perm, member.home):
        raise Forbidden()
    return member


def member_list(*, actor: Staff, search: str | None = None, status: str | None = MemberStatus.ACTIVE,
                store_id: int | None = None, guide_id: int | None = None) -> QuerySet[Member]:
    qs = Member.objects.filter(member_scope_q(actor)).select_related("home", "tier", "guide")
    if status:
        qs = qs.filter(status=status)
    if store_id is not None:
        node = store_get(actor=actor, store_id=store_id, perm=Perm.MEMBER_VIEW)
        qs = qs.filter(home__path__startswith=node.path)
    if guide_id is not None:
        qs = qs.filter(guide_id=guide_id)
    if search:
        search = search.strip()
        q = Q(name__icontains=search)
        for kind in (IdentityKind.PHONE, IdentityKind.CARD, IdentityKind.EMAIL, IdentityKind.EXTERNAL):
            try:
                value = normalize_identity(kind, search)
            except ValidationFailed:
                continue
            q |= Q(identities__kind=kind, identities__value=value)
        if search.isdigit() and len(search) <= 12:
            q |= Q(pk=int(search))
        qs = qs.filter(q).distinct()
    return qs.order_by("-id")


def store_get(*, actor: Staff | None, store_id: int, perm: str, enterprise_id: int | None = None) -> OrgNode:
    """An org node of the actor's enterprise where the actor holds `perm` (404 outside scope, 403 without perm).
    With no actor (storefront, system), any active node of `enterprise_id`."""
    node = node_cached(store_id)  # per process until the org changes
    if actor is None:
        if node is None or node.enterprise_id != enterprise_id or not node.is_active:
            raise NotFound(_("Store not found."), code="store_not_found")
        return node
    if node is None:
        raise NotFound(_("Store not found."), code="store_not_found")
    require(actor, perm, node)
    if not node.is_active:
        raise ValidationFailed(_("This store is closed."), code="store_inactive", details={"field": "store_id"})
    return node


def resolve_active(member: Member) -> Member:
    """Follow merges to the member that now holds this one's identities."""
    seen = 0
    while member.status == MemberStatus.MERGED and member.merged_into_id and seen < MAX_MERGE_CHAIN:
        member = Member.objects.select_related("home", "tier", "guide", "merged_into").get(pk=member.merged_into_id)
        seen += 1
    return member


def member_lookup(*, actor: Staff, store_id: int, kind: str, value: str) -> Member:
    """The till's lookup: an active member of the enterprise by one exact identity (any store may identify them)."""
    store_get(actor=actor, store_id=store_id, perm=Perm.MEMBER_MANAGE)
    normalized = normalize_identity(kind, value)
    identity = (MemberIdentity.objects.filter(enterprise_id=actor.enterprise_id, kind=kind, value=normalized)
                .select_related("member__home", "member__tier", "member__guide").first())
    if identity is None:
        raise NotFound(_("No member has this identity."), code="member_not_found")
    member = resolve_active(identity.member)
    if member.status != MemberStatus.ACTIVE:
        raise NotFound(_("No member has this identity."), code="member_not_found")
    return member


def member_for_hook(*, enterprise_id: int, member_id: int) -> Member:
    member = Member.objects.filter(pk=member_id, enterprise_id=enterprise_id).select_related("home").first()
    if member is None:
        raise NotFound(_("Member not found."), code="member_not_found")
    return member


def may_see_personal_data(actor: Staff | None, member: Member) -> bool:
    return actor is not None and has_perm(actor, Perm.PERSONAL_DATA_VIEW, member.home)


def phone_of(member: Member) -> str:
    """The member's first phone number (unmasked; mask before display)."""
    for identity in _identities(member):
        if identity.kind == IdentityKind.PHONE:
            return identity.value
    return ""


def _identities(member: Member) -> list[MemberIdentity]:
    cache = getattr(member, "_prefetched_objects_cache", {})
    if "identities" in cache:
        return sorted(cache["identities"], key=lambda i: i.pk)
    return list(member.identities.order_by("id"))


def phone_display(actor: Staff | None, member: Member) -> str:
    phone = phone_of(member)
    return phone if may_see_personal_data(actor, member) else mask_identity(IdentityKind.PHONE, phone)


def identity_rows(actor: Staff | None, member: Member) -> list[dict]:
    reveal = may_see_personal_data(actor, member)
    return [{"id": i.pk, "kind": i.kind, "kind_label": i.get_kind_display(),
             "value": i.value if reveal else mask_identity(i.kind, i.value),
             "is_verified": i.is_verified, "channel": i.channel, "channel_label": i.get_channel_display(),
             "created_at": i.created_at}
            for i in _identities(member)]


def consent_rows(member: Member) -> list[dict]:
    states = {s.channel: s for s in ConsentState.objects.filter(member=member)}
    return [{"channel": value, "label": label, "granted": states[value].granted if value in states else None,
             "updated_at": states[value].updated_at if value in states else None}
            for value, label in ConsentChannel.choices]


def balances(member: Member) -> tuple[int, int, int]:
    """(points, stored value principal, stored value bonus)."""
    points = PointsBalance.objects.filter(member=member).values_list("points", flat=True).first() or 0
    sv = StoredValueBalance.objects.filter(member=member).values_list("principal", "bonus").first() or (0, 0)
    return points, sv[0], sv[1]


def growth_in_window(member: Member, *, now: datetime | None = None, window_days: int | None = None) -> int:
    now = now or timezone.now()
    if window_days is None:
        window_days = program_get(member.enterprise_id).growth_window_days
    total = (GrowthEntry.objects.filter(member=member, occurred_at__gt=now - timedelta(days=window_days),
                                        occurred_at__lte=now).aggregate(s=Sum("growth"))["s"])
    return int(total or 0)


def tier_qualified(enterprise_id: int, growth: int) -> Tier | None:
    """The highest-ranked tier `growth` reaches (a copy), from the per-process cache of the tiers."""
    qualified = [t for t in tiers_by_rank(enterprise_id) if t.min_growth <= growth]
    return clone(qualified[-1]) if qualified else None


def tier_list(*, actor: Staff) -> QuerySet[Tier]:
    return Tier.objects.filter(enterprise_id=actor.enterprise_id).order_by("rank")


@dataclass(frozen=True)
class MemberBenefits:
    """What a member's tier gives them; the pricing engine reads this (no tier: the neutral values)."""

    tier_code: str
    tier_name: str
    discount_rate: Decimal
    free_shipping: bool
    points_multiplier: Decimal
    birthday_gift_points: int
    is_birthday_month: bool


def member_benefits(member: Member, *, today=None) -> MemberBenefits:
    """The benefits of the member's current tier. Merged or erased members get none."""
    today = today or timezone.localdate()
    birthday_month = bool(member.birthday and member.birthday.month == today.month)
    if member.tier_id is not None and "tier" not in member._state.fields_cache:
        # not read with the member (a locked re-read): the tier from the per-process cache of the tiers
        tier = next((t for t in tiers_by_rank(member.enterprise_id) if t.pk == member.tier_id), None)
        if tier is not None:
            member.tier = clone(tier)
    tier = member.tier if member.status == MemberStatus.ACTIVE else None
    if tier is None:
        return MemberBenefits("", "", Decimal("1"), False, Decimal("1"), 0, birthday_month)
    return MemberBenefits(tier.code, tier.name, Decimal(tier.discount_rate), tier.free_shipping,
                          Decimal(tier.points_multiplier), tier.birthday_gift_points, birthday_month)


def guide_nodes_for(member_home: OrgNode) -> list[int]:
    """Ids of the home node and its ancestors (a guide must hold the guide role on one of them)."""
    return [int(part) for part in member_home.path.strip("/").split("/") if part]


def guides_for(member: Member) -> QuerySet[Staff]:
    """Active staff holding the guide role in the member's store (who may be their exclusive guide)."""
    staff_ids = RoleAssignment.objects.filter(role=Role.GUIDE, node_id__in=guide_nodes_for(member.home),
                                              node__is_active=True).values("staff_id")
    return Staff.objects.filter(pk__in=staff_ids, is_active=True, enterprise_id=member.enterprise_id).order_by("id")


def points_entry_list(*, actor: Staff, member_id: int) -> QuerySet[PointsEntry]:
    member = member_get(actor=actor, member_id=member_id)
    return PointsEntry.objects.filter(member=member).select_related("store").order_by("-id")


def points_lot_list(*, actor: Staff, member_id: int) -> QuerySet[PointsLot]:
    member = member_get(actor=actor, member_id=member_id)
    return PointsLot.objects.filter(member=member, remaining__gt=0).order_by("expires_at", "id")


def stored_value_entry_list(*, actor: Staff, member_id: int) -> QuerySet[StoredValueEntry]:
    member = member_get(actor=actor, member_id=member_id)
    return StoredValueEntry.objects.filter(member=member).select_related("store").order_by("-id")


def growth_entry_list(*, actor: Staff, member_id: int) -> QuerySet[GrowthEntry]:
    member = member_get(actor=actor, member_id=member_id)
    return GrowthEntry.objects.filter(member=member).order_by("-occurred_at", "-id")


def merge_list(*, actor: Staff, member_id: int) -> QuerySet[MemberMerge]:
    member = member_get(actor=actor, member_id=member_id)
    return MemberMerge.objects.filter(Q(survivor=member) | Q(absorbed=member)).order_by("-id")


def merge_get(*, actor: Staff, merge_id: int) -> MemberMerge:
    merge = MemberMerge.objects.filter(pk=merge_id, enterprise_id=actor.enterprise_id).select_related(
        "survivor__home", "absorbed__home").first()
    if merge is None or not (has_perm(actor, Perm.MEMBER_VIEW, merge.survivor.home)
                             and has_perm(actor, Perm.MEMBER_VIEW, merge.absorbed.home)):
        raise NotFound(_("Merge not found."), code="merge_not_found")
    return merge


def adjustment_list(*, actor: Staff, status: str | None = None) -> QuerySet[PointsAdjustment]:
    qs = PointsAdjustment.objects.filter(enterprise_id=actor.enterprise_id).filter(
        scope_q(actor, Perm.MEMBER_VIEW, "member__home__path")).select_related("member", "requested_by", "decided_by")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def adjustments_awaiting_approval(*, actor: Staff) -> QuerySet[PointsAdjustment]:
    """Pending points adjustments the actor may approve: points.approve at the member's home, not their own."""
    return (PointsAdjustment.objects.filter(scope_q(actor, Perm.POINTS_APPROVE, "member__home__path"),
                                            enterprise_id=actor.enterprise_id, status=AdjustmentStatus.PENDING)
            .exclude(requested_by=actor).select_related("member", "requested_by").order_by("id"))


def member_profile(*, actor: Staff, member_id: int) -> dict:
    """The 360° view for staff: identities (masked per role), tier and growth, balances, guide, consent, recent
    ledgers and merges. Tags, RFM and behaviour come from the CDP's panel, which the page loads by its URL."""
    member = member_get(actor=actor, member_id=member_id)
    points, principal, bonus = balances(member)
    program = program_get(member.enterprise_id)
    currency = member.enterprise.currency
    growth = growth_in_window(member, window_days=program.growth_window_days)
    next_tier = (Tier.objects.filter(enterprise_id=member.enterprise_id, rank__gt=member.tier.rank if member.tier else -1)
                 .order_by("rank").first())
    return {
        "member": member,
        "phone": phone_display(actor, member),
        "reveal": may_see_personal_data(actor, member),
        "identities": identity_rows(actor, member),
        "benefits": member_benefits(member),
        "growth": growth,
        "growth_window_days": program.growth_window_days,
        "next_tier": next_tier,
        "points": points,
        "points_lots": list(PointsLot.objects.filter(member=member, remaining__gt=0).order_by("expires_at", "id")[:20]),
        "points_entries": list(PointsEntry.objects.filter(member=member).select_related("store").order_by("-id")[:20]),
        "stored_value": {"principal": principal, "bonus": bonus, "total": principal + bonus,
                         "display": Money(principal + bonus, currency).format(),
                         "principal_display": Money(principal, currency).format(),
                         "bonus_display": Money(bonus, currency).format()},
        "stored_value_entries": [
            {"entry": e, "principal": Money(e.principal, currency).format(), "bonus": Money(e.bonus, currency).format()}
            for e in StoredValueEntry.objects.filter(member=member).order_by("-id")[:20]],
        "guide": member.guide,
        "guide_events": list(GuideBindingEvent.objects.filter(member=member)
                             .select_related("from_guide", "to_guide")[:10]),
        "consents": consent_rows(member),
        "consent_events": list(ConsentEvent.objects.filter(member=member)[:20]),
        "merges": list(MemberMerge.objects.filter(Q(survivor=member) | Q(absorbed=member)).order_by("-id")[:10]),
        "pending_adjustments": list(PointsAdjustment.objects.filter(member=member, status="pending")),
        "orders": profile_section("orders", actor, member),  # provided by sales (members never imports it)
        "coupons": profile_section("coupons", actor, member),  # provided by promotions
        "messages_panel": profile_section("messages", actor, member),  # provided by messaging: {"url"}
        "may_manage": has_perm(actor, Perm.MEMBER_MANAGE, member.home),
        "may_adjust": has_perm(actor, Perm.POINTS_ADJUST, member.home),
        "may_approve_points": has_perm(actor, Perm.POINTS_APPROVE, member.home),
        "may_top_up": has_perm(actor, Perm.STORED_VALUE_MANAGE, member.home),
        "may_rebind": has_perm(actor, Perm.MEMBER_REBIND, member.home),
        "may_export": has_perm(actor, Perm.PERSONAL_DATA_EXPORT, member.home),
        "may_erase": has_perm(actor, Perm.MEMBER_ERASE, member.home),
    }


# --- programme rules (console / API) ------------------------------------------------------------------

def points_rule_list(*, actor: Staff, include_inactive: bool = False) -> QuerySet[PointsRule]:
    """Enterprise-wide rules and the rules of nodes in the actor's member.view subtree."""
    if not has_perm(actor, Perm.MEMBER_VIEW):
        return PointsRule.objects.none()
    qs = (PointsRule.objects.filter(enterprise_id=actor.enterprise_id)
          .filter(Q(node__isnull=True) | scope_q(actor, Perm.MEMBER_VIEW, "node__path")))
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.select_related("node", "category").order_by("id")


def points_rule_get(*, actor: Staff, rule_id: int) -> PointsRule:
    rule = points_rule_list(actor=actor, include_inactive=True).filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("Points rule not found."), code="points_rule_not_found")
    return rule


def topup_rule_list(*, actor: Staff, include_inactive: bool = False) -> QuerySet[TopUpRule]:
    if not has_perm(actor, Perm.MEMBER_VIEW):
        return TopUpRule.objects.none()
    qs = TopUpRule.objects.filter(enterprise_id=actor.enterprise_id)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("-min_amount", "id")


def gift_card_list(*, actor: Staff, batch: str | None = None, status: str | None = None) -> QuerySet[GiftCard]:
    """The enterprise's gift cards (HQ, member_program.manage): value, batch, status and the code's last four."""
    if not has_perm(actor, Perm.MEMBER_PROGRAM_MANAGE):
        raise Forbidden()
    qs = GiftCard.objects.filter(enterprise_id=actor.enterprise_id)
    if batch:
        qs = qs.filter(batch=batch)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


# --- audiences (member lists) ------------------------------------------------------------------------

def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def audience_list(*, actor: Staff, search: str | None = None) -> QuerySet[Audience]:
    """Audiences the actor may aim a promotion or an action at: owned by a node of their member.view subtree or by a
    node above it (an HQ segment reaches a store), never a sibling's; newest refreshed first."""
    paths = scope_paths(actor, Perm.MEMBER_VIEW)
    if not paths:
        return Audience.objects.none()
    where = Q(node__path__in=sorted({a for p in paths for a in _ancestor_paths(p)}))
    for path in paths:
        where |= Q(node__path__startswith=path)
    qs = Audience.objects.filter(where, enterprise_id=actor.enterprise_id).select_related("node")
    if search:
        qs = qs.filter(name__icontains=search.strip())
    return qs.order_by("name", "id")


def audience_get(*, actor: Staff, audience_id: int) -> Audience:
    audience = audience_list(actor=actor).filter(pk=audience_id).first()
    if audience is None:
        raise NotFound(_("Member list not found."), code="audience_not_found")
    return audience


def audiences_holding(*, member_id: int | None, audience_ids) -> frozenset[int]:
    """Which of `audience_ids` list the member: one indexed query (none when nothing is asked)."""
    wanted = sorted({int(a) for a in audience_ids if a})
    if member_id is None or not wanted:
        return frozenset()
    return frozenset(AudienceMember.objects.filter(member_id=member_id, audience_id__in=wanted)
                     .values_list("audience_id", flat=True))
