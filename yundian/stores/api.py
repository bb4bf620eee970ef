"""Stores API (/api/v1/stores): nearest store (public), store profiles, templates, one-click opening, the
storefront policy and each store's theme. Parse -> one service/selector -> schema."""
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from yundian.core.errors import ValidationFailed
from yundian.core.pagination import LimitOffsetPagination
from yundian.core.schemas import SafeStr, errors
from yundian.org.models import Enterprise
from yundian.org.roles import Perm
from yundian.org.selectors import staff_for_user
from yundian.org.services import api_token_authenticate

from . import selectors, services

router = Router(tags=["stores"])


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class StoreOut(Schema):
    id: int
    code: str
    name: str
    slug: str
    url: str
    address: str
    city: str
    latitude: float
    longitude: float
    phone: str
    opening_hours: dict[str, list[list[str]]]
    status: str
    pickup_enabled: bool
    delivery_enabled: bool

    @staticmethod
    def resolve_id(obj) -> int:
        return obj.node_id

    @staticmethod
    def resolve_code(obj) -> str:
        return obj.node.code

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.node.name

    @staticmethod
    def resolve_url(obj) -> str:
        return reverse("stores:storefront", args=[obj.slug])


class StoreDetailOut(StoreOut):
    template_id: int | None
    min_days_cover: int
    max_days_cover: int
    time_zone: str


class NearbyOut(StoreOut):
    distance_km: float

    @staticmethod
    def resolve_distance_km(obj) -> float:
        return round(obj.distance_km, 3)


class NearestQuery(Schema):
    lat: float
    lng: float
    limit: int = Field(5, ge=1, le=selectors.MAX_NEAREST)
    max_km: float | None = Field(None, gt=0, le=20100)
    enterprise: SafeStr | None = Field(None, max_length=32, description="enterprise code; needed when not signed in")


class StoreFilter(Schema):
    q: SafeStr | None = Field(None, max_length=64)


class ProfileFields(Strict):
    address: str = Field(..., max_length=200)
    city: str = Field(..., max_length=60)
    latitude: float
    longitude: float
    phone: str = Field("", max_length=20)


class ProfileIn(ProfileFields):
    template_id: int | None = None


class ServicesPatch(Strict):
    """Pickup, delivery and days of stock cover: what a store profile and a template both change."""
    pickup_enabled: bool | None = None
    delivery_enabled: bool | None = None
    min_days_cover: int | None = None
    max_days_cover: int | None = None


class ProfilePatch(ServicesPatch):
    address: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=60)
    latitude: float | None = None
    longitude: float | None = None
    phone: str | None = Field(None, max_length=20)
    opening_hours: dict[str, list[list[str]]] | None = None
    status: str | None = Field(None, max_length=8)
    time_zone: str | None = Field(None, max_length=64)


class OpenIn(ProfileFields):
    template_id: int
    time_zone: str = Field("", max_length=64)
    parent_id: int
    code: str = Field(..., max_length=32)
    name: str = Field(..., max_length=120)
    client_key: str = Field(..., min_length=1, max_length=128)


class AccountOut(Schema):
    staff_id: int
    username: str
    role: str
    password: str | None


class OpeningOut(Schema):
    store: StoreDetailOut
    warehouse_id: int
    accounts: list[AccountOut]
    replayed: bool


class StaffPlanItem(Strict):
    role: str = Field(..., max_length=32)
    count: int


class ThemeOut(Schema):
    store_id: int
    logo_url: str
    primary_color: str
    accent_color: str
    banner_url: str
    featured_product_ids: list[int]
    notice: str
    allowed_palette: list[str]
    editable_fields: list[str]

    @staticmethod
    def resolve_store_id(obj) -> int:
        return obj.store.node_id

    @staticmethod
    def resolve_allowed_palette(obj) -> list[str]:
        return selectors.theme_policy_for(obj.store).allowed_palette

    @staticmethod
    def resolve_editable_fields(obj) -> list[str]:
        return selectors.theme_policy_for(obj.store).editable_fields


class ThemePatch(Strict):
    logo_url: str | None = Field(None, max_length=500)
    primary_color: str | None = Field(None, max_length=7)
    accent_color: str | None = Field(None, max_length=7)
    banner_url: str | None = Field(None, max_length=500)
    featured_product_ids: list[int] | None = None
    notice: str | None = Field(None, max_length=280)


