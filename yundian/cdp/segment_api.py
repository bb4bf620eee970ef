"""Segments API (/api/v1/cdp/segments): list, create, read, change, archive, refresh; the count and a masked
preview of an unsaved definition (the builder's live count); size over time. Parse -> one service or selector
(cdp.segments) -> schema; scoped to the caller; errors in the one shape, translated."""
from datetime import date, datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from yundian.core.pagination import LimitOffsetPagination
from yundian.core.schemas import SafeStr, errors

from . import segments as svc

router = Router(tags=["cdp"])


class SegmentOut(Schema):
    id: int
    name: str
    kind: str
    node_id: int
    definition: dict
    size: int | None
    refreshed_at: datetime | None
    created_by: str
    created_at: datetime

    @staticmethod
    def resolve_created_by(obj) -> str:
        return obj.created_by.display_name


class SegmentIn(Schema):
    name: SafeStr = Field(..., max_length=80)
    definition: dict = Field(..., description="a condition tree (see cdp.conditions)")
    node_id: int | None = Field(None, description="whose members: an org node of your subtree (default: your own)")
    kind: str = Field("dynamic", max_length=8, description="dynamic or snapshot")


class SegmentPatch(Schema):
    name: SafeStr | None = Field(None, max_length=80)
    definition: dict | None = None
    node_id: int | None = None


class DefinitionIn(Schema):
    definition: dict
    node_id: int | None = None


class CountOut(Schema):
    count: int


class PreviewRowOut(Schema):
    member_id: int
    name: str
    phone: str
    tier: str
    home: str
    guide: str


class PreviewOut(Schema):
    count: int
    members: list[PreviewRowOut]


class RefreshOut(Schema):
    size: int
    added: int
    removed: int


class SizeOut(Schema):
    day: date
    size: int
    added: int
    removed: int


@router.get("", response={200: list[SegmentOut], **errors()})
@paginate(LimitOffsetPagination)
def segment_list(request: HttpRequest):
    return svc.segment_list(actor=request.auth)


@router.post("", response={201: SegmentOut, **errors(403, 404, 409)})
def segment_create(request: HttpRequest, payload: SegmentIn):
    """Save a segment and evaluate it now (a snapshot's list is frozen now)."""
    return 201, svc.segment_create(actor=request.auth, **payload.dict()).segment


@router.post("/count", response={200: CountOut, **errors(403, 404)})
def definition_count(request: HttpRequest, payload: DefinitionIn):
    """How many members an unsaved definition matches now."""
    return {"count": svc.definition_count(actor=request.auth, definition=payload.definition,
                                          node_id=payload.node_id)}


@router.post("/preview", response={200: PreviewOut, **errors(403, 404)})
def definition_preview(request: HttpRequest, payload: DefinitionIn, limit: int = 20):
    """The count and the newest matching members of an unsaved definition, phones masked per role."""
    count, rows = svc.definition_preview(actor=request.auth, definition=payload.definition, node_id=payload.node_id,
                                         limit=limit)
    return {"count": count, "members": rows}


@router.get("/{segment_id}", response={200: SegmentOut, **errors(404)})
def segment_get(request: HttpRequest, segment_id: int):
    return svc.segment_get(actor=request.auth, segment_id=segment_id)


@router.patch("/{segment_id}", response={200: SegmentOut, **errors(403, 404, 409)})
def segment_update(request: HttpRequest, segment_id: int, payload: SegmentPatch):
    return svc.segment_update(actor=request.auth, segment_id=segment_id, **payload.dict(exclude_unset=True))


@router.delete("/{segment_id}", response={204: None, **errors(403, 404)})
def segment_archive(request: HttpRequest, segment_id: int):
    svc.segment_archive(actor=request.auth, segment_id=segment_id)
    return 204, None


@router.post("/{segment_id}/refresh", response={200: RefreshOut, **errors(403, 404, 409)})
def segment_refresh(request: HttpRequest, segment_id: int):
    """Evaluate a dynamic segment again now."""
    result = svc.segment_refresh(actor=request.auth, segment_id=segment_id)
    return {"size": result.size, "added": result.added, "removed": result.removed}


@router.get("/{segment_id}/members", response={200: PreviewOut, **errors(404)})
def segment_members(request: HttpRequest, segment_id: int, limit: int = 20):
    """The size and the newest members of a saved segment's list, phones masked per role."""
    count, rows = svc.segment_preview(actor=request.auth, segment_id=segment_id, limit=limit)
    return {"count": count, "members": rows}


@router.get("/{segment_id}/sizes", response={200: list[SizeOut], **errors(404)})
def segment_sizes(request: HttpRequest, segment_id: int, days: int = 90):
    segment = svc.segment_get(actor=request.auth, segment_id=segment_id)
    return svc.segment_sizes(segment=segment, days=max(1, min(days, 730)))
