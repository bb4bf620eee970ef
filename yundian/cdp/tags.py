"""Tags (标签): groups and tags, members tagged by hand, in bulk or from a file, and the one bulk writer every
refresh uses. Every write here is a service (keyword-only, takes the acting staff, atomic); reads are scoped.

Scope. A group or tag belongs to an org node. An actor sees the tags of HQ and of every node on the way down to
their own scope (a region manager of East sees HQ's and East's, never West's), and defines groups and tags on
nodes inside the scope where they hold `tag.manage` (HQ everywhere; a region within its subtree). A member may
hold a tag only if the member's home store lies within the tag's node.

History. Every gain and loss is a TagChange row (insert-only) with the source, the reason and the actor, written
in the same transaction as the MemberTag row it explains. `member_tags_apply` is the bulk writer: it diffs what is
wanted against what is held and writes only the difference, with bulk queries (never one query per member).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.members.models import Member, MemberStatus
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_paths

from .models import ComputedKey, LifecycleSettings, MemberScore, MemberTag, Tag, TagChange, TagGroup, TagKind, TagSource

BATCH = 5_000
MAX_BULK_MEMBERS = 100_000


# --- scope ---------------------------------------------------------------------------------------------------------

def tag_visible_q(actor: Staff, prefix: str = "") -> Q:
    """Tags (or groups, with prefix "") the actor may see: on a node above, at or below where they see members."""
    paths = scope_paths(actor, Perm.MEMBER_VIEW)
    if not paths:
        return Q(pk__in=[])
    q = Q()
    for path in paths:
        q |= Q(**{f"{prefix}node__path__startswith": path})
        ancestors = ["/" + "/".join(path.strip("/").split("/")[:i]) + "/" for i in range(1, path.count("/"))]
        q |= Q(**{f"{prefix}node__path__in": ancestors})
    return q & Q(**{f"{prefix}enterprise_id": actor.enterprise_id})


def _manage_node(actor: Staff, node_id: int | None) -> OrgNode:
    """The node a group or tag is defined on: the actor's top node for tag.manage unless named; 403 outside."""
    paths = scope_paths(actor, Perm.TAG_MANAGE)
    if not paths:
        raise Forbidden()
    if node_id is None:
        node = OrgNode.objects.filter(enterprise_id=actor.enterprise_id, path=paths[0]).first()
    else:
        node = OrgNode.objects.filter(enterprise_id=actor.enterprise_id, pk=node_id).first()
    if node is None:
        raise NotFound(_("Org node not found."), code="node_not_found")
    if not has_perm(actor, Perm.TAG_MANAGE, node):
        raise Forbidden(_("You may define tags only within your own part of the organisation."),
                        code="tag_scope_forbidden")
    return node


def tag_group_list(*, actor: Staff) -> QuerySet[TagGroup]:
    return (TagGroup.objects.filter(tag_visible_q(actor)).select_related("node")
            .annotate(tag_count=Count("tags", filter=Q(tags__is_active=True))).order_by("node__depth", "id"))


def tag_group_get(*, actor: Staff, group_id: int) -> TagGroup:
    group = TagGroup.objects.filter(tag_visible_q(actor), pk=group_id).select_related("node").first()
    if group is None:
        raise NotFound(_("Tag group not found."), code="tag_group_not_found")
    return group


def tag_list(*, actor: Staff, group_id: int | None = None, kind: str | None = None,
             include_inactive: bool = False) -> QuerySet[Tag]:
    qs = Tag.objects.filter(tag_visible_q(actor)).select_related("group", "node")
    if group_id is not None:
        qs = qs.filter(group_id=group_id)
    if kind:
        qs = qs.filter(kind=kind)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("group__node__depth", "group_id", "id")


def tag_get(*, actor: Staff, tag_id: int) -> Tag:
    tag = Tag.objects.filter(tag_visible_q(actor), pk=tag_id).select_related("group", "node").first()
    if tag is None:
        raise NotFound(_("Tag not found."), code="tag_not_found")
    return tag


