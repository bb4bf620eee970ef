"""Acting on a segment: its members as an audience the lower contexts can check (members.Audience, one per
segment, kept equal to the segment's list), coupons issued to them (promotions), a manual tag put on (or taken off)
all of them, a guide call list (guides) and an audited, masked export.

The segment's refresh (or snapshot) calls `segment_audience_sync(segment=..., member_ids=...)` with the list it
just wrote, so a promotion "for this segment only" follows the segment within the same refresh. Every action
syncs it once more from the segment's stored list first, so an action never aims at a stale audience.
"""
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Forbidden, NotFound, ValidationFailed
from yundian.core.exports import table_file
from yundian.guides import calls
from yundian.guides.models import CallList
from yundian.members import selectors as member_selectors, services as member_services
from yundian.members.models import Audience, IdentityKind, Member, MemberStatus
from yundian.members.normalize import mask_phone
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_q
from yundian.promotions import services as promotion_services
from yundian.promotions import tasks as promotion_tasks
from yundian.promotions.models import CouponIssueRun

from . import tags as tag_services
from .models import Segment, SegmentMember, TagSource

SOURCE = "segment"
EXPORT_FORMATS = ("csv", "xlsx")
MAX_EXPORT_ROWS = 200_000


def segment_for_action(*, actor: Staff, segment_id: int) -> Segment:
    """A segment whose scope lies in the actor's member.view subtree (else 404)."""
    segment = (Segment.objects.filter(scope_q(actor, Perm.MEMBER_VIEW, "node__path"), pk=segment_id,
                                      enterprise_id=actor.enterprise_id, is_archived=False)
               .select_related("node").first())
    if segment is None:
        raise NotFound(_("Segment not found."), code="segment_not_found")
    return segment


def segment_audience_sync(*, segment: Segment, member_ids: Iterable[int] | None = None) -> Audience:
    """Make the segment's audience hold exactly its members (`member_ids`, or its stored list when not given):
    created on first use, named and owned like the segment; only the difference is written."""
    audience = member_services.audience_ensure(enterprise_id=segment.enterprise_id, node_id=segment.node_id,
                                               source=SOURCE, source_id=segment.pk, name=segment.name)
    if member_ids is None:
        member_ids = SegmentMember.objects.filter(segment=segment).values_list("member_id", flat=True).iterator(
            chunk_size=10_000)
    member_services.audience_replace(enterprise_id=segment.enterprise_id, audience_id=audience.pk,
                                     member_ids=member_ids, at=segment.refreshed_at)
    return Audience.objects.get(pk=audience.pk)


def segment_audience(*, segment: Segment) -> Audience | None:
    """The segment's audience if it has one (no write)."""
    return Audience.objects.filter(enterprise_id=segment.enterprise_id, source=SOURCE, source_id=segment.pk).first()


def segment_issue_coupons(*, actor: Staff, segment_id: int, campaign_id: int) -> CouponIssueRun:
    """Issue one code of a campaign to every member of the segment, once each (a retry or a second click reaches
    nobody twice; members who joined since get theirs). Small segments are issued now, large ones by a task whose
    run shows the progress. Audited (by promotions)."""
    segment = segment_for_action(actor=actor, segment_id=segment_id)
    if not has_perm(actor, Perm.COUPON_ISSUE):
        raise Forbidden()
    audience = segment_audience_sync(segment=segment)
    return promotion_tasks.coupon_issue_run_start(actor=actor, campaign_id=campaign_id, audience_id=audience.pk)


def segment_issue_runs(*, actor: Staff, segment_id: int, limit: int = 5) -> list[CouponIssueRun]:
    segment = segment_for_action(actor=actor, segment_id=segment_id)
    audience = segment_audience(segment=segment)
    if audience is None:
        return []
    return list(CouponIssueRun.objects.filter(audience=audience).select_related("campaign__promotion",
                                                                                 "requested_by")[:limit])


