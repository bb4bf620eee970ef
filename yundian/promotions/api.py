"""Promotions API (/api/v1/promotions): promotions and their results, price floors, a cart quote (the one engine),
coupon campaigns and issuing, flash sales, group buys, referral rules and share links. Parse -> one
service/selector -> schema. Creates take an `Idempotency-Key` header.

The shopper-facing calls (buy in a flash sale, open / join a group, share a link) are public pages and JSON
endpoints under /p/ (views.py), authenticated by a signed member token instead of a staff session."""
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from yundian.core.pagination import LimitOffsetPagination
from yundian.core.schemas import SafeStr, errors, idempotent_response

from . import selectors, services
from .models import UsageSource

router = Router(tags=["promotions"])


class ResultsOut(Schema):
    orders: int
    gmv: int
    discount: int
    members: int
    new_members: int
    repeat_members: int
    repurchase_rate: float


class PromotionOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    status: str
    node_id: int
    priority: int
    is_exclusive: bool
    channels: list[str]
    tier_codes: list[str]
    audience_id: int | None
    rate: Decimal | None
    amount: int
    tiers: list[dict]
    valid_from: datetime | None
    valid_to: datetime | None


class PromotionDetailOut(PromotionOut):
    sku_ids: list[int]
    product_ids: list[int]
    category_ids: list[int]
    results: ResultsOut


class Maths(Schema):
    rate: str | None = Field(None, max_length=12)
    amount: int = 0
    tiers: list[dict[str, Any]] | None = Field(None, max_length=10)
    threshold_by: str = Field("amount", max_length=8)
    repeat: bool = False
    max_off: int | None = None
    buy_quantity: int = 0
    get_quantity: int = 0
    get_rate: str = Field("0", max_length=12)
    bundle_items: list[dict[str, int]] | None = Field(None, max_length=10)
    bundle_price: int = 0
    sku_ids: list[int] | None = Field(None, max_length=500)
    product_ids: list[int] | None = Field(None, max_length=500)
    category_ids: list[int] | None = Field(None, max_length=500)
    exclude_sku_ids: list[int] | None = Field(None, max_length=500)


class PromotionIn(Maths):
    node_id: int
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=120)
    kind: str = Field(..., max_length=20)
    description: str = Field("", max_length=500)
    priority: int = 0
    is_exclusive: bool = False
    channels: list[str] | None = Field(None, max_length=3)
    tier_codes: list[str] | None = Field(None, max_length=20)
    members_only: bool = False
    audience_id: int | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    status: str = Field("draft", max_length=8)


class StatusIn(Schema):
    status: str = Field(..., max_length=8)


class PromotionFilter(Schema):
    status: str | None = Field(None, max_length=8)
    q: SafeStr | None = Field(None, max_length=64)


def _maths(payload: Maths) -> dict:
    return payload.dict(include=set(Maths.model_fields))


def _detail(request, promotion) -> dict:
    results = selectors.promotion_results(actor=request.auth, source=UsageSource.PROMOTION, ids=[promotion.pk])
    body = {name: getattr(promotion, name) for name in PromotionDetailOut.model_fields if name != "results"}
    body["results"] = results.get(promotion.pk, selectors.Results()).as_dict()
    return PromotionDetailOut(**body).model_dump(mode="json")


@router.get("", response={200: list[PromotionOut], **errors()})
@paginate(LimitOffsetPagination)
def promotion_list(request: HttpRequest, filters: Query[PromotionFilter]):
    return selectors.promotion_list(actor=request.auth, status=filters.status, search=filters.q)


@router.post("", response={201: PromotionDetailOut, **errors(403, 404, 409)})
def promotion_create(request: HttpRequest, payload: PromotionIn):
    def work():
        data = payload.dict(exclude=set(Maths.model_fields))
        promotion = services.promotion_create(actor=request.auth, **data, **_maths(payload))
        return 201, _detail(request, promotion)

    return idempotent_response(request, scope="promotion_create", payload=payload.dict(), work=work)


@router.get("/{int:promotion_id}", response={200: PromotionDetailOut, **errors(404)})
def promotion_get(request: HttpRequest, promotion_id: int):
    return _detail(request, selectors.promotion_get(actor=request.auth, promotion_id=promotion_id))