def tag_holder_counts(tag_ids: Iterable[int], *, actor: Staff | None = None) -> dict[int, int]:
    """Members holding each tag (within the actor's member scope when given), in one query."""
    qs = MemberTag.objects.filter(tag_id__in=list(tag_ids))
    if actor is not None:
        qs = qs.filter(_member_scope(actor, "member__home__path"))
    return dict(qs.values_list("tag_id").annotate(n=Count("id")).values_list("tag_id", "n"))


def _member_scope(actor: Staff, field: str, perm: str = Perm.MEMBER_VIEW) -> Q:
    paths = scope_paths(actor, perm)
    if not paths:
        return Q(pk__in=[])
    q = Q()
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


# --- groups and tags -------------------------------------------------------------------------------------------------

def _clean(value, field: str, max_length: int, *, required: bool = True) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ValidationFailed(_("This field must be text."), code="invalid_text", details={"field": field})
    if required and not text:
        raise ValidationFailed(_("This field is required."), code="required", details={"field": field})
    if len(text) > max_length:
        raise ValidationFailed(_("This text is too long."), code="too_long", details={"field": field})
    return text


def _clean_code(value, field: str = "code", max_length: int = 40) -> str:
    code = _clean(value, field, max_length)
    if not all(c.isascii() and (c.isalnum() or c in "-_.") for c in code):
        raise ValidationFailed(_("A code may hold only letters, digits, '-', '_' and '.'."), code="invalid_code",
                               details={"field": field})
    return code


def _group_snapshot(group: TagGroup) -> dict:
    return {"code": group.code, "name": group.name, "description": group.description, "node": group.node_id}


def _tag_snapshot(tag: Tag) -> dict:
    return {"code": tag.code, "name": tag.name, "description": tag.description, "kind": tag.kind, "rule": tag.rule,
            "group": tag.group_id, "node": tag.node_id, "is_active": tag.is_active}


@transaction.atomic
def tag_group_create(*, actor: Staff, name: str, code: str, description: str = "",
                     node_id: int | None = None) -> TagGroup:
    """Define a tag group on a node where the actor holds tag.manage (their top node by default). Audited."""
    node = _manage_node(actor, node_id)
    group = TagGroup(enterprise_id=actor.enterprise_id, node=node, code=_clean_code(code),
                     name=_clean(name, "name", 80), description=_clean(description, "description", 255, required=False))
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise Conflict(_("Another tag group already has this code."), code="duplicate_code", details={"field": "code"})
    audit_record(actor=actor, action="cdp.tag_group.create", target=group, after=_group_snapshot(group),
                 scope_path=node.path)
    return group


def _editable_group(actor: Staff, group_id: int) -> TagGroup:
    group = tag_group_get(actor=actor, group_id=group_id)
    if not has_perm(actor, Perm.TAG_MANAGE, group.node):
        raise Forbidden(_("You may change only the tags defined within your own part of the organisation."),
                        code="tag_scope_forbidden")
    return group


@transaction.atomic
def tag_group_update(*, actor: Staff, group_id: int, name: str | None = None,
                     description: str | None = None) -> TagGroup:
    """Rename or describe a group the actor may manage. Audited with before and after."""
    group = _editable_group(actor, group_id)
    before = _group_snapshot(group)
    if name is not None:
        group.name = _clean(name, "name", 80)
    if description is not None:
        group.description = _clean(description, "description", 255, required=False)
    group.save()
    audit_record(actor=actor, action="cdp.tag_group.update", target=group, before=before,
                 after=_group_snapshot(group), scope_path=group.node.path)
    return group


def _clean_rule(rule):
    if not isinstance(rule, dict) or not rule:
        raise ValidationFailed(_("A rule tag needs a condition."), code="rule_required", details={"field": "rule"})
    from .conditions import condition_validate  # the condition language (cdp.conditions)

    return condition_validate(rule)