@transaction.atomic
def segment_tag_members(*, actor: Staff, segment_id: int, tag_id: int, remove: bool = False,
                        reason: str = "") -> dict:
    """Put a manual tag on every member of the segment (or take it off them) in one bulk write, each gain and loss
    kept in the members' tag history with the segment as the reason. Members the actor may not tag (outside their
    member.manage scope or the tag's node) are skipped and counted, not refused: a segment may be wider than a tag.
    Doing it again changes nothing. Audited: segment, tag, gained, lost, skipped."""
    segment = segment_for_action(actor=actor, segment_id=segment_id)
    tag = tag_services._manual_tag(actor, tag_id)
    listed = list(SegmentMember.objects.filter(segment=segment).values_list("member_id", flat=True))
    allowed = set(Member.objects.filter(
        member_selectors.member_scope_q(actor, Perm.MEMBER_MANAGE), segment_memberships(segment),
        home__path__startswith=tag.node.path, status=MemberStatus.ACTIVE, merged_into__isnull=True,
    ).values_list("id", flat=True))
    chosen = [m for m in listed if m in allowed]
    note = tag_services._clean(reason, "reason", 200, required=False)
    why = (segment.name + (f" · {note}" if note else ""))[:255]  # shown beside the source "bulk" in the history
    result = tag_services.member_tags_apply(enterprise_id=actor.enterprise_id,
                                            tag_id_by_member={m: None if remove else tag.pk for m in chosen},
                                            family={tag.pk}, source=TagSource.BULK, reason=why, actor=actor)
    outcome = {"tag": tag.name, "removed": remove, "gained": result.gained, "lost": result.lost,
               "unchanged": len(chosen) - result.gained - result.lost, "skipped": len(listed) - len(chosen)}
    audit_record(actor=actor, action="segment.tag", target=segment,
                 after={"segment": segment.name, **outcome}, scope_path=segment.node.path)
    return outcome


def segment_call_list(*, actor: Staff, segment_id: int, name: str) -> tuple[CallList, int]:
    """Make (or top up) a call list of the segment's members: each to their bound guide, the rest to their store
    manager; making it again adds only newcomers. Audited (by guides)."""
    segment = segment_for_action(actor=actor, segment_id=segment_id)
    if not has_perm(actor, Perm.CALL_LIST_MANAGE):
        raise Forbidden()
    audience = segment_audience_sync(segment=segment)
    return calls.call_list_create(actor=actor, audience_id=audience.pk, name=name)


def _export_columns() -> list:
    return [_("Member ID"), _("Name"), _("Mobile phone"), _("Home store"), _("Tier"), _("Guide"), _("Registered")]


@transaction.atomic
def segment_export(*, actor: Staff, segment_id: int, fmt: str = "csv") -> tuple[str, bytes, str]:
    """The segment's members (in the actor's scope) as CSV or Excel: segment.export at the segment's node; phones
    in full only where the actor may export personal data, masked otherwise. Audited: who, which segment, how
    many rows, masked or not. Returns (content type, bytes, file name)."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationFailed(_("Export as csv or xlsx."), code="invalid_format", details={"field": "format"})
    segment = segment_for_action(actor=actor, segment_id=segment_id)
    if not has_perm(actor, Perm.SEGMENT_EXPORT, segment.node):
        raise Forbidden()
    members = (Member.objects.filter(member_selectors.member_scope_q(actor), segment_memberships(segment))
               .select_related("home", "tier", "guide").prefetch_related("identities").order_by("pk"))
    rows, unmasked = [], 0
    for member in members[:MAX_EXPORT_ROWS]:
        phone = next((i.value for i in member.identities.all() if i.kind == IdentityKind.PHONE), "")
        full = bool(phone) and has_perm(actor, Perm.PERSONAL_DATA_EXPORT, member.home)
        unmasked += full
        rows.append([member.pk, member.name, phone if full else mask_phone(phone), member.home.name,
                     member.tier.name if member.tier_id else "", member.guide.display_name if member.guide_id else "",
                     member.created_at])
    content_type, data = table_file(_export_columns(), rows, fmt, sheet_name="segment")
    audit_record(actor=actor, action="segment.export", target=segment,
                 after={"segment": segment.name, "rows": len(rows), "format": fmt, "unmasked_phones": unmasked},
                 scope_path=segment.node.path)
    return content_type, data, f"segment-{segment.pk}.{fmt}"


def segment_memberships(segment: Segment) -> Q:
    return Q(pk__in=SegmentMember.objects.filter(segment=segment).values("member_id"))
