"""Members API (/api/v1/members): members and identities, One-ID, points, stored value, consent, guide binding,
tiers, export and erasure. Parse -> one service/selector -> schema. Phone numbers and identities are masked
unless the caller holds personal_data.view at the member's home. Creates take an `Idempotency-Key` header."""
import hashlib
from datetime import date, datetime

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from yundian.core.errors import ValidationFailed
from yundian.core.pagination import LimitOffsetPagination
from yundian.core.schemas import SafeStr, errors, idempotent_response

from . import selectors, services
from .api_programme import TierOut, add_programme_routes
from .models import Channel
from yundian.org.roles import Perm

router = Router(tags=["members"])
add_programme_routes(router)  # points rules, tier edits, top-up rules, gift cards: before "/{member_id}"


class IdentitySchema(Schema):
    kind: str = Field(..., max_length=16)
    value: str = Field(..., max_length=128)
    is_verified: bool = False


class IdentityOut(Schema):
    id: int
    kind: str
    value: str
    is_verified: bool
    channel: str


class MemberOut(Schema):
    id: int
    name: str
    phone: str
    home_id: int
    channel: str
    status: str
    tier: str | None
    guide_id: int | None
    merged_into_id: int | None
    created_at: datetime

    # a Member row (masked for the caller), or an already-built body (idempotent replay, _member_body)
    @staticmethod
    def resolve_phone(obj, context) -> str:
        return obj["phone"] if isinstance(obj, dict) else selectors.phone_display(context["request"].auth, obj)

    @staticmethod
    def resolve_tier(obj) -> str | None:
        if isinstance(obj, dict):
            return obj["tier"]
        return obj.tier.code if obj.tier_id else None


def _member_body(request: HttpRequest, member) -> dict:
    fields = ("id", "name", "home_id", "channel", "status", "guide_id", "merged_into_id", "created_at")
    body = {name: getattr(member, name) for name in fields}
    body["phone"] = selectors.phone_display(request.auth, member)
    body["tier"] = member.tier.code if member.tier_id else None
    return MemberOut(**body).model_dump(mode="json")


class RegisterIn(Schema):
    store_id: int
    channel: str = Field(Channel.API, max_length=16)
    phone: str | None = Field(None, max_length=40)
    name: str = Field("", max_length=80)
    gender: str = Field("", max_length=1)
    birthday: date | None = None
    identities: list[IdentitySchema] = Field([], max_length=20)
    consents: dict[str, bool] = {}
    guide_id: int | None = None


class ResolveIn(Schema):
    store_id: int
    channel: str = Field(Channel.API, max_length=16)
    identities: list[IdentitySchema] = Field(..., min_length=1, max_length=20)
    name: str = Field("", max_length=80)


class ResolveOut(Schema):
    member: MemberOut
    created: bool
    merges: list[int]


class MemberPatch(Schema):
    name: str | None = Field(None, max_length=80)
    gender: str | None = Field(None, max_length=1)
    birthday: date | None = None


class MemberFilter(Schema):
    q: SafeStr | None = Field(None, max_length=64)
    store_id: int | None = None
    status: str | None = Field("active", max_length=8)


class LookupFilter(Schema):
    store_id: int
    kind: str = Field("phone", max_length=16)
    value: SafeStr = Field(..., max_length=128)


class ConsentOut(Schema):
    channel: str
    granted: bool | None


class ConsentIn(Schema):
    granted: bool
    note: str = Field("", max_length=255)


class BenefitsOut(Schema):
    tier_code: str
    tier_name: str
    discount_rate: str
    free_shipping: bool
    points_multiplier: str
    birthday_gift_points: int
    is_birthday_month: bool


class ProfileOut(Schema):
    member: MemberOut
    identities: list[IdentityOut]
    points: int
    stored_value_principal: int
    stored_value_bonus: int
    growth: int
    consents: list[ConsentOut]
    benefits: BenefitsOut


class PointsEntryOut(Schema):
    id: int
    kind: str
    points: int
    source_type: str
    source_id: str
    store_id: int | None
    reason: str
    created_at: datetime


class AdjustIn(Schema):
    points: int
    reason: str = Field(..., max_length=255)


class AdjustmentOut(Schema):
    id: int
    member_id: int
    points: int
    reason: str
    status: str
    requested_by_id: int
    decided_by_id: int | None


class RedeemIn(Schema):
    points: int
    store_id: int