@transaction.atomic
def tag_create(*, actor: Staff, group_id: int, name: str, code: str, kind: str = TagKind.MANUAL,
               description: str = "", rule: dict | None = None, node_id: int | None = None) -> Tag:
    """Define a manual or rule tag in a group (computed tags are the system's). The tag sits on the group's node
    or below it, where the actor holds tag.manage. A rule is checked by cdp.conditions. Audited."""
    group = tag_group_get(actor=actor, group_id=group_id)
    if group.computed_key:
        raise ValidationFailed(_("This group holds computed tags only; the system keeps them."),
                               code="group_is_computed", details={"field": "group_id"})
    if kind not in (TagKind.MANUAL, TagKind.RULE):
        raise ValidationFailed(_("Tags are manual or rule tags; computed tags are kept by the system."),
                               code="invalid_kind", details={"field": "kind"})
    node = _manage_node(actor, node_id if node_id is not None else group.node_id)
    if not node.path.startswith(group.node.path):
        raise ValidationFailed(_("A tag must sit within its group's part of the organisation."),
                               code="node_outside_group", details={"field": "node_id"})
    tag = Tag(enterprise_id=actor.enterprise_id, group=group, node=node, code=_clean_code(code, max_length=60),
              name=_clean(name, "name", 80), description=_clean(description, "description", 255, required=False),
              kind=kind, rule=_clean_rule(rule) if kind == TagKind.RULE else None)
    try:
        with transaction.atomic():
            tag.save()
    except IntegrityError:
        raise Conflict(_("Another tag already has this code."), code="duplicate_code", details={"field": "code"})
    audit_record(actor=actor, action="cdp.tag.create", target=tag, after=_tag_snapshot(tag), scope_path=node.path)
    return tag


@transaction.atomic
def tag_update(*, actor: Staff, tag_id: int, name: str | None = None, description: str | None = None,
               rule: dict | None = None, is_active: bool | None = None) -> Tag:
    """Rename, describe, change the rule of, or (de)activate a manual or rule tag. A deactivated tag keeps its
    holders and history but is not offered for tagging and not refreshed. Audited with before and after."""
    tag = tag_get(actor=actor, tag_id=tag_id)
    if tag.kind == TagKind.COMPUTED:
        raise ValidationFailed(_("Computed tags are kept by the system."), code="tag_is_computed")
    if not has_perm(actor, Perm.TAG_MANAGE, tag.node):
        raise Forbidden(_("You may change only the tags defined within your own part of the organisation."),
                        code="tag_scope_forbidden")
    before = _tag_snapshot(tag)
    if name is not None:
        tag.name = _clean(name, "name", 80)
    if description is not None:
        tag.description = _clean(description, "description", 255, required=False)
    if rule is not None:
        if tag.kind != TagKind.RULE:
            raise ValidationFailed(_("Only rule tags have a rule."), code="not_a_rule_tag", details={"field": "rule"})
        tag.rule = _clean_rule(rule)
    if is_active is not None:
        tag.is_active = bool(is_active)
    tag.save()
    audit_record(actor=actor, action="cdp.tag.update", target=tag, before=before, after=_tag_snapshot(tag),
                 scope_path=tag.node.path)
    return tag


# --- the bulk writer ---------------------------------------------------------------------------------------------------

@dataclass
class ApplyResult:
    gained: int = 0
    lost: int = 0


