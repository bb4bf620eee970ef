"""Segments (人群): saved condition trees over the members of one org subtree, their member lists and sizes.

Reads and writes are scoped to the actor: a segment is seen where the actor holds member.view over the segment's
node, built and changed where they hold segment.manage there. A segment only ever counts members whose home lies
under its node, and its node lies inside the builder's subtree, so a region's segment never counts another
region's member.

Evaluation is `cdp.conditions` over the warehouse; the refresh writes the result back to the OLTP database in bulk
(`SegmentMember`: only the difference) with one `SegmentSize` row per day. A dynamic segment is re-evaluated on
every refresh (nightly and on demand); a snapshot is evaluated once, when taken, and its list never changes.
Creating, changing, refreshing, snapshotting and archiving are audited.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.text import clean_text
from yundian.core.warehouse import warehouse_read
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, node_to_manage, scope_q

from .conditions import condition_ids, condition_validate, count_matching, members_matching
from .models import Segment, SegmentKind, SegmentMember, SegmentSize
from .segment_actions import segment_audience_sync

BATCH = 5_000
PREVIEW_MAX = 50


# --- scope ---------------------------------------------------------------------------------------------------

def segment_node(actor: Staff, node_id: int | None) -> OrgNode:
    """The node a segment is built over: `node_id` where the actor holds segment.manage (404 outside what they see,
    403 where they see but may not build), or, when not given, the actor's own top node for segment.manage."""
    return node_to_manage(actor, node_id, view=Perm.MEMBER_VIEW, manage=Perm.SEGMENT_MANAGE, messages={
        "missing": (_("You may not build segments."), "segment_scope_missing"),
        "invalid": (_("Choose where the segment's members live."), "invalid_node"),
        "outside": (_("You may build segments only over members of your own part of the organisation."),
                    "segment_scope_outside")})


def _ids_check(actor: Staff, node: OrgNode, tree: dict) -> None:
    """Every id the tree names belongs to the enterprise (stores: inside the segment's node), else 422 naming
    what was not found."""
    from yundian.catalog.models import Category, Sku
    from yundian.members.models import Tier
    from yundian.promotions.models import CouponCampaign

    from .models import Tag

    wanted = condition_ids(tree)
    enterprise = actor.enterprise_id
    found = {
        "tier": Tier.objects.filter(enterprise_id=enterprise),
        "store": OrgNode.objects.filter(enterprise_id=enterprise, path__startswith=node.path),
        "staff": Staff.objects.filter(enterprise_id=enterprise),
        "tag": Tag.objects.filter(enterprise_id=enterprise),
        "category": Category.objects.filter(enterprise_id=enterprise),
        "sku": Sku.objects.filter(enterprise_id=enterprise),
        "campaign": CouponCampaign.objects.filter(enterprise_id=enterprise),
    }
    for what, ids in wanted.items():
        if not ids:
            continue
        known = set(found[what].filter(pk__in=ids).values_list("pk", flat=True))
        missing = sorted(set(ids) - known)
        if missing:
            raise ValidationFailed(_("Some of the chosen items do not exist or are outside the segment's scope."),
                                   code="condition_unknown_id", details={"what": what, "ids": missing[:20]})


def definition_check(actor: Staff, node: OrgNode, definition) -> dict:
    """The definition in normal form, its ids checked (422 with the bad node's path or the unknown ids)."""
    tree = condition_validate(definition)
    _ids_check(actor, node, tree)
    return tree


# --- evaluation ----------------------------------------------------------------------------------------------

def _today() -> date:
    return timezone.localdate()


def definition_count(*, actor: Staff, definition, node_id: int | None = None) -> int:
    """How many members an unsaved definition matches now, within the node (the builder's live count)."""
    node = segment_node(actor, node_id)
    tree = definition_check(actor, node, definition)
    with warehouse_read() as wh:
        return count_matching(wh, tree, enterprise_id=actor.enterprise_id, paths=[node.path], today=_today())