class RejectIn(Schema):
    reason: str = Field("", max_length=255)


class StoredValueEntryOut(Schema):
    id: int
    kind: str
    principal: int
    bonus: int
    source_type: str
    source_id: str
    created_at: datetime


class TopUpIn(Schema):
    amount_fen: int
    store_id: int
    payment_ref: str = Field(..., max_length=64)


class GiftCardIn(Schema):
    code: str = Field(..., max_length=64)
    store_id: int | None = None


class GuideIn(Schema):
    guide_id: int
    reason: str = Field("", max_length=255)


class GuideOut(Schema):
    member_id: int
    guide_id: int | None
    kind: str


class HandoverIn(Schema):
    from_guide_id: int
    to_guide_id: int
    reason: str = Field(..., max_length=255)


class HandoverOut(Schema):
    moved: int


class MergeIn(Schema):
    absorbed_id: int
    reason: str = Field(..., max_length=255)


class ReasonIn(Schema):
    reason: str = Field(..., max_length=255)


class MergeOut(Schema):
    id: int
    survivor_id: int
    absorbed_id: int
    rule: str
    status: str
    moved: dict


class TierIn(Schema):
    code: str = Field(..., max_length=32)
    name: str = Field(..., max_length=80)
    rank: int
    min_growth: int
    discount_rate: str = Field("1", max_length=8)
    birthday_gift_points: int = 0
    free_shipping: bool = False
    points_multiplier: str = Field("1", max_length=8)


def _identities(items) -> list[services.IdentityIn]:
    return [services.IdentityIn(i.kind, i.value, i.is_verified) for i in items]


# --- members ------------------------------------------------------------------------------------------

@router.get("", response={200: list[MemberOut], **errors(404)})
@paginate(LimitOffsetPagination)
def member_list(request: HttpRequest, filters: Query[MemberFilter]):
    return selectors.member_list(actor=request.auth, search=filters.q, store_id=filters.store_id,
                                 status=filters.status or None).prefetch_related("identities")


@router.post("", response={201: MemberOut, **errors(403, 404, 409)})
def member_register(request: HttpRequest, payload: RegisterIn):
    def work():
        data = payload.dict()
        data["identities"] = _identities(payload.identities)
        member = services.member_register(actor=request.auth, **data)
        return 201, _member_body(request, member)

    return idempotent_response(request, scope="member_register", payload=payload.dict(), work=work)


@router.post("/resolve", response={200: ResolveOut, **errors(403, 404, 409)})
def member_resolve(request: HttpRequest, payload: ResolveIn):
    def work():
        result = services.member_resolve(actor=request.auth, store_id=payload.store_id, channel=payload.channel,
                                         identities=_identities(payload.identities), name=payload.name)
        return 200, {"member": _member_body(request, result.member), "created": result.created,
                     "merges": [m.pk for m in result.merged]}

    return idempotent_response(request, scope="member_resolve", payload=payload.dict(), work=work)


@router.get("/lookup", response={200: MemberOut, **errors(403, 404)})
def member_lookup(request: HttpRequest, filters: Query[LookupFilter]):
    member = selectors.member_lookup(actor=request.auth, store_id=filters.store_id, kind=filters.kind,
                                     value=filters.value)
    return _member_body(request, member)


@router.get("/tiers", response={200: list[TierOut], **errors()})
def tier_list(request: HttpRequest):
    return list(selectors.tier_list(actor=request.auth))


@router.post("/tiers", response={201: TierOut, **errors(403, 409)})
def tier_create(request: HttpRequest, payload: TierIn):
    return Status(201, services.tier_create(actor=request.auth, **payload.dict()))


@router.get("/adjustments", response={200: list[AdjustmentOut], **errors()})
@paginate(LimitOffsetPagination)
def adjustment_list(request: HttpRequest, status: str | None = None):
    return selectors.adjustment_list(actor=request.auth, status=status)


@router.post("/adjustments/{adjustment_id}/approve", response={200: AdjustmentOut, **errors(403, 404, 409)})
def adjustment_approve(request: HttpRequest, adjustment_id: int):
    return services.points_adjustment_approve(actor=request.auth, adjustment_id=adjustment_id)


@router.post("/adjustments/{adjustment_id}/reject", response={200: AdjustmentOut, **errors(403, 404, 409)})
def adjustment_reject(request: HttpRequest, adjustment_id: int, payload: RejectIn):
    return services.points_adjustment_reject(actor=request.auth, adjustment_id=adjustment_id, reason=payload.reason)