@router.post("/{int:promotion_id}/status", response={200: PromotionDetailOut, **errors(403, 404, 409)})
def promotion_status(request: HttpRequest, promotion_id: int, payload: StatusIn):
    promotion = services.promotion_set_status(actor=request.auth, promotion_id=promotion_id, status=payload.status)
    return _detail(request, promotion)


class FloorIn(Schema):
    sku_id: int | None = None
    category_id: int | None = None
    min_unit_price: int | None = None
    min_percent: int | None = None


class FloorOut(Schema):
    id: int
    sku_id: int | None
    category_id: int | None
    min_unit_price: int | None
    min_percent: int | None


@router.put("/floors", response={200: FloorOut, **errors(403, 404)})
def price_floor_set(request: HttpRequest, payload: FloorIn):
    return services.price_floor_set(actor=request.auth, **payload.dict())


class QuoteLine(Schema):
    sku_id: int
    quantity: int = Field(..., ge=1, le=1_000_000)


class QuoteIn(Schema):
    store_id: int
    channel: str = Field("pos", max_length=12)
    lines: list[QuoteLine] = Field(..., min_length=1, max_length=500)
    member_id: int | None = None
    coupon_codes: list[str] = Field([], max_length=5)


@router.post("/quote", response={200: dict, **errors(403, 404)})
def cart_quote(request: HttpRequest, payload: QuoteIn):
    """What the cart costs with every promotion that applies, each explained, and those that do not, with why."""
    result = selectors.cart_quote(actor=request.auth, store_id=payload.store_id, channel=payload.channel,
                                  lines=[(l.sku_id, l.quantity) for l in payload.lines], member_id=payload.member_id,
                                  coupon_codes=payload.coupon_codes)
    return result.as_dict()


# --- coupons ---------------------------------------------------------------------------------------------------------

class CampaignIn(Maths):
    node_id: int
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=120)
    kind: str = Field(..., max_length=20)
    code_mode: str = Field("unique", max_length=8)
    shared_code: str = Field("", max_length=32)
    total_limit: int | None = None
    per_member_limit: int = 1
    restore_rule: str = Field("cancel_or_return", max_length=16)
    priority: int = 0
    is_exclusive: bool = False
    channels: list[str] | None = Field(None, max_length=3)
    tier_codes: list[str] | None = Field(None, max_length=20)
    audience_id: int | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None


class CampaignOut(Schema):
    id: int
    node_id: int
    code_mode: str
    shared_code: str
    total_limit: int | None
    per_member_limit: int
    issued_count: int
    redeemed_count: int
    restore_rule: str
    promotion: PromotionOut


@router.get("/coupon-campaigns", response={200: list[CampaignOut], **errors()})
@paginate(LimitOffsetPagination)
def campaign_list(request: HttpRequest):
    return selectors.campaign_list(actor=request.auth)


@router.post("/coupon-campaigns", response={201: CampaignOut, **errors(403, 404, 409)})
def campaign_create(request: HttpRequest, payload: CampaignIn):
    def work():
        data = payload.dict(exclude=set(Maths.model_fields))
        campaign = services.coupon_campaign_create(actor=request.auth, **data, **_maths(payload))
        return 201, CampaignOut.model_validate(campaign).model_dump(mode="json")

    return idempotent_response(request, scope="coupon_campaign_create", payload=payload.dict(), work=work)


class IssueIn(Schema):
    count: int | None = None
    member_ids: list[int] | None = Field(None, max_length=1000)


class CouponOut(Schema):
    id: int
    code: str
    member_id: int | None
    status: str


@router.post("/coupon-campaigns/{int:campaign_id}/issue", response={201: list[CouponOut], **errors(403, 404, 409)})
def coupon_issue(request: HttpRequest, campaign_id: int, payload: IssueIn):
    def work():
        coupons = services.coupon_issue(actor=request.auth, campaign_id=campaign_id, count=payload.count,
                                        member_ids=payload.member_ids)
        return 201, [CouponOut.model_validate(c).model_dump(mode="json") for c in coupons]

    return idempotent_response(request, scope=f"coupon_issue:{campaign_id}", payload=payload.dict(), work=work)


# --- flash sales and group buys --------------------------------------------------------------------------------------