def member_tags_apply(*, enterprise_id: int, tag_id_by_member: dict[int, int | None], source: str, reason: str,
                      family: Iterable[int] | None = None, key: str | None = None, complete: bool = False,
                      actor: Staff | None = None, now=None) -> ApplyResult:
    """Make each member hold exactly the tag the mapping names among `family` (None: none of them), writing only
    the difference: MemberTag rows deleted and created in bulk, one TagChange row per gain and per loss.

    `family` is the set of tags this write decides (default: the tags of computed `key`, else the tags named in
    the mapping). With `complete`, members absent from the mapping lose the family's tags too (a full refresh).
    No locks: MemberTag's (member, tag) uniqueness makes a concurrent writer fail instead of doubling a row."""
    if source not in TagSource.values:
        raise ValidationFailed(_("Unknown tag source."), code="invalid_source")
    if family is not None:
        family_ids = set(family)
    elif key is not None:
        family_ids = set(Tag.objects.filter(enterprise_id=enterprise_id, computed_key=key).values_list("id", flat=True))
    else:
        family_ids = {t for t in tag_id_by_member.values() if t is not None}
    stray = {t for t in tag_id_by_member.values() if t is not None} - family_ids
    if stray:
        raise ValidationFailed(_("A tag outside the family was named."), code="tag_outside_family",
                               details={"tags": sorted(stray)[:10]})
    if not family_ids:
        return ApplyResult()
    now = now or timezone.now()
    held = MemberTag.objects.filter(enterprise_id=enterprise_id, tag_id__in=family_ids)
    current: dict[int, dict[int, int]] = {}  # member -> {tag: MemberTag id}
    if complete:
        rows = held.values_list("member_id", "tag_id", "id").iterator(chunk_size=BATCH)
        for member_id, tag_id, row_id in rows:
            current.setdefault(member_id, {})[tag_id] = row_id
    else:
        members = list(tag_id_by_member)
        for start in range(0, len(members), BATCH):
            for member_id, tag_id, row_id in held.filter(member_id__in=members[start:start + BATCH]).values_list(
                    "member_id", "tag_id", "id"):
                current.setdefault(member_id, {})[tag_id] = row_id
    delete_ids: list[int] = []
    changes: list[TagChange] = []
    creates: list[MemberTag] = []
    actor_id = actor.pk if actor is not None else None
    for member_id, holding in current.items():
        wanted = tag_id_by_member.get(member_id)
        if member_id not in tag_id_by_member and not complete:
            continue
        for tag_id, row_id in holding.items():
            if tag_id != wanted:
                delete_ids.append(row_id)
                changes.append(TagChange(enterprise_id=enterprise_id, member_id=member_id, tag_id=tag_id, gained=False,
                                         source=source, reason=reason[:255], actor_id=actor_id, at=now))
    for member_id, tag_id in tag_id_by_member.items():
        if tag_id is not None and tag_id not in current.get(member_id, {}):
            creates.append(MemberTag(enterprise_id=enterprise_id, member_id=member_id, tag_id=tag_id, source=source,
                                     since=now, actor_id=actor_id))
            changes.append(TagChange(enterprise_id=enterprise_id, member_id=member_id, tag_id=tag_id, gained=True,
                                     source=source, reason=reason[:255], actor_id=actor_id, at=now))
    with transaction.atomic():
        for start in range(0, len(delete_ids), BATCH):
            MemberTag.objects.filter(pk__in=delete_ids[start:start + BATCH]).delete()
        MemberTag.objects.bulk_create(creates, batch_size=BATCH)
        TagChange.objects.bulk_create(changes, batch_size=BATCH)
    return ApplyResult(gained=len(creates), lost=len(delete_ids))


# --- manual tagging --------------------------------------------------------------------------------------------------

def _manual_tag(actor: Staff, tag_id: int) -> Tag:
    tag = tag_get(actor=actor, tag_id=tag_id)
    if tag.kind != TagKind.MANUAL:
        raise ValidationFailed(_("Only manual tags are put on or taken off by hand; rule and computed tags follow "
                                 "their members' data."), code="tag_not_manual", details={"field": "tag_id"})
    if not tag.is_active:
        raise ValidationFailed(_("This tag is no longer in use."), code="tag_inactive", details={"field": "tag_id"})
    return tag


