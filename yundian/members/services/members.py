"""Members: registration (POS, storefront, API), One-ID resolution, profile edits, identities, consent, the
exclusive guide (专属导购), export and erasure of personal data."""
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.outbox import outbox_emit, outbox_emit_many
from yundian.org.models import OrgNode, RoleAssignment, Staff
from yundian.org.roles import Perm, Role
from yundian.org.selectors import has_perm

from .. import locks, selectors
from ..models import (
    BindingKind, Channel, ConsentChannel, ConsentEvent, ConsentState, Gender, GuideBindingEvent, IdentityKind, Member,
    MemberIdentity, MemberStatus, PointsBalance, PointsEntry, StoredValueBalance, StoredValueEntry,
)
from ..normalize import normalize_identity
from ._common import clean_text, require_active
from .growth import tier_upgrade_if_qualified

# identity kinds whose meeting merges two members automatically (the person is the same by definition)
AUTO_MERGE_KINDS = {IdentityKind.PHONE, IdentityKind.WECHAT_UNIONID}
# a person has at most one of these: two members holding different values are two people
SINGLE_VALUED_KINDS = {IdentityKind.WECHAT_UNIONID}
MAX_IDENTITIES = 20


@dataclass(frozen=True)
class IdentityIn:
    kind: str
    value: str
    is_verified: bool = False


def _clean_identities(phone: str | None, identities) -> list[IdentityIn]:
    items = list(identities or [])
    if phone:
        items.insert(0, IdentityIn(IdentityKind.PHONE, phone))
    if len(items) > MAX_IDENTITIES:
        raise ValidationFailed(_("Too many identities."), code="too_many_identities", details={"field": "identities"})
    cleaned, seen = [], set()
    for item in items:
        value = normalize_identity(item.kind, item.value)
        if (item.kind, value) not in seen:
            seen.add((item.kind, value))
            cleaned.append(IdentityIn(item.kind, value, bool(item.is_verified)))
    return cleaned


def _clean_profile(name, gender, birthday) -> tuple[str, str, date | None]:
    name = clean_text(name, "name", max_length=80)
    if gender not in Gender.values:
        raise ValidationFailed(_("Unknown gender."), code="invalid_gender", details={"field": "gender"})
    if birthday is not None and (not isinstance(birthday, date) or birthday > timezone.localdate()
                                 or birthday.year < 1900):
        raise ValidationFailed(_("Not a valid birthday."), code="invalid_birthday", details={"field": "birthday"})
    return name, gender, birthday


def _clean_channel(channel: str) -> str:
    if channel not in Channel.values:
        raise ValidationFailed(_("Unknown channel."), code="invalid_channel", details={"field": "channel"})
    return channel


def _store(actor: Staff | None, store_id: int, enterprise_id: int | None, perm: str = Perm.MEMBER_MANAGE) -> OrgNode:
    if actor is None and enterprise_id is None:
        raise ValueError("registration without an actor needs enterprise_id")
    return selectors.store_get(actor=actor, store_id=store_id, perm=perm, enterprise_id=enterprise_id)


def _taken(enterprise_id: int, identities: list[IdentityIn]) -> list[MemberIdentity]:
    if not identities:
        return []
    from functools import reduce
    from operator import or_

    from django.db.models import Q

    q = reduce(or_, (Q(kind=i.kind, value=i.value) for i in identities))
    return list(MemberIdentity.objects.filter(q, enterprise_id=enterprise_id).select_related("member"))


def _add_identities(member: Member, identities: list[IdentityIn], channel: str) -> list[MemberIdentity]:
    try:
        with transaction.atomic():
            return MemberIdentity.objects.bulk_create([
                MemberIdentity(enterprise_id=member.enterprise_id, member=member, kind=i.kind, value=i.value,
                               channel=channel, is_verified=i.is_verified) for i in identities])
    except IntegrityError:  # a concurrent registration took one of them
        raise Conflict(_("This identity already belongs to a member."), code="identity_taken")


