"""Tags API (/api/v1/cdp/...): tag groups, tags, a member's tags (list / add / remove), bulk tagging, the refresh
and the lifecycle thresholds. Parse -> one service or selector (cdp.tags) -> schema; scoped to the caller; errors
in the one shape, translated."""
from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import StrictInt
from ninja.pagination import paginate

from yundian.core.pagination import LimitOffsetPagination
from yundian.core.schemas import SafeStr, errors

from . import tags as svc
from . import tasks
from .tag_refresh import tag_label

router = Router(tags=["cdp"])


class GroupOut(Schema):
    id: int
    code: str
    name: str
    description: str
    node_id: int
    computed_key: str


class GroupIn(Schema):
    code: SafeStr = Field(..., max_length=40)
    name: SafeStr = Field(..., max_length=80)
    description: SafeStr = Field("", max_length=255)
    node_id: int | None = None


class GroupPatch(Schema):
    name: SafeStr | None = Field(None, max_length=80)
    description: SafeStr | None = Field(None, max_length=255)


class TagOut(Schema):
    id: int
    group_id: int
    code: str
    name: str
    kind: str
    description: str
    node_id: int
    rule: dict | None
    computed_key: str
    value: str
    is_active: bool
    refreshed_at: datetime | None

    @staticmethod
    def resolve_name(obj) -> str:
        return tag_label(obj)


class TagIn(Schema):
    group_id: int
    code: SafeStr = Field(..., max_length=60)
    name: SafeStr = Field(..., max_length=80)
    kind: str = Field("manual", max_length=12, description="manual or rule")
    description: SafeStr = Field("", max_length=255)
    rule: dict | None = Field(None, description="a condition tree of the segment language (rule tags)")
    node_id: int | None = None


class TagPatch(Schema):
    name: SafeStr | None = Field(None, max_length=80)
    description: SafeStr | None = Field(None, max_length=255)
    rule: dict | None = None
    is_active: bool | None = None


class TagFilter(Schema):
    group_id: int | None = None
    kind: str | None = Field(None, max_length=12)


class MemberTagOut(Schema):
    tag_id: int
    code: str
    name: str
    kind: str
    group: str
    source: str
    since: datetime
    reason: str
    by: str | None


class MemberTagIn(Schema):
    tag_id: int
    reason: SafeStr = Field("", max_length=255)


class BulkIn(Schema):
    member_ids: list[StrictInt] = Field(..., max_length=svc.MAX_BULK_MEMBERS)
    remove: bool = False
    reason: SafeStr = Field("", max_length=255)


class ApplyOut(Schema):
    gained: int
    lost: int


class LifecycleIO(Schema):
    new_days: int
    active_days: int
    dormant_days: int
    lost_days: int
    won_back_days: int


class RefreshOut(Schema):
    queued: bool
    run_id: int


@router.get("/tag-groups", response={200: list[GroupOut], **errors()})
@paginate(LimitOffsetPagination)
def tag_group_list(request: HttpRequest):
    return svc.tag_group_list(actor=request.auth)


@router.post("/tag-groups", response={201: GroupOut, **errors(403, 404, 409)})
def tag_group_create(request: HttpRequest, payload: GroupIn):
    return 201, svc.tag_group_create(actor=request.auth, **payload.dict())


@router.patch("/tag-groups/{group_id}", response={200: GroupOut, **errors(403, 404)})
def tag_group_update(request: HttpRequest, group_id: int, payload: GroupPatch):
    return svc.tag_group_update(actor=request.auth, group_id=group_id, **payload.dict())


@router.get("/tags", response={200: list[TagOut], **errors()})
@paginate(LimitOffsetPagination)
def tag_list(request: HttpRequest, filters: Query[TagFilter]):
    return svc.tag_list(actor=request.auth, group_id=filters.group_id, kind=filters.kind)


@router.post("/tags", response={201: TagOut, **errors(403, 404, 409)})
def tag_create(request: HttpRequest, payload: TagIn):
    return 201, svc.tag_create(actor=request.auth, **payload.dict())


@router.post("/tags/refresh", response={202: RefreshOut, **errors(403)})
def tags_refresh(request: HttpRequest):
    """Queue a refresh of the caller's enterprise's rule and computed tags (HQ and regions)."""
    run = tasks.tags_refresh_request(actor=request.auth)
    return 202, {"queued": True, "run_id": run.id}


@router.get("/tags/{tag_id}", response={200: TagOut, **errors(404)})
def tag_get(request: HttpRequest, tag_id: int):
    return svc.tag_get(actor=request.auth, tag_id=tag_id)


@router.patch("/tags/{tag_id}", response={200: TagOut, **errors(403, 404)})
def tag_update(request: HttpRequest, tag_id: int, payload: TagPatch):
    return svc.tag_update(actor=request.auth, tag_id=tag_id, **payload.dict(exclude_unset=True))


@router.post("/tags/{tag_id}/members", response={200: ApplyOut, **errors(403, 404)})
def tag_members_bulk(request: HttpRequest, tag_id: int, payload: BulkIn):
    """Tag (or with remove, untag) a list of members: all or nothing."""
    result = svc.member_tags_bulk(actor=request.auth, tag_id=tag_id, **payload.dict())
    return {"gained": result.gained, "lost": result.lost}


def _member_tags(request: HttpRequest, member_id: int) -> list[dict]:
    return [{"tag_id": row["tag"].id, "code": row["tag"].code, "name": tag_label(row["tag"]),
             "kind": row["tag"].kind, "group": row["tag"].group.name, "source": row["source"], "since": row["since"],
             "reason": row["reason"], "by": row["actor"].display_name if row["actor"] else None}
            for row in svc.member_tag_list(actor=request.auth, member_id=member_id)]


@router.get("/members/{member_id}/tags", response={200: list[MemberTagOut], **errors(404)})
def member_tags(request: HttpRequest, member_id: int):
    return _member_tags(request, member_id)


@router.post("/members/{member_id}/tags", response={201: list[MemberTagOut], **errors(403, 404)})
def member_tag_add(request: HttpRequest, member_id: int, payload: MemberTagIn):
    svc.member_tag_add(actor=request.auth, member_id=member_id, **payload.dict())
    return 201, _member_tags(request, member_id)


@router.delete("/members/{member_id}/tags/{tag_id}", response={200: list[MemberTagOut], **errors(403, 404)})
def member_tag_remove(request: HttpRequest, member_id: int, tag_id: int):
    svc.member_tag_remove(actor=request.auth, member_id=member_id, tag_id=tag_id)
    return _member_tags(request, member_id)


@router.get("/lifecycle", response={200: LifecycleIO, **errors()})
def lifecycle_get(request: HttpRequest):
    return svc.lifecycle_settings_get(request.auth.enterprise_id)


@router.put("/lifecycle", response={200: LifecycleIO, **errors(403)})
def lifecycle_put(request: HttpRequest, payload: LifecycleIO):
    return svc.lifecycle_settings_update(actor=request.auth, **payload.dict())