def _matching_ids(enterprise_id: int, node: OrgNode, tree: dict, *, limit: int | None = None) -> list[int]:
    with warehouse_read() as wh:
        table = members_matching(wh, tree, enterprise_id=enterprise_id, paths=[node.path], today=_today())
        if limit is not None:
            table = table.order_by(table.member_id.desc()).limit(limit)
        return [int(v) for v in table.to_pyarrow().column("member_id").to_pylist()]


@dataclass(frozen=True)
class PreviewRow:
    member_id: int
    name: str
    phone: str  # masked unless the actor may see personal data at the member's home
    tier: str
    home: str
    guide: str


def _preview_rows(actor: Staff, ids: list[int]) -> list[PreviewRow]:
    """The members (in the order of `ids`, those the actor may see) as preview rows, phones masked per role."""
    from yundian.members.models import Member
    from yundian.members.selectors import member_scope_q, phone_display

    members = {m.pk: m for m in Member.objects.filter(member_scope_q(actor), pk__in=ids)
               .select_related("tier", "home", "guide").prefetch_related("identities")}
    return [PreviewRow(member_id=m.pk, name=m.name, phone=phone_display(actor, m), tier=m.tier.name if m.tier else "",
                       home=m.home.name, guide=m.guide.display_name if m.guide else "")
            for m in (members[i] for i in ids if i in members)]


def _limit(limit) -> int:
    return max(1, min(limit, PREVIEW_MAX)) if isinstance(limit, int) and not isinstance(limit, bool) else 20


def definition_preview(*, actor: Staff, definition, node_id: int | None = None,
                       limit: int = 20) -> tuple[int, list[PreviewRow]]:
    """(count, the newest `limit` matching members) of an unsaved definition; phones masked per role."""
    node = segment_node(actor, node_id)
    tree = definition_check(actor, node, definition)
    with warehouse_read() as wh:
        count = count_matching(wh, tree, enterprise_id=actor.enterprise_id, paths=[node.path], today=_today())
    return count, _preview_rows(actor, _matching_ids(actor.enterprise_id, node, tree, limit=_limit(limit)))


def segment_preview(*, actor: Staff, segment_id: int, limit: int = 20) -> tuple[int, list[PreviewRow]]:
    """(size, the newest `limit` members) of a saved segment's list, for anyone who sees it; phones masked."""
    segment = segment_get(actor=actor, segment_id=segment_id)
    ids = list(SegmentMember.objects.filter(segment=segment).order_by("-member_id")
               .values_list("member_id", flat=True)[:_limit(limit)])
    return segment.size or 0, _preview_rows(actor, ids)


# --- reads ---------------------------------------------------------------------------------------------------

def segment_list(*, actor: Staff, include_archived: bool = False):
    """Segments over nodes the actor sees members of, newest first."""
    qs = (Segment.objects.filter(scope_q(actor, Perm.MEMBER_VIEW, "node__path"), enterprise_id=actor.enterprise_id)
          .select_related("node", "created_by"))
    return qs if include_archived else qs.filter(is_archived=False)


def segment_get(*, actor: Staff, segment_id: int) -> Segment:
    if isinstance(segment_id, bool) or not isinstance(segment_id, int):
        raise NotFound(_("Segment not found."), code="segment_not_found")
    segment = segment_list(actor=actor).filter(pk=segment_id).first()
    if segment is None:
        raise NotFound(_("Segment not found."), code="segment_not_found")
    return segment


def _managed(actor: Staff, segment_id: int) -> Segment:
    segment = segment_get(actor=actor, segment_id=segment_id)
    if not has_perm(actor, Perm.SEGMENT_MANAGE, segment.node):
        raise Forbidden(_("You may change only the segments of your own part of the organisation."),
                        code="segment_not_yours")
    return segment