def consent_record(member: Member, *, channel: str, granted: bool, source: str, actor: Staff | None = None,
                   note: str = "") -> ConsentEvent:
    """Append a consent event and make it the channel's current state (caller holds the member lock)."""
    event = ConsentEvent.objects.create(member=member, channel=channel, granted=granted, source=source, actor=actor,
                                        note=note[:255])
    ConsentState.objects.update_or_create(member=member, channel=channel, defaults={"granted": granted, "event": event})
    return event


def _clean_consents(consents) -> dict[str, bool]:
    consents = consents or {}
    if not isinstance(consents, dict) or any(c not in ConsentChannel.values or not isinstance(g, bool)
                                             for c, g in consents.items()):
        raise ValidationFailed(_("Consents are channel: true/false."), code="invalid_consent", details={"field": "consents"})
    return consents


@transaction.atomic
def member_register(*, actor: Staff | None, store_id: int, channel: str, phone: str | None = None, name: str = "",
                    gender: str = "", birthday: date | None = None, identities=(), consents=None,
                    guide_id: int | None = None, enterprise_id: int | None = None) -> Member:
    """Register a new member at a store (member.manage there; without an actor: the storefront of `enterprise_id`).
    Identities are normalised first, so one phone typed two ways is a 409 `identity_taken`, never two members.
    A guide registering at the POS becomes the member's exclusive guide."""
    channel = _clean_channel(channel)
    store = _store(actor, store_id, enterprise_id)
    cleaned = _clean_identities(phone, identities)
    if not cleaned:
        raise ValidationFailed(_("A member needs a phone number or another identity."), code="identity_required",
                               details={"field": "phone"})
    name, gender, birthday = _clean_profile(name, gender, birthday)
    consents = _clean_consents(consents)
    taken = _taken(store.enterprise_id, cleaned)
    if taken:
        raise Conflict(_("This identity already belongs to a member."), code="identity_taken",
                       details={"kind": taken[0].kind})
    member = Member.objects.create(enterprise_id=store.enterprise_id, home=store, name=name, gender=gender,
                                   birthday=birthday, channel=channel, registered_by=actor)
    PointsBalance.objects.create(member=member)
    StoredValueBalance.objects.create(member=member)
    _add_identities(member, cleaned, channel)
    for consent_channel, granted in consents.items():
        consent_record(member, channel=consent_channel, granted=granted, source=channel, actor=actor)
    guide = None
    if guide_id is not None:
        guide = _eligible_guide(member, guide_id)
    elif actor is not None and channel == Channel.POS and _is_guide_at(actor, store):
        guide = actor
    if guide is not None:
        _bind(member, guide, kind=BindingKind.FIRST, actor=actor, reason="")
    tier_upgrade_if_qualified(member)  # the entry tier, if one needs no growth
    outbox_emit(enterprise_id=member.enterprise_id, topic="member.created", key=member.pk)
    return member


def _is_guide_at(staff: Staff, node: OrgNode) -> bool:
    return RoleAssignment.objects.filter(staff=staff, role=Role.GUIDE,
                                         node_id__in=selectors.guide_nodes_for(node), node__is_active=True).exists()


@dataclass(frozen=True)
class Resolution:
    member: Member
    created: bool
    merged: list  # MemberMerge rows made by this call