def _taggable_members(actor: Staff, tag: Tag, member_ids: list[int]) -> tuple[list[int], list[int]]:
    """(members the actor may tag with `tag`, the ids that are not: unknown, out of scope, merged or erased)."""
    ok = set(Member.objects.filter(
        _member_scope(actor, "home__path", Perm.MEMBER_MANAGE), pk__in=member_ids, enterprise_id=actor.enterprise_id,
        home__path__startswith=tag.node.path, status=MemberStatus.ACTIVE, merged_into__isnull=True,
    ).values_list("id", flat=True))
    return [m for m in member_ids if m in ok], [m for m in member_ids if m not in ok]


def _member_ids(values) -> list[int]:
    if not isinstance(values, (list, tuple)) or not values:
        raise ValidationFailed(_("Name at least one member."), code="members_required", details={"field": "member_ids"})
    if len(values) > MAX_BULK_MEMBERS:
        raise ValidationFailed(_("Too many members at once."), code="too_many_members",
                               details={"field": "member_ids", "max": MAX_BULK_MEMBERS})
    ids = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2 ** 63:
            raise ValidationFailed(_("Member ids are whole numbers."), code="invalid_member_id",
                                   details={"field": "member_ids"})
        ids.append(value)
    return list(dict.fromkeys(ids))


@transaction.atomic
def member_tag_add(*, actor: Staff, member_id: int, tag_id: int, reason: str = "") -> bool:
    """Put a manual tag on one member of the actor's scope (within the tag's node); True if they gained it."""
    tag = _manual_tag(actor, tag_id)
    ok, refused = _taggable_members(actor, tag, [member_id])
    if refused:
        raise NotFound(_("Member not found."), code="member_not_found")
    result = member_tags_apply(enterprise_id=actor.enterprise_id, tag_id_by_member={member_id: tag.id},
                               family={tag.id}, source=TagSource.MANUAL,
                               reason=_clean(reason, "reason", 255, required=False), actor=actor)
    return result.gained == 1


@transaction.atomic
def member_tag_remove(*, actor: Staff, member_id: int, tag_id: int, reason: str = "") -> bool:
    """Take a manual tag off one member; True if they held it."""
    tag = _manual_tag(actor, tag_id)
    ok, refused = _taggable_members(actor, tag, [member_id])
    if refused:
        raise NotFound(_("Member not found."), code="member_not_found")
    result = member_tags_apply(enterprise_id=actor.enterprise_id, tag_id_by_member={member_id: None},
                               family={tag.id}, source=TagSource.MANUAL,
                               reason=_clean(reason, "reason", 255, required=False), actor=actor)
    return result.lost == 1


@transaction.atomic
def member_tags_bulk(*, actor: Staff, tag_id: int, member_ids: list[int], remove: bool = False,
                     reason: str = "") -> ApplyResult:
    """Tag (or untag) a list of members at once. All or nothing: one member outside the actor's scope or the
    tag's node refuses the whole list (422 with the ids)."""
    tag = _manual_tag(actor, tag_id)
    ids = _member_ids(member_ids)
    ok, refused = _taggable_members(actor, tag, ids)
    if refused:
        raise ValidationFailed(_("Some members cannot be tagged: not found, outside your scope or the tag's."),
                               code="members_not_taggable", details={"member_ids": refused[:50]})
    return member_tags_apply(enterprise_id=actor.enterprise_id, tag_id_by_member={m: None if remove else tag.id
                                                                                  for m in ok},
                             family={tag.id}, source=TagSource.BULK,
                             reason=_clean(reason, "reason", 255, required=False), actor=actor)


def member_profiles_erase(member_ids: list[int]) -> int:
    """An erased member keeps no profile: their tags, tag history and scores go (called by the sync when it reads a
    member.erased change; deleting twice is harmless). The number of rows deleted."""
    deleted = 0
    for model in (MemberTag, TagChange, MemberScore):
        deleted += model.objects.filter(member_id__in=member_ids).delete()[0]
    return deleted


# --- lifecycle thresholds ----------------------------------------------------------------------------------------------