def segment_sizes(*, segment: Segment, days: int = 90) -> list[SegmentSize]:
    """The segment's size per day (the day's last refresh), oldest first, the last `days` days."""
    return list(SegmentSize.objects.filter(segment=segment).order_by("-day")[:days])[::-1]


def segment_member_ids(segment: Segment) -> Iterable[int]:
    return SegmentMember.objects.filter(segment=segment).values_list("member_id", flat=True).iterator(
        chunk_size=10_000)


# --- writes --------------------------------------------------------------------------------------------------

def _clean_name(name) -> str:
    return clean_text(name, "name", 80, required=True)


def _clean_kind(kind) -> str:
    if kind not in SegmentKind.values:
        raise ValidationFailed(_("A segment is dynamic or a snapshot."), code="invalid_kind", details={"field": "kind"})
    return kind


def _audit_state(segment: Segment) -> dict:
    return {"name": segment.name, "kind": segment.kind, "node": segment.node_id, "definition": segment.definition}


@dataclass(frozen=True)
class RefreshResult:
    segment: Segment
    size: int
    added: int
    removed: int


def _write_members(segment: Segment, member_ids: list[int], at) -> tuple[int, int]:
    """Make SegmentMember hold exactly `member_ids` (existing members of the enterprise): bulk, only the difference."""
    from yundian.members.models import Member

    wanted = set(member_ids)
    known: set[int] = set()
    ordered = sorted(wanted)
    for start in range(0, len(ordered), BATCH):
        chunk = ordered[start:start + BATCH]
        known.update(Member.objects.filter(enterprise_id=segment.enterprise_id, pk__in=chunk)
                     .values_list("pk", flat=True))
    current = set(SegmentMember.objects.filter(segment=segment).values_list("member_id", flat=True))
    gone, new = sorted(current - known), sorted(known - current)
    for start in range(0, len(gone), BATCH):
        SegmentMember.objects.filter(segment=segment, member_id__in=gone[start:start + BATCH]).delete()
    SegmentMember.objects.bulk_create([SegmentMember(segment=segment, member_id=m, added_at=at) for m in new],
                                      batch_size=2_000)
    return len(new), len(gone)


def _evaluate_and_write(segment: Segment, *, actor: Staff | None, action: str) -> RefreshResult:
    """Evaluate in the warehouse (no lock held), then lock the segment row, write the list and the day's size."""
    member_ids = _matching_ids(segment.enterprise_id, segment.node, segment.definition)
    at = timezone.now()
    with transaction.atomic():
        locked = Segment.objects.select_for_update().get(pk=segment.pk)
        if locked.is_archived:
            raise NotFound(_("Segment not found."), code="segment_not_found")
        if locked.kind == SegmentKind.SNAPSHOT and locked.refreshed_at is not None:
            raise Conflict(_("A snapshot is frozen; make a new segment to count again."), code="segment_frozen")
        added, removed = _write_members(locked, member_ids, at)
        size = SegmentMember.objects.filter(segment=locked).count()
        Segment.objects.filter(pk=locked.pk).update(size=size, refreshed_at=at, updated_at=at)
        SegmentSize.objects.update_or_create(segment=locked, day=timezone.localdate(at), defaults={
            "size": size, "added": added, "removed": removed, "measured_at": at})
        locked.size, locked.refreshed_at = size, at
        # the members' audience (what promotions and guides check) follows the list in the same transaction
        segment_audience_sync(segment=locked)
        audit_record(actor=actor, action=f"segment.{action}", target=locked, enterprise=locked.enterprise,
                     scope_path=locked.node.path, after={"size": size, "added": added, "removed": removed})
    return RefreshResult(locked, size, added, removed)