@transaction.atomic
def member_resolve(*, actor: Staff | None, store_id: int, channel: str, identities, name: str = "",
                   enterprise_id: int | None = None) -> Resolution:
    """One-ID: the member these identities belong to. None known: register. One member: attach the new identities.
    Several members met through a phone or UnionID: merge them into the oldest (rule = the kind that met) and
    attach. Members met only through weaker kinds, or holding different UnionIDs, are a 409 for a person to
    decide (manual merge). Locks: every member involved, in pk order."""
    from .merge import merge_into

    channel = _clean_channel(channel)
    store = _store(actor, store_id, enterprise_id)
    cleaned = _clean_identities(None, identities)
    if not cleaned:
        raise ValidationFailed(_("At least one identity is required."), code="identity_required",
                               details={"field": "identities"})
    taken = _taken(store.enterprise_id, cleaned)
    if not taken:
        member = member_register(actor=actor, store_id=store.pk, channel=channel, identities=cleaned, name=name,
                                 enterprise_id=store.enterprise_id)
        return Resolution(member, True, [])
    met: dict[int, set[str]] = {}
    for identity in taken:
        owner = selectors.resolve_active(identity.member)
        if owner.status != MemberStatus.ACTIVE:
            raise Conflict(_("This identity belongs to an erased member."), code="identity_taken")
        met.setdefault(owner.pk, set()).add(identity.kind)
    locked = locks.lock_members(met, enterprise_id=store.enterprise_id)
    survivor = locked[min(locked)]
    merges = []
    if len(locked) > 1:
        weak = [pk for pk, kinds in met.items() if not kinds & AUTO_MERGE_KINDS]
        if weak:
            raise Conflict(_("These identities belong to different members; merge them by hand."),
                           code="identities_conflict", details={"members": sorted(met)})
        _check_single_valued(list(locked.values()))
        rule = sorted({k for kinds in met.values() for k in kinds} & AUTO_MERGE_KINDS)[0]
        for pk in sorted(locked):
            if pk != survivor.pk:
                merges.append(merge_into(survivor, locked[pk], actor=actor, rule=rule, reason=""))
    have = {(i.kind, i.value) for i in MemberIdentity.objects.filter(member=survivor)}
    missing = [i for i in cleaned if (i.kind, i.value) not in have]
    _check_single_valued([survivor], adding=missing)
    _add_identities(survivor, missing, channel)
    survivor.refresh_from_db()
    return Resolution(survivor, False, merges)


def _check_single_valued(members: list[Member], adding: list[IdentityIn] = ()) -> None:
    for kind in SINGLE_VALUED_KINDS:
        values = set(MemberIdentity.objects.filter(member__in=members, kind=kind).values_list("value", flat=True))
        values |= {i.value for i in adding if i.kind == kind}
        if len(values) > 1:
            raise Conflict(_("These members hold different WeChat accounts; merge them by hand if they are one person."),
                           code="identities_conflict", details={"kind": kind})


@transaction.atomic
def member_update(*, actor: Staff, member_id: int, **fields) -> Member:
    """Edit name, gender, birthday (member.manage at the member's home)."""
    member = selectors.member_get(actor=actor, member_id=member_id, perm=Perm.MEMBER_MANAGE)
    unknown = set(fields) - {"name", "gender", "birthday"}
    if unknown:
        raise ValidationFailed(_("Unknown fields."), code="invalid", details={"fields": sorted(unknown)})
    member = locks.lock_member(member.pk, enterprise_id=actor.enterprise_id)
    require_active(member)
    name, gender, birthday = _clean_profile(fields.get("name", member.name), fields.get("gender", member.gender),
                                            fields.get("birthday", member.birthday))
    member.name, member.gender, member.birthday = name, gender, birthday
    member.save(update_fields=["name", "gender", "birthday", "updated_at"])
    outbox_emit(enterprise_id=member.enterprise_id, topic="member.changed", key=member.pk)
    return member


@transaction.atomic
def identity_add(*, actor: Staff, member_id: int, kind: str, value: str, is_verified: bool = False) -> MemberIdentity:
    """Attach an identity (member.manage). Already this member's: returned as is. Another member's: 409 — use
    `member_resolve` (automatic One-ID rules) or `member_merge` (manual) to join them."""
    member = selectors.member_get(actor=actor, member_id=member_id, perm=Perm.MEMBER_MANAGE)
    [item] = _clean_identities(None, [IdentityIn(kind, value, is_verified)])
    member = locks.lock_member(member.pk, enterprise_id=actor.enterprise_id)
    require_active(member)
    existing = MemberIdentity.objects.filter(enterprise_id=member.enterprise_id, kind=item.kind, value=item.value).first()
    if existing is not None:
        if existing.member_id == member.pk:
            return existing
        raise Conflict(_("This identity already belongs to a member."), code="identity_taken", details={"kind": kind})
    if MemberIdentity.objects.filter(member=member).count() >= MAX_IDENTITIES:
        raise Conflict(_("Too many identities."), code="too_many_identities")
    _check_single_valued([member], adding=[item])
    [identity] = _add_identities(member, [item], Channel.CONSOLE)
    return identity