@router.post("/guides/handover", response={200: HandoverOut, **errors(403, 404)})
def guide_handover(request: HttpRequest, payload: HandoverIn):
    moved = services.guide_handover(actor=request.auth, from_guide_id=payload.from_guide_id,
                                    to_guide_id=payload.to_guide_id, reason=payload.reason)
    return {"moved": moved}


@router.post("/merges/{merge_id}/unmerge", response={200: MergeOut, **errors(403, 404, 409)})
def member_unmerge(request: HttpRequest, merge_id: int, payload: ReasonIn):
    return services.member_unmerge(actor=request.auth, merge_id=merge_id, reason=payload.reason)


@router.get("/{member_id}", response={200: ProfileOut, **errors(404)})
def member_get(request: HttpRequest, member_id: int):
    profile = selectors.member_profile(actor=request.auth, member_id=member_id)
    benefits = profile["benefits"]
    return {
        "member": _member_body(request, profile["member"]),
        "identities": profile["identities"],
        "points": profile["points"],
        "stored_value_principal": profile["stored_value"]["principal"],
        "stored_value_bonus": profile["stored_value"]["bonus"],
        "growth": profile["growth"],
        "consents": profile["consents"],
        "benefits": {**benefits.__dict__, "discount_rate": str(benefits.discount_rate),
                     "points_multiplier": str(benefits.points_multiplier)},
    }


@router.patch("/{member_id}", response={200: MemberOut, **errors(403, 404, 409)})
def member_update(request: HttpRequest, member_id: int, payload: MemberPatch):
    member = services.member_update(actor=request.auth, member_id=member_id, **payload.dict(exclude_unset=True))
    return _member_body(request, member)


@router.get("/{member_id}/identities", response={200: list[IdentityOut], **errors(404)})
def identity_list(request: HttpRequest, member_id: int):
    member = selectors.member_get(actor=request.auth, member_id=member_id)
    return selectors.identity_rows(request.auth, member)


@router.post("/{member_id}/identities", response={201: IdentityOut, **errors(403, 404, 409)})
def identity_add(request: HttpRequest, member_id: int, payload: IdentitySchema):
    def work():
        identity = services.identity_add(actor=request.auth, member_id=member_id, **payload.dict())
        member = selectors.member_get(actor=request.auth, member_id=member_id)
        [row] = [r for r in selectors.identity_rows(request.auth, member) if r["id"] == identity.pk]
        return 201, IdentityOut(**{k: row[k] for k in ("id", "kind", "value", "is_verified", "channel")}).dict()

    return idempotent_response(request, scope=f"member_identity_add:{member_id}", payload=payload.dict(), work=work)


@router.delete("/{member_id}/identities/{identity_id}", response={204: None, **errors(403, 404, 409)})
def identity_remove(request: HttpRequest, member_id: int, identity_id: int):
    services.identity_remove(actor=request.auth, member_id=member_id, identity_id=identity_id)
    return Status(204, None)


@router.get("/{member_id}/benefits", response={200: BenefitsOut, **errors(404)})
def member_benefits(request: HttpRequest, member_id: int):
    benefits = selectors.member_benefits(selectors.member_get(actor=request.auth, member_id=member_id))
    return {**benefits.__dict__, "discount_rate": str(benefits.discount_rate),
            "points_multiplier": str(benefits.points_multiplier)}


@router.get("/{member_id}/points", response={200: list[PointsEntryOut], **errors(404)})
@paginate(LimitOffsetPagination)
def points_entry_list(request: HttpRequest, member_id: int):
    return selectors.points_entry_list(actor=request.auth, member_id=member_id)


@router.post("/{member_id}/points/adjustments", response={201: AdjustmentOut, **errors(403, 404, 409)})
def points_adjust(request: HttpRequest, member_id: int, payload: AdjustIn):
    def work():
        adjustment = services.points_adjust(actor=request.auth, member_id=member_id, points=payload.points,
                                            reason=payload.reason)
        return 201, AdjustmentOut.from_orm(adjustment).dict()

    return idempotent_response(request, scope=f"points_adjust:{member_id}", payload=payload.dict(), work=work)