def segment_create(*, actor: Staff, name, definition, node_id: int | None = None,
                   kind: str = SegmentKind.DYNAMIC) -> RefreshResult:
    """Save a segment over the node (segment.manage there) and evaluate it at once: a snapshot's list is frozen
    now. The name is unique among the enterprise's live segments (409 segment_name_taken). Audited."""
    node = segment_node(actor, node_id)
    name = _clean_name(name)
    kind = _clean_kind(kind)
    tree = definition_check(actor, node, definition)
    try:
        with transaction.atomic():
            segment = Segment.objects.create(enterprise_id=actor.enterprise_id, node=node, name=name,
                                             definition=tree, kind=kind, created_by=actor)
            audit_record(actor=actor, action="segment.create", target=segment, scope_path=node.path,
                         after=_audit_state(segment))
    except IntegrityError:
        raise Conflict(_("Another segment already has this name."), code="segment_name_taken",
                       details={"field": "name"})
    return _evaluate_and_write(segment, actor=actor, action="snapshot" if kind == SegmentKind.SNAPSHOT else "refresh")


def segment_update(*, actor: Staff, segment_id: int, name=None, definition=None,
                   node_id: int | None = None) -> Segment:
    """Rename a segment, or change a dynamic one's conditions or node (then it is evaluated again). A snapshot's
    conditions are frozen (409 segment_frozen). Audited with before and after."""
    segment = _managed(actor, segment_id)
    changes: dict = {}
    if name is not None:
        changes["name"] = _clean_name(name)
    if definition is not None or node_id is not None:
        if segment.kind == SegmentKind.SNAPSHOT:
            raise Conflict(_("A snapshot is frozen; make a new segment to count again."), code="segment_frozen")
        node = segment_node(actor, node_id) if node_id is not None else segment.node
        changes["node"] = node
        changes["definition"] = definition_check(actor, node, definition if definition is not None
                                                 else segment.definition)
    before = _audit_state(segment)
    try:
        with transaction.atomic():
            for field, value in changes.items():
                setattr(segment, field, value)
            segment.save()
            audit_record(actor=actor, action="segment.update", target=segment, scope_path=segment.node.path,
                         before=before, after=_audit_state(segment))
    except IntegrityError:
        raise Conflict(_("Another segment already has this name."), code="segment_name_taken",
                       details={"field": "name"})
    if "definition" in changes and changes["definition"] != before["definition"] or (
            "node" in changes and changes["node"].pk != before["node"]):
        return _evaluate_and_write(segment, actor=actor, action="refresh").segment
    return segment


def segment_refresh(*, actor: Staff | None, segment_id: int) -> RefreshResult:
    """Evaluate a dynamic segment again: its list becomes exactly the members matching now, today's size is
    recorded. `actor` None is the nightly task. Audited. Locks: the segment row (after the warehouse read)."""
    if actor is None:
        segment = Segment.objects.select_related("node").get(pk=segment_id)
    else:
        segment = _managed(actor, segment_id)
    if segment.kind == SegmentKind.SNAPSHOT:
        raise Conflict(_("A snapshot is frozen; make a new segment to count again."), code="segment_frozen")
    return _evaluate_and_write(segment, actor=actor, action="refresh")


def segment_archive(*, actor: Staff, segment_id: int) -> Segment:
    """Archive a segment (its name is free again; its list and history are kept). Audited."""
    segment = _managed(actor, segment_id)
    with transaction.atomic():
        Segment.objects.filter(pk=segment.pk).update(is_archived=True, updated_at=timezone.now())
        segment.is_archived = True
        audit_record(actor=actor, action="segment.archive", target=segment, scope_path=segment.node.path,
                     before={"is_archived": False}, after={"is_archived": True})
    return segment


def segments_refresh_all() -> int:
    """Every live dynamic segment refreshed (the nightly task); segments refreshed."""
    done = 0
    for segment_id in Segment.objects.filter(kind=SegmentKind.DYNAMIC, is_archived=False).values_list("pk", flat=True):
        segment_refresh(actor=None, segment_id=segment_id)
        done += 1
    return done