class TemplateFields(Strict):
    description: str = Field("", max_length=2000)
    price_list_id: int | None = None
    product_ids: list[int] = []
    category_ids: list[int] = []
    logo_url: str = Field("", max_length=500)
    primary_color: str = Field("#D4380D", max_length=7)
    accent_color: str = Field("#FAAD14", max_length=7)
    banner_url: str = Field("", max_length=500)
    featured_product_ids: list[int] = []
    notice: str = Field("", max_length=280)
    theme_palette: list[str] | None = None
    theme_editable_fields: list[str] | None = None
    staff_plan: list[StaffPlanItem] = [StaffPlanItem(role="store_manager", count=1), StaffPlanItem(role="guide", count=2)]
    opening_hours: dict[str, list[list[str]]] | None = None
    pickup_enabled: bool = True
    delivery_enabled: bool = False
    min_days_cover: int = 7
    max_days_cover: int = 21


class TemplateIn(TemplateFields):
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=120)


class TemplatePatch(ServicesPatch):
    name: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=2000)
    price_list_id: int | None = None
    product_ids: list[int] | None = None
    category_ids: list[int] | None = None
    logo_url: str | None = Field(None, max_length=500)
    primary_color: str | None = Field(None, max_length=7)
    accent_color: str | None = Field(None, max_length=7)
    banner_url: str | None = Field(None, max_length=500)
    featured_product_ids: list[int] | None = None
    notice: str | None = Field(None, max_length=280)
    theme_palette: list[str] | None = None
    theme_editable_fields: list[str] | None = None
    staff_plan: list[StaffPlanItem] | None = None
    opening_hours: dict[str, list[list[str]]] | None = None
    is_active: bool | None = None


class TemplateOut(Schema):
    id: int
    code: str
    name: str
    description: str
    price_list_id: int | None
    product_ids: list[int]
    category_ids: list[int]
    logo_url: str
    primary_color: str
    accent_color: str
    banner_url: str
    featured_product_ids: list[int]
    notice: str
    theme_palette: list[str] | None
    theme_editable_fields: list[str] | None
    staff_plan: list[dict]
    opening_hours: dict[str, list[list[str]]]
    pickup_enabled: bool
    delivery_enabled: bool
    min_days_cover: int
    max_days_cover: int
    is_active: bool

    @staticmethod
    def resolve_product_ids(obj) -> list[int]:
        return sorted(p.pk for p in obj.products.all())

    @staticmethod
    def resolve_category_ids(obj) -> list[int]:
        return sorted(c.pk for c in obj.categories.all())


class PolicyIO(Strict):
    allowed_palette: list[str]
    editable_fields: list[str]


# nullable fields a PATCH may clear by sending null explicitly
_NULLABLE_TEMPLATE_FIELDS = {"price_list_id", "theme_palette", "theme_editable_fields"}


def _patch_dict(payload: Schema, nullable: set[str] = frozenset()) -> dict:
    """The fields the client sent; null is refused except for fields that may be cleared."""
    sent = payload.dict(exclude_unset=True)
    nulls = sorted(k for k, v in sent.items() if v is None and k not in nullable)
    if nulls:
        raise ValidationFailed(code="null_not_allowed", details={"fields": nulls})
    return sent


def _template_fields(sent: dict) -> dict:
    if "opening_hours" in sent and sent["opening_hours"] is None:
        sent.pop("opening_hours")
    return sent


def _shopper_enterprise(request: HttpRequest, code: str | None) -> int:
    """The enterprise whose stores a nearest-store request searches: named by code, else the caller's own."""
    if code:
        enterprise_id = Enterprise.objects.filter(code=code).values_list("pk", flat=True).first()
        if enterprise_id is None:
            raise ValidationFailed(code="unknown_enterprise", details={"field": "enterprise"})
        return enterprise_id
    header = request.headers.get("Authorization", "")
    staff = api_token_authenticate(header[7:]) if header.startswith("Bearer ") else staff_for_user(request.user)
    if staff is None:
        raise ValidationFailed(code="enterprise_required", details={"field": "enterprise"})
    return staff.enterprise_id


# --- public -------------------------------------------------------------------------------------------------