LIFECYCLE_FIELDS = ("new_days", "active_days", "dormant_days", "lost_days", "won_back_days")


def lifecycle_settings_get(enterprise_id: int) -> LifecycleSettings:
    settings, _created = LifecycleSettings.objects.get_or_create(enterprise_id=enterprise_id)
    return settings


@transaction.atomic
def lifecycle_settings_update(*, actor: Staff, **values) -> LifecycleSettings:
    """HQ sets the lifecycle thresholds (days). Refused unless new ≤ active, won back ≤ active and
    active < dormant < lost, each 1-3650. Audited with before and after."""
    root = OrgNode.objects.filter(enterprise_id=actor.enterprise_id, parent__isnull=True).first()
    if root is None or not has_perm(actor, Perm.TAG_MANAGE, root):
        raise Forbidden(_("Only headquarters sets the lifecycle thresholds."), code="hq_only")
    settings = LifecycleSettings.objects.select_for_update().get(pk=lifecycle_settings_get(actor.enterprise_id).pk)
    before = {f: getattr(settings, f) for f in LIFECYCLE_FIELDS}
    after = dict(before)
    for name, value in values.items():
        if name not in LIFECYCLE_FIELDS:
            raise ValidationFailed(_("Unknown setting."), code="unknown_field", details={"field": name})
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
            raise ValidationFailed(_("Enter a number of days from 1 to 3650."), code="invalid_days",
                                   details={"field": name})
        after[name] = value
    if not (after["new_days"] <= after["active_days"] and after["won_back_days"] <= after["active_days"]):
        raise ValidationFailed(_("'New' and 'won back' cannot last longer than 'active'."), code="thresholds_order",
                               details={"field": "active_days"})
    if not after["active_days"] < after["dormant_days"] < after["lost_days"]:
        raise ValidationFailed(_("The days must grow: active, then dormant, then lost."), code="thresholds_order",
                               details={"field": "dormant_days"})
    for name, value in after.items():
        setattr(settings, name, value)
    settings.updated_by = actor
    settings.save()
    audit_record(actor=actor, action="cdp.lifecycle.update", target=settings, before=before, after=after,
                 scope_path=root.path)
    return settings


def computed_key_label(key: str) -> str:
    return str(dict(ComputedKey.choices).get(key, key))


def member_tag_list(*, actor: Staff, member_id: int) -> list[dict]:
    """The member's tags the actor may see, each with where it came from: source, since, who and why (the reason
    of the change that gave it). 404 for a member outside the actor's scope."""
    from yundian.members.selectors import member_get

    member = member_get(actor=actor, member_id=member_id)
    rows = list(MemberTag.objects.filter(member=member).filter(tag_visible_q(actor, "tag__"))
                .select_related("tag__group", "actor").order_by("tag__group_id", "tag_id"))
    reasons = {}
    for tag_id, reason in (TagChange.objects.filter(member=member, gained=True, tag_id__in=[r.tag_id for r in rows])
                           .order_by("id").values_list("tag_id", "reason")):
        reasons[tag_id] = reason  # the latest gain's reason wins
    return [{"tag": r.tag, "source": r.source, "since": r.since, "actor": r.actor, "reason": reasons.get(r.tag_id, "")}
            for r in rows]


def tag_change_list(*, actor: Staff, member_id: int, limit: int = 50) -> list[TagChange]:
    """The member's latest tag changes (tags the actor may see), newest first."""
    from yundian.members.selectors import member_get

    member = member_get(actor=actor, member_id=member_id)
    return list(TagChange.objects.filter(member=member).filter(tag_visible_q(actor, "tag__"))
                .select_related("tag", "actor").order_by("-at", "-id")[:limit])


def tag_refresh_latest(enterprise_id: int):
    from .models import TagRefreshRun

    return TagRefreshRun.objects.filter(enterprise_id=enterprise_id).order_by("-id").first()
