"""Guides API: commission plans, a guide's live commission, all guides of a store, leaderboard, ledger entries."""
from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from yundian.core.pagination import LimitOffsetPagination
from yundian.core.schemas import errors

from . import selectors, services

router = Router(tags=["guides"])


class RuleIn(Schema):
    sku_id: int | None = None
    product_id: int | None = None
    category_id: int | None = None
    rate: str | None = Field(None, max_length=12, description='a share such as "0.05"')
    fixed_amount: int | None = Field(None, description="fen per unit")
    is_excluded: bool = False


class TierIn(Schema):
    min_month_sales: int
    bonus_rate: str = Field(..., max_length=12)


class PlanIn(Schema):
    node_id: int
    name: str = Field(..., max_length=120)
    default_rate: str = Field("0", max_length=12)
    rules: list[RuleIn] = []
    tiers: list[TierIn] = []


class PlanOut(Schema):
    id: int
    node_id: int
    name: str
    default_rate: str
    is_active: bool
    rules: list[dict[str, Any]]
    tiers: list[dict[str, Any]]


def plan_out(plan) -> dict:
    return {"id": plan.id, "node_id": plan.node_id, "name": plan.name, "default_rate": str(plan.default_rate),
            "is_active": plan.is_active,
            "rules": [{"sku_id": r.sku_id, "product_id": r.product_id, "category_id": r.category_id,
                       "rate": str(r.rate) if r.rate is not None else None, "fixed_amount": r.fixed_amount,
                       "is_excluded": r.is_excluded} for r in plan.rules.all()],
            "tiers": [{"min_month_sales": t.min_month_sales, "bonus_rate": str(t.bonus_rate)} for t in plan.tiers.all()]}


@router.post("/commission/plans", response={201: PlanOut, **errors(403, 404)})
def plan_create(request: HttpRequest, payload: PlanIn):
    """A commission plan for a node's stores (replaces its active plan). Needs commission.manage there."""
    data = payload.dict()
    data["rules"] = [{k: v for k, v in r.items() if v is not None and not (k == "is_excluded" and v is False)}
                     for r in data["rules"]]
    plan = services.commission_plan_create(actor=request.auth, **data)
    return Status(201, plan_out(plan))


@router.get("/commission/plans", response={200: list[PlanOut], **errors()})
def plan_list(request: HttpRequest):
    return [plan_out(p) for p in selectors.plan_list(actor=request.auth)[:200]]


class OverviewOut(Schema):
    guide_id: int
    guide_name: str
    month: date
    today_commission: int
    today_sales: int
    month_commission: int
    month_sales: int
    balance: int
    orders: list[dict[str, Any]]


@router.get("/commission/me", response={200: OverviewOut, **errors(404)})
def commission_me(request: HttpRequest):
    """Your own commission, live: today, this month, balance and this month per order (fen)."""
    return selectors.commission_overview(actor=request.auth)


@router.get("/commission/guides/{guide_id}", response={200: OverviewOut, **errors(404)})
def commission_guide(request: HttpRequest, guide_id: int):
    return selectors.commission_overview(actor=request.auth, guide_id=guide_id)


class GuideRowOut(Schema):
    guide_id: int
    guide_name: str
    sales: int
    commission: int
    orders: int


@router.get("/commission/guides", response={200: list[GuideRowOut], **errors()})
def commission_by_guide(request: HttpRequest, store_id: int | None = None, month: Annotated[str | None, Query(max_length=7)] = None):
    """Every guide in your scope for a month (store managers: their store)."""
    return selectors.commission_by_guide(actor=request.auth, store_id=store_id, month=selectors.parse_month(month))


class LeaderOut(Schema):
    rank: int
    guide_id: int
    guide_name: str
    sales: int
    commission: int | None


@router.get("/leaderboard", response={200: list[LeaderOut], **errors()})
def leaderboard(request: HttpRequest, store_id: int | None = None, month: Annotated[str | None, Query(max_length=7)] = None,
                metric: str = "sales", limit: int = 20):
    return selectors.leaderboard(actor=request.auth, store_id=store_id, month=selectors.parse_month(month),
                                 metric=metric, limit=limit)


class EntryOut(Schema):
    id: int
    guide_id: int
    store_id: int
    kind: str
    amount: int
    sales_amount: int
    order_id: int | None
    order_line_id: int | None
    source_ref: str
    rate: str | None
    month: date
    reason: str
    occurred_at: datetime

    @staticmethod
    def resolve_rate(obj) -> str | None:
        return str(obj.rate) if obj.rate is not None else None


@router.get("/commission/entries", response={200: list[EntryOut], **errors()})
@paginate(LimitOffsetPagination)
def entry_list(request: HttpRequest, guide_id: int | None = None, month: Annotated[str | None, Query(max_length=7)] = None):
    return selectors.commission_entry_list(actor=request.auth, guide_id=guide_id,
                                           month=selectors.parse_month(month) if month else None)


# the guide workbench (materials and shares, funnels, groups, competitions, my ranking): its own module
from .workbench_api import router as workbench_router  # noqa: E402

router.add_router("", workbench_router)
