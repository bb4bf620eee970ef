"""Journeys API (/api/v1/journeys): list, read, create, save a draft, publish, pause, resume, stop, results, and
enrol a member in a journey whose entry is "API call". Parse -> one service or selector -> schema; scoped to
the caller; errors in the one shape, translated."""
from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from yundian.core.idempotency import run_idempotent
from yundian.core.pagination import LimitOffsetPagination
from yundian.core.schemas import SafeStr, errors

from . import services
from .results import results_compute
from .services import journey_enrol_api

router = Router(tags=["journeys"])


class JourneyOut(Schema):
    id: int
    name: str
    description: str
    status: str
    node_id: int
    trigger: str
    goal: dict
    version: int | None
    draft: dict
    published_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_version(obj) -> int | None:
        return obj.live_version.number if obj.live_version_id else None


class JourneyIn(Schema):
    name: SafeStr = Field(..., max_length=80)
    description: SafeStr = Field("", max_length=255)
    node_id: int | None = Field(None, description="whose members: an org node of your subtree (default: your own)")
    graph: dict | None = Field(None, description="{nodes, edges} (see journeys.graph)")
    goal: dict | None = Field(None, description='{"kind": "order", "days": 7} or {"kind": "event", "event", "days"}')


class DraftIn(Schema):
    graph: dict | None = None
    name: SafeStr | None = Field(None, max_length=80)
    description: SafeStr | None = Field(None, max_length=255)
    goal: dict | None = None


class VersionOut(Schema):
    number: int
    published_at: datetime


class EnrolIn(Schema):
    member_id: int
    key: SafeStr | None = Field(None, max_length=64, description="the client's key (or the Idempotency-Key header)")


class EnrolOut(Schema):
    enrolled: bool
    enrolment_id: int | None
    status: str | None


class UpliftOut(Schema):
    treated: int
    treated_converted: int
    control: int
    control_converted: int
    treated_rate: float | None
    control_rate: float | None
    difference: float | None
    low: float | None
    high: float | None
    relative: float | None
    confidence: float


class NodeCountOut(Schema):
    entered: int
    passed: int
    waiting: int
    exited: int


class ResultsOut(Schema):
    enrolled: int
    active: int
    done: int
    exited: int
    goal: dict
    uplift: UpliftOut
    revenue: int = Field(..., description="fen")
    coupon_cost: int = Field(..., description="fen")
    coupons_issued: int
    nodes: dict[str, NodeCountOut]


@router.get("", response={200: list[JourneyOut], **errors()})
@paginate(LimitOffsetPagination)
def journey_list(request: HttpRequest, status: str | None = None):
    return services.journey_list(actor=request.auth, status=status)


@router.post("", response={201: JourneyOut, **errors(403, 404)})
def journey_create(request: HttpRequest, payload: JourneyIn):
    """A new draft journey."""
    return Status(201, services.journey_create(actor=request.auth, **payload.dict()))


@router.get("/{journey_id}", response={200: JourneyOut, **errors(404)})
def journey_get(request: HttpRequest, journey_id: int):
    return services.journey_get(actor=request.auth, journey_id=journey_id)


@router.patch("/{journey_id}", response={200: JourneyOut, **errors(403, 404, 409)})
def journey_draft_save(request: HttpRequest, journey_id: int, payload: DraftIn):
    """Save the draft (an unfinished graph is fine), name, description or goal."""
    return services.journey_draft_save(actor=request.auth, journey_id=journey_id,
                                       **payload.dict(exclude_unset=True))


@router.post("/{journey_id}/publish", response={201: VersionOut, **errors(403, 404, 409)})
def journey_publish(request: HttpRequest, journey_id: int):
    """Publish the draft as the next version (422 journey_invalid lists every issue of the graph)."""
    return Status(201, services.journey_publish(actor=request.auth, journey_id=journey_id))


@router.post("/{journey_id}/pause", response={200: JourneyOut, **errors(403, 404, 409)})
def journey_pause(request: HttpRequest, journey_id: int):
    return services.journey_pause(actor=request.auth, journey_id=journey_id)


@router.post("/{journey_id}/resume", response={200: JourneyOut, **errors(403, 404, 409)})
def journey_resume(request: HttpRequest, journey_id: int):
    return services.journey_resume(actor=request.auth, journey_id=journey_id)


@router.post("/{journey_id}/stop", response={200: JourneyOut, **errors(403, 404, 409)})
def journey_stop(request: HttpRequest, journey_id: int):
    """End the journey for good: every member still in it is exited."""
    return services.journey_stop(actor=request.auth, journey_id=journey_id)


@router.get("/{journey_id}/results", response={200: ResultsOut, **errors(404)})
def journey_results_get(request: HttpRequest, journey_id: int):
    """Per node entered / passed / waiting / exited; goal conversion, revenue, coupon cost, uplift vs holdout."""
    journey = services.journey_get(actor=request.auth, journey_id=journey_id)
    r = results_compute(journey)
    return {**r.__dict__, "uplift": r.uplift.__dict__}


@router.post("/{journey_id}/enrol", response={201: EnrolOut, 200: EnrolOut, **errors(403, 404, 409)})
def journey_enrol(request: HttpRequest, journey_id: int, payload: EnrolIn):
    """Enrol a member in a live journey whose entry is "API call". Idempotent: the same key (body `key` or the
    `Idempotency-Key` header) answers as the first time; the same key with another member is 409
    `idempotency_key_reused`. 200 with enrolled false: the re-entry rule or the journey's scope kept them out."""
    key = payload.key or request.headers.get("Idempotency-Key")
    if not key:
        from yundian.core.errors import ValidationFailed

        raise ValidationFailed(code="key_required", details={"field": "key"})

    def work():
        enrolment, created = journey_enrol_api(actor=request.auth, journey_id=journey_id,
                                               member_id=payload.member_id, key=key)
        body = {"enrolled": created, "enrolment_id": enrolment.pk if enrolment else None,
                "status": enrolment.status if enrolment else None}
        return (201 if created else 200), body

    status, body, _replayed = run_idempotent(scope="journeys.enrol", owner=f"{request.auth.enterprise_id}:{journey_id}",
                                             key=key, payload={"member_id": payload.member_id}, work=work)
    return Status(status, body)