@router.post("/{member_id}/points/redemptions", response={201: PointsEntryOut, **errors(403, 404, 409)})
def points_redeem(request: HttpRequest, member_id: int, payload: RedeemIn):
    """Spend a member's points at a store with the checkout's own service (earliest-expiring lots first; never
    below zero: 409 `insufficient_points`). The `Idempotency-Key` header is required: a retry with the same key
    answers the first result and posts one entry; the same key with another body is a 409."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        raise ValidationFailed(_("An Idempotency-Key header is required."), code="idempotency_key_required")
    selectors.member_get(actor=request.auth, member_id=member_id, perm=Perm.MEMBER_MANAGE)
    # the ledger's own once-only reference: per staff member and key (keys are up to 128 characters, refs 64)
    source_id = f"{request.auth.pk}-{hashlib.sha256(key.encode()).hexdigest()[:40]}"

    def work():
        entry = services.points_redeem(actor=request.auth, member_id=member_id, points=payload.points,
                                       store_id=payload.store_id, source_type="api_redeem", source_id=source_id)
        return 201, PointsEntryOut.from_orm(entry).dict()

    return idempotent_response(request, scope=f"points_redeem:{member_id}", payload=payload.dict(), work=work)


@router.get("/{member_id}/stored-value", response={200: list[StoredValueEntryOut], **errors(404)})
@paginate(LimitOffsetPagination)
def stored_value_entry_list(request: HttpRequest, member_id: int):
    return selectors.stored_value_entry_list(actor=request.auth, member_id=member_id)


@router.post("/{member_id}/stored-value/top-ups", response={201: StoredValueEntryOut, **errors(403, 404, 409)})
def stored_value_topup(request: HttpRequest, member_id: int, payload: TopUpIn):
    """Idempotent by `payment_ref` (the same payment credits once; the same ref with another amount is a 409)."""
    selectors.member_get(actor=request.auth, member_id=member_id, perm=Perm.STORED_VALUE_MANAGE)
    entry = services.stored_value_topup(actor=request.auth, member_id=member_id, amount_fen=payload.amount_fen,
                                        store_id=payload.store_id, payment_ref=payload.payment_ref)
    return Status(201, entry)


@router.post("/{member_id}/gift-cards/redeem", response={201: StoredValueEntryOut, **errors(403, 404, 409)})
def gift_card_redeem(request: HttpRequest, member_id: int, payload: GiftCardIn):
    selectors.member_get(actor=request.auth, member_id=member_id, perm=Perm.MEMBER_MANAGE)
    entry = services.gift_card_redeem(actor=request.auth, member_id=member_id, code=payload.code,
                                      store_id=payload.store_id or request.auth.home_id)
    return Status(201, entry)


@router.get("/{member_id}/consents", response={200: list[ConsentOut], **errors(404)})
def consent_list(request: HttpRequest, member_id: int):
    return selectors.consent_rows(selectors.member_get(actor=request.auth, member_id=member_id))


@router.put("/{member_id}/consents/{channel}", response={200: ConsentOut, **errors(403, 404)})
def consent_set(request: HttpRequest, member_id: int, channel: str, payload: ConsentIn):
    event = services.consent_set(actor=request.auth, member_id=member_id, channel=channel, granted=payload.granted,
                                 note=payload.note)
    return {"channel": event.channel, "granted": event.granted}


@router.post("/{member_id}/guide", response={200: GuideOut, **errors(403, 404, 409)})
def guide_bind(request: HttpRequest, member_id: int, payload: GuideIn):
    event = services.guide_bind(actor=request.auth, member_id=member_id, guide_id=payload.guide_id,
                                reason=payload.reason)
    return {"member_id": member_id, "guide_id": event.to_guide_id, "kind": event.kind}


@router.post("/{member_id}/merge", response={201: MergeOut, **errors(403, 404, 409)})
def member_merge(request: HttpRequest, member_id: int, payload: MergeIn):
    merge = services.member_merge(actor=request.auth, survivor_id=member_id, absorbed_id=payload.absorbed_id,
                                  reason=payload.reason)
    return Status(201, merge)


@router.get("/{member_id}/export", response={200: dict, **errors(403, 404)})
def member_export(request: HttpRequest, member_id: int):
    return services.member_export(actor=request.auth, member_id=member_id)


@router.post("/{member_id}/erase", response={200: MemberOut, **errors(403, 404, 409)})
def member_erase(request: HttpRequest, member_id: int, payload: ReasonIn):
    return _member_body(request, services.member_erase(actor=request.auth, member_id=member_id, reason=payload.reason))