class FlashSaleIn(Schema):
    node_id: int
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=120)
    sku_id: int
    price: int
    cap: int
    per_member_limit: int = 1
    starts_at: datetime
    ends_at: datetime
    hold_minutes: int = 15


class FlashSaleOut(Schema):
    id: int
    node_id: int
    code: str
    name: str
    sku_id: int
    price: int
    cap: int
    sold: int
    per_member_limit: int
    starts_at: datetime
    ends_at: datetime
    is_active: bool
    is_sold_out: bool


@router.get("/flash-sales", response={200: list[FlashSaleOut], **errors()})
@paginate(LimitOffsetPagination)
def flash_sale_list(request: HttpRequest):
    return selectors.flash_sale_list(actor=request.auth)


@router.post("/flash-sales", response={201: FlashSaleOut, **errors(403, 404, 409)})
def flash_sale_create(request: HttpRequest, payload: FlashSaleIn):
    def work():
        sale = services.flash_sale_create(actor=request.auth, **payload.dict())
        return 201, FlashSaleOut.model_validate(sale).model_dump(mode="json")

    return idempotent_response(request, scope="flash_sale_create", payload=payload.dict(), work=work)


@router.get("/flash-sales/{int:flash_sale_id}", response={200: FlashSaleOut, **errors(404)})
def flash_sale_get(request: HttpRequest, flash_sale_id: int):
    return selectors.flash_sale_get(actor=request.auth, flash_sale_id=flash_sale_id)


@router.post("/flash-sales/{int:flash_sale_id}/stop", response={200: FlashSaleOut, **errors(403, 404)})
def flash_sale_stop(request: HttpRequest, flash_sale_id: int):
    return services.flash_sale_stop(actor=request.auth, flash_sale_id=flash_sale_id)


class GroupBuyIn(Schema):
    node_id: int
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=120)
    sku_id: int
    price_tiers: list[dict[str, int]] = Field(..., max_length=10)
    cap: int
    starts_at: datetime
    ends_at: datetime
    window_minutes: int = 24 * 60


class GroupBuyOut(Schema):
    id: int
    node_id: int
    code: str
    name: str
    sku_id: int
    price_tiers: list[dict]
    cap: int
    sold: int
    window_minutes: int
    starts_at: datetime
    ends_at: datetime
    is_active: bool


@router.get("/group-buys", response={200: list[GroupBuyOut], **errors()})
@paginate(LimitOffsetPagination)
def group_buy_list(request: HttpRequest):
    return selectors.group_buy_list(actor=request.auth)


@router.post("/group-buys", response={201: GroupBuyOut, **errors(403, 404, 409)})
def group_buy_create(request: HttpRequest, payload: GroupBuyIn):
    def work():
        campaign = services.group_buy_create(actor=request.auth, **payload.dict())
        return 201, GroupBuyOut.model_validate(campaign).model_dump(mode="json")

    return idempotent_response(request, scope="group_buy_create", payload=payload.dict(), work=work)


# --- referral ---------------------------------------------------------------------------------------------------------

class ReferralRuleIn(Schema):
    rate: str = Field(..., max_length=12)
    reward_kind: str = Field("commission", max_length=12)
    product_id: int | None = None
    is_active: bool = True


class ReferralRuleOut(Schema):
    id: int
    product_id: int | None
    reward_kind: str
    rate: Decimal
    is_active: bool


@router.put("/referral-rules", response={200: ReferralRuleOut, **errors(403, 404)})
def referral_rule_set(request: HttpRequest, payload: ReferralRuleIn):
    return services.referral_rule_set(actor=request.auth, **payload.dict())


class ShareLinkIn(Schema):
    store_id: int
    product_id: int | None = None


class ShareLinkOut(Schema):
    id: int
    code: str
    store_id: int
    product_id: int | None
    url: str

    @staticmethod
    def resolve_url(obj) -> str:
        return reverse("promotions_public:share_link", args=[obj.code])


@router.post("/share-links", response={201: ShareLinkOut, **errors(403, 404)})
def share_link_create(request: HttpRequest, payload: ShareLinkIn):
    link = services.share_link_create(actor=request.auth, store_id=payload.store_id, product_id=payload.product_id)
    return Status(201, link)