@transaction.atomic
def identity_remove(*, actor: Staff, member_id: int, identity_id: int) -> None:
    """Detach an identity (member.manage); the last one stays (a member must remain recognisable)."""
    member = selectors.member_get(actor=actor, member_id=member_id, perm=Perm.MEMBER_MANAGE)
    member = locks.lock_member(member.pk, enterprise_id=actor.enterprise_id)
    require_active(member)
    identity = MemberIdentity.objects.filter(pk=identity_id, member=member).first()
    if identity is None:
        raise NotFound(_("Identity not found."), code="identity_not_found")
    if MemberIdentity.objects.filter(member=member).count() == 1:
        raise Conflict(_("A member keeps at least one identity."), code="last_identity")
    identity.delete()
    audit_record(actor=actor, action="member.identity.remove", target=member, scope_path=member.home.path,
                 before={"identity": identity_id, "kind": identity.kind})


@transaction.atomic
def consent_set(*, actor: Staff | None, member_id: int, channel: str, granted: bool, source: str = Channel.CONSOLE,
                note: str = "", enterprise_id: int | None = None) -> ConsentEvent:
    """Record a member's marketing consent on one channel (staff: member.manage; without an actor: the member
    themself on the storefront). History is kept; the latest event is the state."""
    if channel not in ConsentChannel.values:
        raise ValidationFailed(_("Unknown consent channel."), code="invalid_consent", details={"field": "channel"})
    if not isinstance(granted, bool):
        raise ValidationFailed(_("Consent is true or false."), code="invalid_consent", details={"field": "granted"})
    source = _clean_channel(source)
    note = clean_text(note, "note")
    if actor is not None:
        member = selectors.member_get(actor=actor, member_id=member_id, perm=Perm.MEMBER_MANAGE)
        enterprise_id = actor.enterprise_id
    member = locks.lock_member(member_id, enterprise_id=enterprise_id)
    require_active(member)
    return consent_record(member, channel=channel, granted=granted, source=source, actor=actor, note=note)


# --- exclusive guide ----------------------------------------------------------------------------------

def _eligible_guide(member: Member, guide_id: int) -> Staff:
    guide = selectors.guides_for(member).filter(pk=guide_id).first()
    if guide is None:
        raise ValidationFailed(_("This person is not an active guide of the member's store."), code="not_a_guide",
                               details={"field": "guide_id"})
    return guide


def _bind(member: Member, guide: Staff | None, *, kind: str, actor: Staff | None, reason: str) -> GuideBindingEvent:
    event = GuideBindingEvent.objects.create(member=member, kind=kind, from_guide=member.guide, to_guide=guide,
                                             actor=actor, reason=reason[:255])
    now = timezone.now()
    member.guide, member.guide_bound_at = guide, (now if guide else None)
    Member.objects.filter(pk=member.pk).update(guide=guide, guide_bound_at=member.guide_bound_at, updated_at=now)
    outbox_emit(enterprise_id=member.enterprise_id, topic="member.changed", key=member.pk)
    return event


@transaction.atomic
def guide_bind(*, actor: Staff, member_id: int, guide_id: int, reason: str = "") -> GuideBindingEvent:
    """Bind a member to an exclusive guide of their store. First binding: member.manage (a guide may claim an
    unbound member). Rebinding: member.rebind (store manager and above), with a reason, and not within the
    programme's cool-down of the last binding. Audited. Locks: the member row."""
    member = selectors.member_get(actor=actor, member_id=member_id, perm=Perm.MEMBER_MANAGE)
    reason = clean_text(reason, "reason")
    member = locks.lock_member(member.pk, enterprise_id=actor.enterprise_id)
    require_active(member)
    guide = _eligible_guide(member, guide_id)
    if member.guide_id == guide.pk:
        raise Conflict(_("The member is already bound to this guide."), code="already_bound")
    kind = BindingKind.FIRST if member.guide_id is None else BindingKind.REBIND
    if kind == BindingKind.REBIND:
        if not has_perm(actor, Perm.MEMBER_REBIND, member.home):
            raise Forbidden(_("Only a manager may move a member to another guide."), code="rebind_not_allowed")
        if not reason:
            raise ValidationFailed(_("A reason is required to rebind."), code="required", details={"field": "reason"})
        cooldown = selectors.program_get(member.enterprise_id).rebind_cooldown_days
        if member.guide_bound_at and member.guide_bound_at > timezone.now() - timedelta(days=cooldown):
            raise Conflict(_("The member was bound too recently to be moved again."), code="rebind_cooldown",
                           details={"cooldown_days": cooldown, "bound_at": member.guide_bound_at.isoformat()})
    previous = member.guide_id
    event = _bind(member, guide, kind=kind, actor=actor, reason=reason)
    audit_record(actor=actor, action=f"member.guide.{kind}", target=member, reason=reason, scope_path=member.home.path,
                 before={"guide": previous}, after={"guide": guide.pk})
    return event


