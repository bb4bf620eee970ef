"""Programme rules over the API (mounted under /api/v1/members): points earning rules, tier edits, top-up bonus
rules and gift cards. Parse -> one service/selector -> schema. Rules are HQ's (member_program.manage); points rules
may be scoped to a store subtree and category. Out-of-scope rules and nodes are 404."""
from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from yundian.core.pagination import LimitOffsetPagination
from yundian.core.schemas import SafeStr, errors

from . import selectors, services


class PointsRuleIn(Schema):
    name: str = Field(..., max_length=80)
    points_per_yuan: str = Field(..., max_length=12)
    node_id: int | None = None
    category_id: int | None = None
    priority: int = 0


class PointsRulePatch(Schema):
    name: str | None = Field(None, max_length=80)
    points_per_yuan: str | None = Field(None, max_length=12)
    priority: int | None = None
    is_active: bool | None = None


class PointsRuleOut(Schema):
    id: int
    name: str
    node_id: int | None
    category_id: int | None
    points_per_yuan: str
    priority: int
    is_active: bool

    @staticmethod
    def resolve_points_per_yuan(obj) -> str:
        return str(obj.points_per_yuan)


class TierPatch(Schema):
    name: str | None = Field(None, max_length=80)
    min_growth: int | None = None
    discount_rate: str | None = Field(None, max_length=8)
    birthday_gift_points: int | None = None
    free_shipping: bool | None = None
    points_multiplier: str | None = Field(None, max_length=8)


class TierOut(Schema):
    id: int
    code: str
    name: str
    rank: int
    min_growth: int
    discount_rate: str
    birthday_gift_points: int
    free_shipping: bool
    points_multiplier: str

    @staticmethod
    def resolve_discount_rate(obj) -> str:
        return str(obj.discount_rate)

    @staticmethod
    def resolve_points_multiplier(obj) -> str:
        return str(obj.points_multiplier)


class TopUpRuleIn(Schema):
    min_amount_fen: int
    bonus_fen: int


class TopUpRuleOut(Schema):
    id: int
    min_amount: int
    bonus: int
    is_active: bool


class GiftCardIssueIn(Schema):
    value_fen: int
    count: int = 1
    batch: str = Field("", max_length=40)
    expires_at: datetime | None = None


class GiftCodeOut(Schema):
    id: int
    code: str
    code_tail: str


class GiftCardIssueOut(Schema):
    value_fen: int
    batch: str
    expires_at: datetime | None
    codes: list[GiftCodeOut]


class GiftCardOut(Schema):
    id: int
    code_tail: str
    value: int
    batch: str
    status: str
    expires_at: datetime | None
    redeemed_by_id: int | None
    redeemed_at: datetime | None


class GiftCardFilter(Schema):
    batch: SafeStr | None = Field(None, max_length=40)
    status: SafeStr | None = Field(None, max_length=8)


def _patch(payload: Schema) -> dict:
    """Only the fields the client sent and did not null out (a null is 'leave as is')."""
    return {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}


def add_programme_routes(router: Router) -> None:
    """Add the programme routes to the members router. Called before the member routes are declared: these literal
    paths ("/points-rules") must come before "/{member_id}", which would otherwise match them."""

    # --- points rules -------------------------------------------------------------------------------------

    @router.get("/points-rules", response={200: list[PointsRuleOut], **errors()})
    @paginate(LimitOffsetPagination)
    def points_rule_list(request: HttpRequest, include_inactive: bool = False):
        return selectors.points_rule_list(actor=request.auth, include_inactive=include_inactive)

    @router.post("/points-rules", response={201: PointsRuleOut, **errors(403, 404)})
    def points_rule_create(request: HttpRequest, payload: PointsRuleIn):
        return Status(201, services.points_rule_create(actor=request.auth, **payload.dict()))

    @router.patch("/points-rules/{rule_id}", response={200: PointsRuleOut, **errors(403, 404)})
    def points_rule_update(request: HttpRequest, rule_id: int, payload: PointsRulePatch):
        return services.points_rule_update(actor=request.auth, rule_id=rule_id, **_patch(payload))

    @router.post("/points-rules/{rule_id}/deactivate", response={200: PointsRuleOut, **errors(403, 404)})
    def points_rule_deactivate(request: HttpRequest, rule_id: int):
        return services.points_rule_deactivate(actor=request.auth, rule_id=rule_id)

    # --- tiers (list and create live in api.py) -------------------------------------------------------------

    @router.patch("/tiers/{tier_id}", response={200: TierOut, **errors(403, 404)})
    def tier_update(request: HttpRequest, tier_id: int, payload: TierPatch):
        return services.tier_update(actor=request.auth, tier_id=tier_id, **_patch(payload))

    # --- top-up bonus rules ---------------------------------------------------------------------------------

    @router.get("/topup-rules", response={200: list[TopUpRuleOut], **errors()})
    def topup_rule_list(request: HttpRequest, include_inactive: bool = False):
        return list(selectors.topup_rule_list(actor=request.auth, include_inactive=include_inactive))

    @router.post("/topup-rules", response={201: TopUpRuleOut, **errors(403)})
    def topup_rule_create(request: HttpRequest, payload: TopUpRuleIn):
        return Status(201, services.topup_rule_create(actor=request.auth, min_amount_fen=payload.min_amount_fen,
                                                      bonus_fen=payload.bonus_fen))

    @router.post("/topup-rules/{rule_id}/deactivate", response={200: TopUpRuleOut, **errors(403, 404, 409)})
    def topup_rule_deactivate(request: HttpRequest, rule_id: int):
        return services.topup_rule_deactivate(actor=request.auth, rule_id=rule_id)

    # --- gift cards -------------------------------------------------------------------------------------------

    @router.get("/gift-cards", response={200: list[GiftCardOut], **errors(403)})
    @paginate(LimitOffsetPagination)
    def gift_card_list(request: HttpRequest, filters: Query[GiftCardFilter]):
        return selectors.gift_card_list(actor=request.auth, batch=filters.batch, status=filters.status)

    @router.post("/gift-cards", response={201: GiftCardIssueOut, **errors(403, 409)})
    def gift_card_issue(request: HttpRequest, payload: GiftCardIssueIn):
        """Issue one code (count 1) or a batch. The codes are in this response only (just a hash is kept), so
        this create takes no Idempotency-Key: a retried request issues another batch."""
        issued = services.gift_card_issue(actor=request.auth, value_fen=payload.value_fen, count=payload.count,
                                          batch=payload.batch, expires_at=payload.expires_at)
        return Status(201, {"value_fen": payload.value_fen, "batch": payload.batch, "expires_at": payload.expires_at,
                            "codes": [{"id": card.pk, "code": code, "code_tail": card.code_tail}
                                      for card, code in issued]})
