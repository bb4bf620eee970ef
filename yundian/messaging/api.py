"""Messaging API (/api/v1/messaging/...): message templates (CRUD), the outbox (list, one message) scoped to the
caller, a preview, and the providers' signed delivery-receipt webhook. Parse -> one service or selector -> schema."""
import json
from datetime import datetime, time
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import ValidationError as PydanticError

from yundian.core.errors import PayloadTooLarge, ValidationFailed
from yundian.core.pagination import LimitOffsetPagination
from yundian.core.schemas import SafeStr, errors

from . import selectors, services
from .preview import template_preview
from .receipts import MAX_RECEIPTS, signature_ok

router = Router(tags=["messaging"])


class BodyIO(Schema):
    channel: str = Field(..., max_length=8, description="sms, wechat, email or inapp")
    language: str = Field("zh-hans", max_length=8)
    subject: SafeStr = Field("", max_length=200)
    body: str = Field(..., max_length=2000)
    provider_template: SafeStr = Field("", max_length=64)


class TemplateOut(Schema):
    id: int
    name: str
    purpose: str
    node_id: int
    variables: list[str]
    is_active: bool
    bodies: list[BodyIO]
    updated_at: datetime

    @staticmethod
    def resolve_bodies(obj) -> list[dict]:
        return [{"channel": b.channel, "language": b.language, "subject": b.subject, "body": b.body,
                 "provider_template": b.provider_template} for b in obj.bodies.all()]


class TemplateIn(Schema):
    name: SafeStr = Field(..., max_length=120)
    purpose: str = Field("marketing", max_length=12, description="marketing or service")
    variables: list[str] = Field(default_factory=list, max_length=20)
    bodies: list[BodyIO] = Field(..., max_length=20)
    node_id: int | None = None


class TemplateUpdate(TemplateIn):
    is_active: bool = True


class MessageOut(Schema):
    id: int
    key: str
    source: str
    member_id: int
    member_name: str
    channel: str
    purpose: str
    template_id: int | None
    subject: str
    body: str
    status: str
    status_label: str
    reason: str
    reason_label: str
    due_at: datetime
    attempts: int
    provider_message_id: str
    sent_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_member_name(obj) -> str:
        return obj.member.name

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())


class MessageFilter(Schema):
    channel: SafeStr | None = Field(None, max_length=8)
    status: SafeStr | None = Field(None, max_length=12)
    source: SafeStr | None = Field(None, max_length=32)
    member_id: int | None = None
    search: SafeStr | None = Field(None, max_length=60)


class TemplateFilter(Schema):
    channel: SafeStr | None = Field(None, max_length=8)
    search: SafeStr | None = Field(None, max_length=60)


class PreviewIn(Schema):
    bodies: list[BodyIO] = Field(..., max_length=20)
    variables: list[str] = Field(default_factory=list, max_length=20)
    purpose: str = Field("marketing", max_length=12)
    member_id: int | None = None


class PreviewOut(Schema):
    channel: str
    language: str
    subject: str
    body: str
    member_name: str
    characters: int


class ReceiptIn(Schema):
    id: str = Field(..., min_length=1, max_length=100)
    status: Literal["delivered", "failed"]
    error: str = Field("", max_length=255)


class ReceiptsIn(Schema):
    receipts: list[ReceiptIn] = Field(..., max_length=MAX_RECEIPTS)


class ReceiptsOut(Schema):
    applied: int
    repeated: int
    unknown: int


class PolicyIO(Schema):
    daily_cap: int
    weekly_cap: int
    quiet_start: time
    quiet_end: time
    language: str = Field(..., max_length=8)


def _bodies(payload) -> list[dict]:
    return [b.dict() for b in payload.bodies]


@router.get("/templates", response={200: list[TemplateOut], **errors()})
@paginate(LimitOffsetPagination)
def template_list(request: HttpRequest, filters: Query[TemplateFilter]):
    return selectors.template_list(actor=request.auth, channel=filters.channel, search=filters.search)


@router.post("/templates", response={201: TemplateOut, **errors(403, 404, 409)})
def template_create(request: HttpRequest, payload: TemplateIn):
    return 201, services.template_create(actor=request.auth, name=payload.name, purpose=payload.purpose,
                                         variables=payload.variables, bodies=_bodies(payload),
                                         node_id=payload.node_id)


@router.get("/templates/{template_id}", response={200: TemplateOut, **errors(404)})
def template_get(request: HttpRequest, template_id: int):
    return selectors.template_get(actor=request.auth, template_id=template_id)


@router.put("/templates/{template_id}", response={200: TemplateOut, **errors(403, 404, 409)})
def template_update(request: HttpRequest, template_id: int, payload: TemplateUpdate):
    return services.template_update(actor=request.auth, template_id=template_id, name=payload.name,
                                    purpose=payload.purpose, variables=payload.variables, bodies=_bodies(payload),
                                    is_active=payload.is_active)


@router.delete("/templates/{template_id}", response={204: None, **errors(403, 404)})
def template_delete(request: HttpRequest, template_id: int):
    services.template_delete(actor=request.auth, template_id=template_id)
    return 204, None


@router.post("/preview", response={200: list[PreviewOut], **errors(404)})
def template_preview_api(request: HttpRequest, payload: PreviewIn):
    """What each body would read like for a sample member (or a member of the caller's scope)."""
    return template_preview(actor=request.auth, bodies=_bodies(payload), variables=payload.variables,
                            purpose=payload.purpose, member_id=payload.member_id)


@router.get("/messages", response={200: list[MessageOut], **errors()})
@paginate(LimitOffsetPagination)
def message_list(request: HttpRequest, filters: Query[MessageFilter]):
    return selectors.message_list(actor=request.auth, **filters.dict())


@router.get("/messages/{message_id}", response={200: MessageOut, **errors(404)})
def message_get(request: HttpRequest, message_id: int):
    return selectors.message_get(actor=request.auth, message_id=message_id)


@router.get("/policy", response={200: PolicyIO, **errors()})
def policy_get(request: HttpRequest):
    return services.policy_get(request.auth.enterprise_id)


@router.put("/policy", response={200: PolicyIO, **errors(403)})
def policy_update(request: HttpRequest, payload: PolicyIO):
    return services.policy_update(actor=request.auth, **payload.dict())


@router.post("/receipts/{provider}", auth=None, response={200: ReceiptsOut, **errors(401, 413)})
def receipts(request: HttpRequest, provider: str):
    """A gateway's delivery receipts, signed with the provider's secret (X-Yundian-Signature: hex HMAC-SHA256 of
    the body). Applying a receipt twice changes nothing; receipts for unknown ids are counted, not errors."""
    from ninja.errors import AuthenticationError

    body = request.body
    if len(body) > 512 * 1024:
        raise PayloadTooLarge()
    if not signature_ok(provider[:40], body, request.headers.get("X-Yundian-Signature", "")):
        raise AuthenticationError()
    try:
        parsed = ReceiptsIn.model_validate(json.loads(body))
    except (ValueError, PydanticError) as exc:
        raise ValidationFailed(code="invalid_receipts") from exc
    return services.receipts_apply(provider=provider[:40], receipts=[r.dict() for r in parsed.receipts])

