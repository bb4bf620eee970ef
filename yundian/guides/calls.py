"""Call lists (回访清单): the writes and scoped reads of calling an audience's members (a segment's list).

Each member goes to their bound guide; members without one are listed for their store's manager. A list is one
per (audience, name), its entries one per member (unique), so making the list again, twice at once or after the
segment grew adds only who is missing. A guide sees their own calls (phone masked unless their role may see it,
a dial link that records who called whom), marks each reached / no answer / not interested with a note; the
manager follows progress per guide.
"""
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Forbidden, NotFound, ValidationFailed
from yundian.core.locking import lock_one
from yundian.core.text import clean_text
from yundian.members import selectors as member_selectors
from yundian.members.models import AudienceMember, Member, MemberStatus
from yundian.members.normalize import mask_phone
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_q

from .models import CallList, CallListEntry, CallOutcome

BATCH = 2_000


def _require_manage(actor: Staff) -> None:
    if not has_perm(actor, Perm.CALL_LIST_MANAGE):
        raise Forbidden()


@transaction.atomic
def call_list_create(*, actor: Staff, audience_id: int, name: str) -> tuple[CallList, int]:
    """Make (or top up) the call list `name` of an audience the actor may aim at: one entry per member of the
    audience in the actor's call_list.manage scope, assigned to the member's bound guide (active staff), else to
    nobody (the store manager's). Returns the list and how many entries this call added. Audited."""
    _require_manage(actor)
    audience = member_selectors.audience_get(actor=actor, audience_id=audience_id)
    name = clean_text(name, "name", 120, required=True)
    call_list = CallList.objects.filter(audience=audience, name=name).first()
    if call_list is None:
        try:
            with transaction.atomic():
                call_list = CallList.objects.create(enterprise_id=actor.enterprise_id, node=actor.home,
                                                    audience=audience, name=name, created_by=actor)
        except IntegrityError:
            call_list = CallList.objects.get(audience=audience, name=name)
    call_list = lock_one(CallList.objects.filter(pk=call_list.pk))
    have = set(call_list.entries.values_list("member_id", flat=True))
    members = (Member.objects.filter(scope_q(actor, Perm.CALL_LIST_MANAGE, "home__path"),
                                     pk__in=AudienceMember.objects.filter(audience=audience).values("member_id"),
                                     status=MemberStatus.ACTIVE, enterprise_id=actor.enterprise_id)
               .select_related("guide").order_by("pk"))
    new = [CallListEntry(call_list=call_list, member_id=m.pk, store_id=m.home_id,
                         guide_id=m.guide_id if m.guide_id and m.guide.is_active else None)
           for m in members.iterator(chunk_size=BATCH) if m.pk not in have]
    CallListEntry.objects.bulk_create(new, batch_size=1_000)
    audit_record(actor=actor, action="call_list.create", target=call_list,
                 after={"name": name, "audience_id": audience.pk, "added": len(new), "entries": len(have) + len(new)},
                 scope_path=actor.home.path)
    return call_list, len(new)


def _entry_for(actor: Staff, entry_id: int) -> CallListEntry:
    entry = (CallListEntry.objects.filter(pk=entry_id, call_list__enterprise_id=actor.enterprise_id)
             .select_related("store", "member").first())
    if entry is None or not (entry.guide_id == actor.pk or has_perm(actor, Perm.CALL_LIST_MANAGE, entry.store)):
        raise NotFound(_("Call not found."), code="call_not_found")
    return entry


@transaction.atomic
def call_outcome_set(*, actor: Staff, entry_id: int, outcome: str, note: str = "") -> CallListEntry:
    """Record how a call went (reached / no answer / not interested, with a note): the member's guide, or a
    manager of the member's store. Locks: the entry row."""
    entry = _entry_for(actor, entry_id)
    if outcome not in CallOutcome.values or outcome == CallOutcome.PENDING:
        raise ValidationFailed(_("Choose how the call went."), code="invalid_outcome", details={"field": "outcome"})
    note = clean_text(note or "", "note", 255, required=False)
    entry = lock_one(CallListEntry.objects.filter(pk=entry.pk))
    now = timezone.now()
    CallListEntry.objects.filter(pk=entry.pk).update(outcome=outcome, note=note, called_at=now, called_by=actor,
                                                     updated_at=now)
    entry.outcome, entry.note, entry.called_at, entry.called_by = outcome, note, now, actor
    return entry