@transaction.atomic
def guide_unbind(*, actor: Staff, member_id: int, reason: str) -> GuideBindingEvent:
    member = selectors.member_get(actor=actor, member_id=member_id, perm=Perm.MEMBER_REBIND)
    reason = clean_text(reason, "reason", required=True)
    member = locks.lock_member(member.pk, enterprise_id=actor.enterprise_id)
    if member.guide_id is None:
        raise Conflict(_("The member has no guide."), code="not_bound")
    previous = member.guide_id
    event = _bind(member, None, kind=BindingKind.UNBIND, actor=actor, reason=reason)
    audit_record(actor=actor, action="member.guide.unbind", target=member, reason=reason, scope_path=member.home.path,
                 before={"guide": previous}, after={"guide": None})
    return event


@transaction.atomic
def guide_handover(*, actor: Staff, from_guide_id: int, to_guide_id: int, reason: str) -> int:
    """Move every member bound to a (leaving) guide to another guide, ignoring the cool-down (member.rebind over
    every such member's home; the new guide must be a guide of each member's store). One event per member, one
    audit entry. Locks: the guide's members, in pk order. Returns how many moved."""
    return sum(guide_handover_spread(actor=actor, from_guide_id=from_guide_id, to_guide_ids=[to_guide_id],
                                     reason=reason).values())


@transaction.atomic
def guide_handover_spread(*, actor: Staff, from_guide_id: int, to_guide_ids: list[int], reason: str) -> dict[int, int]:
    """Move every member bound to a (leaving) guide to the given guides, spread evenly (in member order, each to
    the guide with the fewest so far), ignoring the cool-down; rules as guide_handover. Returns {guide id: members
    moved}. Locks: the guide's members, in pk order."""
    reason = clean_text(reason, "reason", required=True)
    if not to_guide_ids or from_guide_id in to_guide_ids or len(set(to_guide_ids)) != len(to_guide_ids):
        raise ValidationFailed(_("Pick another guide."), code="same_guide", details={"field": "to_guide_id"})
    members = locks.lock_guide_members(from_guide_id, enterprise_id=actor.enterprise_id)
    to_guides = {g.pk: g for g in Staff.objects.filter(pk__in=to_guide_ids, enterprise_id=actor.enterprise_id,
                                                         is_active=True)}
    if len(to_guides) != len(to_guide_ids):
        raise NotFound(_("Staff member not found."), code="staff_not_found")
    homes = {m.home_id: m.home for m in members}
    for home in homes.values():
        if not has_perm(actor, Perm.MEMBER_VIEW, home):
            raise NotFound(_("Staff member not found."), code="staff_not_found")
        if not has_perm(actor, Perm.MEMBER_REBIND, home):
            raise Forbidden(_("Only a manager may move a member to another guide."), code="rebind_not_allowed")
        if not all(_is_guide_at(guide, home) for guide in to_guides.values()):
            raise ValidationFailed(_("This person is not an active guide of the member's store."), code="not_a_guide",
                                   details={"field": "to_guide_id"})
    now = timezone.now()
    moved: dict[int, list[Member]] = {g: [] for g in to_guide_ids}
    for member in members:
        moved[min(to_guide_ids, key=lambda g: (len(moved[g]), to_guide_ids.index(g)))].append(member)
    GuideBindingEvent.objects.bulk_create([
        GuideBindingEvent(member=m, kind=BindingKind.HANDOVER, from_guide_id=from_guide_id, to_guide=to_guides[g],
                          actor=actor, reason=reason) for g, group in moved.items() for m in group])
    for guide_id, group in moved.items():
        Member.objects.filter(pk__in=[m.pk for m in group]).update(guide=to_guides[guide_id], guide_bound_at=now,
                                                                   updated_at=now)
    outbox_emit_many([(m.enterprise_id, "member.changed", m.pk, None) for m in members])
    counts = {g: len(group) for g, group in moved.items()}
    audit_record(actor=actor, action="member.guide.handover", target=to_guides[to_guide_ids[0]], reason=reason,
                 scope_path=actor.home.path,
                 before={"guide": from_guide_id},
                 after={"guide": to_guide_ids[0], "members": len(members),
                        **({"spread": {str(g): n for g, n in counts.items()}} if len(to_guide_ids) > 1 else {})})
    return counts


