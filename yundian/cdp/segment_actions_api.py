"""Acting on a segment through the API (/api/v1/cdp/segments/{id}/...): issue a coupon campaign to it (a run with
its progress), make a guide call list from it, export its members (CSV or Excel, audited, masked per role).
Parse -> one call of cdp.segment_actions -> schema; scoped to the caller; errors in the one shape, translated."""
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from pydantic import StrictInt

from yundian.core.schemas import SafeStr, errors

from . import segment_actions

router = Router(tags=["cdp"])


class IssueIn(Schema):
    campaign_id: StrictInt


class IssueRunOut(Schema):
    id: int
    campaign_id: int
    audience_id: int
    status: str
    total: int
    issued: int
    skipped: int
    percent: int
    created_at: datetime
    finished_at: datetime | None


class CallListIn(Schema):
    name: SafeStr = Field(..., max_length=120)


class CallListOut(Schema):
    id: int
    name: str
    added: int


class ExportQuery(Schema):
    format: str = Field("csv", max_length=8)


@router.post("/segments/{segment_id}/coupon-issues", response={200: IssueRunOut, **errors(403, 404, 409)})
def segment_coupon_issue(request: HttpRequest, segment_id: int, payload: IssueIn):
    """Issue one code of a unique-code campaign to each member of the segment, once each; a large segment is
    issued by a task (status `running`; read the progress from the list)."""
    return segment_actions.segment_issue_coupons(actor=request.auth, segment_id=segment_id,
                                                 campaign_id=payload.campaign_id)


@router.get("/segments/{segment_id}/coupon-issues", response={200: list[IssueRunOut], **errors(404)})
def segment_coupon_issue_list(request: HttpRequest, segment_id: int):
    return segment_actions.segment_issue_runs(actor=request.auth, segment_id=segment_id, limit=50)


@router.post("/segments/{segment_id}/call-lists", response={200: CallListOut, **errors(403, 404)})
def segment_call_list_create(request: HttpRequest, segment_id: int, payload: CallListIn):
    """Make (or top up) a call list: each member to their bound guide, the rest to their store manager."""
    call_list, added = segment_actions.segment_call_list(actor=request.auth, segment_id=segment_id, name=payload.name)
    return {"id": call_list.pk, "name": call_list.name, "added": added}


@router.get("/segments/{segment_id}/export", response={200: None, **errors(403, 404)})
def segment_export(request: HttpRequest, segment_id: int, query: Query[ExportQuery]):
    """The segment's members as CSV or Excel (segment.export; phones masked unless personal_data.export);
    audited."""
    content_type, data, filename = segment_actions.segment_export(actor=request.auth, segment_id=segment_id,
                                                                  fmt=query.format)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