@router.get("/nearest", response={200: list[NearbyOut], **errors()}, auth=None)
def store_nearest(request: HttpRequest, query: Query[NearestQuery]):
    """The open stores nearest to a point, nearest first (public: what a shopper's storefront shows)."""
    enterprise_id = _shopper_enterprise(request, query.enterprise)
    return selectors.store_nearest(enterprise_id=enterprise_id, latitude=query.lat, longitude=query.lng,
                                   limit=query.limit, max_km=query.max_km)


# --- templates and policy (before /{store_id}) --------------------------------------------------------------

@router.get("/templates", response={200: list[TemplateOut], **errors()})
def store_template_list(request: HttpRequest):
    return list(selectors.store_template_list(actor=request.auth).prefetch_related("products", "categories"))


@router.post("/templates", response={201: TemplateOut, **errors(403, 404, 409)})
def store_template_create(request: HttpRequest, payload: TemplateIn):
    fields = payload.dict()
    fields["staff_plan"] = [dict(item) for item in fields["staff_plan"]]
    template = services.store_template_create(actor=request.auth, **_template_fields(fields))
    return Status(201, template)


@router.get("/templates/{template_id}", response={200: TemplateOut, **errors(404)})
def store_template_get(request: HttpRequest, template_id: int):
    return selectors.store_template_get(actor=request.auth, template_id=template_id)


@router.patch("/templates/{template_id}", response={200: TemplateOut, **errors(403, 404, 409)})
def store_template_update(request: HttpRequest, template_id: int, payload: TemplatePatch):
    changes = _patch_dict(payload, _NULLABLE_TEMPLATE_FIELDS)
    return services.store_template_update(actor=request.auth, template_id=template_id, **changes)


@router.get("/policy", response={200: PolicyIO, **errors()})
def storefront_policy_get(request: HttpRequest):
    policy = selectors.enterprise_policy(request.auth.enterprise_id)
    return {"allowed_palette": policy.allowed_palette, "editable_fields": policy.editable_fields}


@router.put("/policy", response={200: PolicyIO, **errors(403)})
def storefront_policy_set(request: HttpRequest, payload: PolicyIO):
    return services.storefront_policy_set(actor=request.auth, **payload.dict())


@router.post("/open", response={200: OpeningOut, 201: OpeningOut, **errors(403, 404, 409)})
def store_open(request: HttpRequest, payload: OpenIn):
    """Open a store from a template in one click. 201 with initial passwords; a repeat with the same
    `client_key` answers 200 with the same store and no passwords; the same key with another body is a 409."""
    opening = services.store_open_from_template(actor=request.auth, **payload.dict())
    body = {"store": opening.profile, "warehouse_id": opening.warehouse.id, "accounts": opening.accounts,
            "replayed": opening.replayed}
    return Status(200 if opening.replayed else 201, body)


# --- stores ----------------------------------------------------------------------------------------------------

@router.get("", response={200: list[StoreDetailOut], **errors()})
@paginate(LimitOffsetPagination)
def store_list(request: HttpRequest, filters: Query[StoreFilter]):
    return selectors.store_list(actor=request.auth, search=filters.q)


@router.get("/{store_id}", response={200: StoreDetailOut, **errors(404)})
def store_get(request: HttpRequest, store_id: int):
    return selectors.store_get(actor=request.auth, store_id=store_id)


@router.post("/{store_id}/profile", response={201: StoreDetailOut, **errors(403, 404, 409)})
def store_profile_create(request: HttpRequest, store_id: int, payload: ProfileIn):
    return Status(201, services.store_profile_create(actor=request.auth, store_id=store_id, **payload.dict()))


@router.patch("/{store_id}", response={200: StoreDetailOut, **errors(403, 404)})
def store_profile_update(request: HttpRequest, store_id: int, payload: ProfilePatch):
    return services.store_profile_update(actor=request.auth, store_id=store_id, **_patch_dict(payload))


@router.get("/{store_id}/theme", response={200: ThemeOut, **errors(403, 404)})
def theme_get(request: HttpRequest, store_id: int):
    return selectors.theme_get(actor=request.auth, store_id=store_id, perm=Perm.ORG_VIEW)


@router.patch("/{store_id}/theme", response={200: ThemeOut, **errors(403, 404)})
def theme_update(request: HttpRequest, store_id: int, payload: ThemePatch):
    return services.storefront_theme_update(actor=request.auth, store_id=store_id, **_patch_dict(payload))
