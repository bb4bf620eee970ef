"""Diagnosis findings API (/api/v1/analytics/findings): the caller's findings (routed to them, and for managers every
finding of their part of the tree), one finding with its explanation, acknowledge and resolve/dismiss. Scoped like
the inbox: a finding the caller may not see is 404. Parse -> one service or selector -> schema."""
from datetime import date, datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from yundian.core.errors import NotFound
from yundian.core.pagination import LimitOffsetPagination
from yundian.core.schemas import errors

from . import diagnosis_services as services
from .diagnosis_selectors import finding_get, finding_list
from .diagnosis_text import KPI_LABELS, explanation_lines, headline, owner_text

router = Router(tags=["diagnosis"])


class FindingOut(Schema):
    id: int
    kind: str
    node_id: int
    node_name: str
    kpi: str
    kpi_label: str
    driver: str
    window_start: date
    window_end: date
    actual: float
    expected: float
    lower: float
    upper: float
    owner_role: str
    owner_id: int | None
    owner_name: str
    headline: str
    explanation: list[str]
    numbers: dict
    status: str
    acknowledged_at: datetime | None
    acknowledged_by_id: int | None
    resolution: str
    resolved_at: datetime | None
    kpi_back: bool | None
    task_ref: str

    @staticmethod
    def resolve_node_name(obj) -> str:
        return obj.node.name

    @staticmethod
    def resolve_kpi_label(obj) -> str:
        return str(KPI_LABELS.get(obj.kpi, obj.kpi))

    @staticmethod
    def resolve_owner_name(obj) -> str:
        return str(owner_text(obj))

    @staticmethod
    def resolve_headline(obj) -> str:
        return str(headline(obj))

    @staticmethod
    def resolve_explanation(obj) -> list[str]:
        return [str(line) for line in explanation_lines(obj)]


class FindingFilter(Schema):
    status: str | None = Field("open", max_length=10, description="open, resolved, dismissed; empty: all")
    mine: bool = Field(False, description="only the findings routed to the caller")


class ResolveIn(Schema):
    resolution: str = Field(..., max_length=500, description="what was done, in a few words")
    dismiss: bool = Field(False, description="not a problem (dismissed) instead of resolved")


def _get(request, finding_id: int):
    finding = finding_get(actor=request.auth, finding_id=finding_id)
    if finding is None:
        raise NotFound(code="finding_not_found")
    return finding


@router.get("/findings", response={200: list[FindingOut], **errors()})
@paginate(LimitOffsetPagination)
def findings(request: HttpRequest, filters: Query[FindingFilter]):
    status = filters.status if filters.status in ("open", "resolved", "dismissed") else None
    return finding_list(actor=request.auth, status=status, mine=filters.mine)


@router.get("/findings/{finding_id}", response={200: FindingOut, **errors(404)})
def finding(request: HttpRequest, finding_id: int):
    return _get(request, finding_id)


@router.post("/findings/{finding_id}/acknowledge", response={200: FindingOut, **errors(404, 409)})
def acknowledge(request: HttpRequest, finding_id: int):
    services.finding_acknowledge(actor=request.auth, finding_id=finding_id)
    return _get(request, finding_id)


@router.post("/findings/{finding_id}/resolve", response={200: FindingOut, **errors(404, 409)})
def resolve(request: HttpRequest, finding_id: int, payload: ResolveIn):
    services.finding_resolve(actor=request.auth, finding_id=finding_id, resolution=payload.resolution,
                             dismiss=payload.dismiss)
    return _get(request, finding_id)