def call_dial(*, actor: Staff, entry_id: int) -> str:
    """The number to dial for a call (the member's phone), recorded in the audit log as who dialled whom: the
    page never shows it to a role that may not see phones, the phone's dialer does."""
    entry = _entry_for(actor, entry_id)
    phone = member_selectors.phone_of(entry.member)
    if not phone:
        raise NotFound(_("This member has no phone number."), code="no_phone")
    audit_record(actor=actor, action="call_list.dial", target=entry.member, after={"call_list": entry.call_list_id},
                 scope_path=entry.store.path)
    return phone


# --- reads ------------------------------------------------------------------------------------------------

@dataclass
class Call:
    entry: CallListEntry
    name: str
    phone: str  # masked unless the actor may see personal data at the member's home
    may_see_phone: bool


def my_calls(*, actor: Staff, call_list_id: int | None = None, include_done: bool = True) -> list[Call]:
    """The actor's calls: entries of their bound members, and (for a store manager) the unassigned ones of their
    stores; pending first."""
    if not has_perm(actor, Perm.CALL_LIST_WORK) and not has_perm(actor, Perm.CALL_LIST_MANAGE):
        raise Forbidden()
    mine = Q(guide=actor)
    if has_perm(actor, Perm.CALL_LIST_WORK) and has_perm(actor, Perm.CALL_LIST_MANAGE):
        mine |= Q(guide__isnull=True) & scope_q(actor, Perm.CALL_LIST_MANAGE, "store__path")
    qs = (CallListEntry.objects.filter(mine, call_list__enterprise_id=actor.enterprise_id)
          .select_related("member__home", "call_list").prefetch_related("member__identities"))
    if call_list_id is not None:
        qs = qs.filter(call_list_id=call_list_id)
    if not include_done:
        qs = qs.filter(outcome=CallOutcome.PENDING)
    rows = sorted(qs[:500], key=lambda e: (e.outcome != CallOutcome.PENDING, e.call_list_id, e.pk))
    out = []
    for entry in rows:
        member = entry.member
        may_see = member_selectors.may_see_personal_data(actor, member)
        phone = member_selectors.phone_of(member)
        out.append(Call(entry, member.name or str(_("Member %(id)s") % {"id": member.pk}),
                        phone if may_see else mask_phone(phone), may_see))
    return out


def call_list_list(*, actor: Staff) -> QuerySet[CallList]:
    """Call lists with an entry in the actor's call_list.manage scope."""
    _require_manage(actor)
    ids = (CallListEntry.objects.filter(scope_q(actor, Perm.CALL_LIST_MANAGE, "store__path"),
                                        call_list__enterprise_id=actor.enterprise_id)
           .values("call_list_id"))
    return CallList.objects.filter(pk__in=ids).select_related("audience", "created_by")


@dataclass
class GuideProgress:
    guide: Staff | None  # None: members without a guide (the store manager's)
    counts: dict = field(default_factory=dict)  # outcome -> entries

    @property
    def size(self) -> int:
        return sum(self.counts.values())

    @property
    def cells(self) -> list[int]:
        """Entries per outcome, in CallOutcome's order (a table row)."""
        return [self.counts.get(value, 0) for value in CallOutcome.values]

    @property
    def done(self) -> int:
        return self.size - self.counts.get(CallOutcome.PENDING, 0)

    @property
    def percent(self) -> int:
        return self.done * 100 // self.size if self.size else 0


def call_list_progress(*, actor: Staff, call_list_id: int) -> tuple[CallList, list[GuideProgress]]:
    """Progress per guide (entries per outcome) over the entries in the actor's scope; 404 outside it."""
    call_list = call_list_list(actor=actor).filter(pk=call_list_id).first()
    if call_list is None:
        raise NotFound(_("Call list not found."), code="call_list_not_found")
    rows = (CallListEntry.objects.filter(scope_q(actor, Perm.CALL_LIST_MANAGE, "store__path"), call_list=call_list)
            .values("guide_id", "outcome").annotate(n=Count("id")))
    by_guide: dict = defaultdict(dict)
    for row in rows:
        by_guide[row["guide_id"]][row["outcome"]] = row["n"]
    staff = {s.pk: s for s in Staff.objects.filter(pk__in=[g for g in by_guide if g])}
    progress = [GuideProgress(staff.get(g), counts) for g, counts in by_guide.items()]
    progress.sort(key=lambda p: (p.guide is None, p.guide.display_name if p.guide else ""))
    return call_list, progress