# --- personal data ------------------------------------------------------------------------------------

def member_export(*, actor: Staff, member_id: int) -> dict:
    """Everything held about a member, unmasked (personal_data.export at their home). Audited."""
    member = selectors.member_get(actor=actor, member_id=member_id, perm=Perm.PERSONAL_DATA_EXPORT)
    with transaction.atomic():
        audit_record(actor=actor, action="member.export", target=member, scope_path=member.home.path)
    points, principal, bonus = selectors.balances(member)
    return {
        "member": {"id": member.pk, "name": member.name, "gender": member.gender,
                   "birthday": member.birthday.isoformat() if member.birthday else None,
                   "channel": member.channel, "status": member.status, "home_id": member.home_id,
                   "registered_at": member.created_at.isoformat(), "tier": member.tier.code if member.tier else None},
        "identities": [{"kind": i.kind, "value": i.value, "is_verified": i.is_verified,
                        "added_at": i.created_at.isoformat()} for i in member.identities.order_by("id")],
        "consent_events": [{"channel": e.channel, "granted": e.granted, "source": e.source, "at": e.at.isoformat()}
                           for e in ConsentEvent.objects.filter(member=member).order_by("id")],
        "points": {"balance": points, "entries": [
            {"kind": e.kind, "points": e.points, "at": e.created_at.isoformat(), "source": e.source_type}
            for e in PointsEntry.objects.filter(member=member).order_by("id")]},
        "stored_value": {"principal": principal, "bonus": bonus, "entries": [
            {"kind": e.kind, "principal": e.principal, "bonus": e.bonus, "at": e.created_at.isoformat()}
            for e in StoredValueEntry.objects.filter(member=member).order_by("id")]},
        "guide": member.guide.display_name if member.guide else None,
    }


@transaction.atomic
def member_erase(*, actor: Staff, member_id: int, reason: str) -> Member:
    """Erase a member's personal data on request (member.erase at their home): name, gender and birthday are
    cleared, identities deleted, every consent withdrawn, the guide unbound. Ledgers and balances stay as they
    are (they hold no personal data) so every ledger still sums to its balance. Audited. Locks: the member row."""
    member = selectors.member_get(actor=actor, member_id=member_id, perm=Perm.MEMBER_ERASE)
    reason = clean_text(reason, "reason", required=True)
    member = locks.lock_member(member.pk, enterprise_id=actor.enterprise_id)
    if member.status == MemberStatus.MERGED:
        raise Conflict(_("Erase the member this one was merged into."), code="member_merged",
                       details={"merged_into": member.merged_into_id})
    if member.status == MemberStatus.ERASED:
        return member
    identities = MemberIdentity.objects.filter(member=member)
    removed = identities.count()
    identities.delete()
    for state in ConsentState.objects.filter(member=member, granted=True):
        consent_record(member, channel=state.channel, granted=False, source="erasure", actor=actor)
    if member.guide_id:
        _bind(member, None, kind=BindingKind.UNBIND, actor=actor, reason="erasure")
    now = timezone.now()
    member.name, member.gender, member.birthday = "", "", None
    member.status, member.erased_at = MemberStatus.ERASED, now
    member.save(update_fields=["name", "gender", "birthday", "status", "erased_at", "updated_at"])
    outbox_emit(enterprise_id=member.enterprise_id, topic="member.erased", key=member.pk)
    audit_record(actor=actor, action="member.erase", target=member, reason=reason, scope_path=member.home.path,
                 after={"identities_removed": removed})
    return member
