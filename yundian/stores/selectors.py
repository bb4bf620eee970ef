"""Store reads. Staff reads are scoped with yundian.org.selectors (404 outside the actor's view); the public
storefront reads (`storefront_*`, `store_nearest` for shoppers) show only what a shopper may see: open stores'
public fields, active products of the store's assortment and their online prices.
"""
import math
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import or_
from zoneinfo import available_timezones

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yundian.catalog.models import Channel, Product, ProductMedia, Sku
from yundian.catalog.pricing import PriceResolution, price_resolve_many
from yundian.core.errors import NotFound, ValidationFailed
from yundian.org import selectors as org_selectors
from yundian.org.models import Staff
from yundian.org.roles import Perm

from .models import THEME_FIELDS, StorefrontPolicy, StorefrontTheme, StoreProfile, StoreStatus, StoreTemplate

# what stores may change when HQ has set nothing: everything but the logo (the brand's), any colour
THEME_MEDIA_DIR = "stores/theme"  # uploaded logos and banners: <MEDIA_ROOT>/stores/theme/<enterprise id>/<hash>.<ext>
BUILT_IN_BANNERS = ("spring", "ocean", "forest", "autumn")  # static/stores/banners/<name>.svg


def theme_image_choices(enterprise_id: int, current: str = "") -> list[str]:
    """Images a logo or banner may be picked from: the built-in banners and every image the enterprise uploaded
    (newest first), plus the current one if it is elsewhere (an https address set through the API)."""
    choices = [f"/static/stores/banners/{name}.svg" for name in BUILT_IN_BANNERS]
    folder = f"{THEME_MEDIA_DIR}/{enterprise_id}"
    if default_storage.exists(folder):
        files = default_storage.listdir(folder)[1]
        files.sort(key=lambda f: default_storage.get_modified_time(f"{folder}/{f}"), reverse=True)
        media = "/" + settings.MEDIA_URL.strip("/")
        choices += [f"{media}/{folder}/{f}" for f in files[:60]]
    if current and current not in choices:
        choices.append(current)
    return choices


DEFAULT_EDITABLE_FIELDS = ("primary_color", "accent_color", "banner_url", "featured_product_ids", "notice")
EARTH_RADIUS_KM = 6371.0088
HALF_CIRCUMFERENCE_KM = math.pi * EARTH_RADIUS_KM
# the nearest-store search widens its bounding box through these radii until it has enough stores
SEARCH_RADII_KM = (3, 15, 60, 250, 1000, 4000)
MAX_NEAREST = 50
STOREFRONT_CHANNEL = Channel.ONLINE


# --- staff reads -----------------------------------------------------------------------------------------

def store_list(*, actor: Staff, perm: str = Perm.ORG_VIEW, search: str | None = None) -> QuerySet[StoreProfile]:
    """Store profiles in the actor's scope for `perm` (by default: the stores they can see)."""
    qs = (StoreProfile.objects.filter(org_selectors.scope_q(actor, perm, "node__path"), enterprise_id=actor.enterprise_id)
          .select_related("node", "template", "theme"))
    if search:
        search = search.strip()[:64]
        qs = qs.filter(Q(node__name__icontains=search) | Q(node__code__icontains=search) | Q(city__icontains=search))
    return qs.order_by("node__path")


def store_time_zone(store_id: int) -> str:
    """The IANA time zone a store's pages, receipts and business days are read in: its profile's, else the
    site's (a store node without a profile)."""
    zone = StoreProfile.objects.filter(node_id=store_id).values_list("time_zone", flat=True).first()
    return zone or settings.TIME_ZONE


def time_zone_choices() -> list[str]:
    """Every IANA time zone name a store may be set to, sorted."""
    return sorted(available_timezones())


def store_get(*, actor: Staff, store_id: int) -> StoreProfile:
    """The profile of the store node `store_id` if the actor can see it (else 404)."""
    profile = store_list(actor=actor).filter(node_id=store_id).first()
    if profile is None:
        raise NotFound(_("Store not found."), code="store_not_found")
    return profile


def _may_read_templates(actor: Staff) -> bool:
    return org_selectors.has_perm(actor, Perm.TEMPLATE_MANAGE) or org_selectors.has_perm(actor, Perm.STORE_OPEN)


def store_template_list(*, actor: Staff, include_inactive: bool = True) -> QuerySet[StoreTemplate]:
    if not _may_read_templates(actor):
        return StoreTemplate.objects.none()
    qs = StoreTemplate.objects.filter(enterprise_id=actor.enterprise_id).select_related("price_list")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("id")


def store_template_get(*, actor: Staff, template_id: int) -> StoreTemplate:
    template = store_template_list(actor=actor).filter(pk=template_id).prefetch_related("products", "categories").first()
    if template is None:
        raise NotFound(_("Store template not found."), code="template_not_found")
    return template


# --- theme policy ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ThemePolicy:
    allowed_palette: list[str]  # empty: any colour
    editable_fields: list[str]
    source: str  # "template", "enterprise" or "default"


def enterprise_policy(enterprise_id: int) -> ThemePolicy:
    policy = StorefrontPolicy.objects.filter(enterprise_id=enterprise_id).first()
    if policy is None:
        return ThemePolicy([], list(DEFAULT_EDITABLE_FIELDS), "default")
    return ThemePolicy(list(policy.allowed_palette), list(policy.editable_fields), "enterprise")


def theme_policy_for(profile: StoreProfile) -> ThemePolicy:
    """What the store's manager may change: the template's palette/fields where set, else the enterprise's."""
    base = enterprise_policy(profile.enterprise_id)
    template = profile.template
    if template is None or (template.theme_palette is None and template.theme_editable_fields is None):
        return base
    return ThemePolicy(
        list(template.theme_palette) if template.theme_palette is not None else base.allowed_palette,
        list(template.theme_editable_fields) if template.theme_editable_fields is not None else base.editable_fields,
        "template",
    )


def theme_get(*, actor: Staff, store_id: int, perm: str = Perm.STOREFRONT_EDIT) -> StorefrontTheme:
    """The store's theme for someone who may edit it: 404 outside the actor's view, 403 without `perm` there."""
    profile = store_get(actor=actor, store_id=store_id)
    org_selectors.require(actor, perm, profile.node)
    theme = getattr(profile, "theme", None)
    if theme is None:
        raise NotFound(_("This store has no storefront yet."), code="theme_not_found")
    return theme


def theme_values(theme) -> dict:
    return {name: getattr(theme, name) for name in THEME_FIELDS}


# --- nearest store ----------------------------------------------------------------------------------------

def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in km on the mean Earth sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


_PAD = Decimal("0.000002")


def _deg(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def bounding_box_q(latitude: float, longitude: float, radius_km: float) -> Q:
    """A filter holding every point within `radius_km` of the centre (and some more): a latitude band and,
    away from the poles, a longitude band (split in two across the 180th meridian)."""
    angle = radius_km / EARTH_RADIUS_KM
    lat_min, lat_max = latitude - math.degrees(angle), latitude + math.degrees(angle)
    q = Q(latitude__gte=_deg(max(lat_min, -90)) - _PAD, latitude__lte=_deg(min(lat_max, 90)) + _PAD)
    if lat_min <= -90 or lat_max >= 90 or math.sin(angle) >= math.cos(math.radians(latitude)):
        return q  # the circle covers a pole: every longitude
    spread = math.degrees(math.asin(math.sin(angle) / math.cos(math.radians(latitude))))
    lng_min, lng_max = longitude - spread, longitude + spread
    if lng_min < -180:
        band = Q(longitude__gte=_deg(lng_min + 360) - _PAD) | Q(longitude__lte=_deg(lng_max) + _PAD)
    elif lng_max > 180:
        band = Q(longitude__gte=_deg(lng_min) - _PAD) | Q(longitude__lte=_deg(lng_max - 360) + _PAD)
    else:
        band = Q(longitude__gte=_deg(lng_min) - _PAD, longitude__lte=_deg(lng_max) + _PAD)
    return q & band


def clean_nearest_args(latitude, longitude, limit, max_km) -> tuple[float, float, int, float | None]:
    from .services._clean import clean_coordinate, clean_int

    lat = float(clean_coordinate(latitude, "lat", 90))
    lng = float(clean_coordinate(longitude, "lng", 180))
    limit = clean_int(limit, "limit", 1, MAX_NEAREST)
    if max_km is not None:
        if isinstance(max_km, bool) or not isinstance(max_km, int | float) or not math.isfinite(max_km) \
                or not 0 < max_km <= 20100:
            raise ValidationFailed(_("The search radius is more than 0 and at most 20,100 km."), code="invalid_radius",
                                   details={"field": "max_km"})
    return lat, lng, limit, max_km


def store_nearest(*, enterprise_id: int, latitude, longitude, limit: int = 5, max_km: float | None = None,
                  only_open: bool = True, scope: Q | None = None) -> list[StoreProfile]:
    """The `limit` stores nearest to a point, nearest first, each with `.distance_km` set.

    The database returns only the stores inside a bounding box around the point (indexed latitude band plus
    longitude band); the box widens (3, 15, 60 ... km) until it holds `limit` stores within its radius, so the
    answer is exact and a city-centre query reads a handful of rows even at 2,000 stores. Only active store
    nodes; only open stores unless `only_open` is false; `scope` narrows further (a staff member's subtree).
    """
    lat, lng, limit, max_km = clean_nearest_args(latitude, longitude, limit, max_km)
    base = StoreProfile.objects.filter(enterprise_id=enterprise_id, node__is_active=True).select_related("node")
    if only_open:
        base = base.filter(status=StoreStatus.OPEN)
    if scope is not None:
        base = base.filter(scope)
    radii: list[float | None] = [r for r in SEARCH_RADII_KM if max_km is None or r < max_km]
    radii.append(max_km)
    for radius in radii:
        if radius is None or radius >= HALF_CIRCUMFERENCE_KM:
            rows, radius = list(base), None
        else:
            rows = list(base.filter(bounding_box_q(lat, lng, radius)))
        hits = []
        for profile in rows:
            distance = haversine_km(lat, lng, float(profile.latitude), float(profile.longitude))
            if radius is None or distance <= radius:
                profile.distance_km = distance
                hits.append(profile)
        if len(hits) >= limit or radius == radii[-1] or radius is None:
            hits.sort(key=lambda p: (p.distance_km, p.pk))
            return hits[:limit]
    return []  # pragma: no cover - the last radius always returns


# --- public storefront --------------------------------------------------------------------------------------

def storefront_get(*, slug: str) -> StoreProfile:
    """A store's public storefront by its address; 404 if unknown or the store node is closed down."""
    if not isinstance(slug, str) or not 0 < len(slug) <= 80:
        raise NotFound(_("Store not found."), code="store_not_found")
    profile = (StoreProfile.objects.filter(slug=slug, node__is_active=True)
               .select_related("node", "enterprise", "theme", "template").first())
    if profile is None:
        raise NotFound(_("Store not found."), code="store_not_found")
    return profile


def assortment_q(profile: StoreProfile) -> Q:
    """Products in the store's assortment: listed products, and products of listed categories (and below)."""
    rules = list(profile.assortment.values_list("product_id", "category__path"))
    product_ids = [p for p, _c in rules if p]
    parts = [Q(pk__in=product_ids)] if product_ids else []
    parts += [Q(category__path__startswith=path) for _p, path in rules if path]
    return reduce(or_, parts) if parts else Q(pk__in=[])


def assortment_products(profile: StoreProfile) -> QuerySet[Product]:
    """Active products of the store's assortment (inventory and the storefront read the assortment here)."""
    return Product.objects.filter(assortment_q(profile), enterprise_id=profile.enterprise_id, is_active=True)


def _with_skus_and_media(qs: QuerySet[Product]) -> QuerySet[Product]:
    return qs.prefetch_related(
        Prefetch("skus", queryset=Sku.objects.filter(is_active=True).order_by("sort_order", "id"), to_attr="live_skus"),
        Prefetch("media", queryset=ProductMedia.objects.order_by("sort_order", "id"), to_attr="media_list"),
    )


def storefront_products(profile: StoreProfile, *, search: str | None = None) -> QuerySet[Product]:
    qs = assortment_products(profile).select_related("category")
    if search:
        search = search.strip()[:64]
        qs = qs.filter(Q(name__icontains=search) | Q(brand__icontains=search) | Q(code__iexact=search))
    return _with_skus_and_media(qs).order_by("category__path", "id")


def storefront_featured(profile: StoreProfile) -> list[Product]:
    theme = getattr(profile, "theme", None)
    ids = list(theme.featured_product_ids) if theme else []
    if not ids:
        return []
    found = {p.pk: p for p in _with_skus_and_media(assortment_products(profile).filter(pk__in=ids))}
    return [found[i] for i in ids if i in found]


def storefront_product(profile: StoreProfile, *, product_id: int) -> Product:
    product = _with_skus_and_media(assortment_products(profile).filter(pk=product_id).select_related("category")).first()
    if product is None:
        raise NotFound(_("Product not found."), code="product_not_found")
    return product


@dataclass(frozen=True)
class ProductPrice:
    low: PriceResolution | None  # the cheapest SKU's price
    high: PriceResolution | None
    by_sku: dict[int, PriceResolution]


def storefront_prices(profile: StoreProfile, products: list[Product]) -> dict[int, ProductPrice]:
    """Online prices at this store for the products' active SKUs, resolved in one batch by the catalogue."""
    skus = [sku for product in products for sku in product.live_skus]
    resolved = price_resolve_many(skus, profile.node, STOREFRONT_CHANNEL) if skus else {}
    prices = {}
    for product in products:
        own = [resolved[s.pk] for s in product.live_skus]
        ordered = sorted(own, key=lambda r: r.price.amount)
        prices[product.pk] = ProductPrice(ordered[0] if ordered else None, ordered[-1] if ordered else None,
                                          {s.pk: resolved[s.pk] for s in product.live_skus})
    return prices


# --- what every public storefront page shows around its content ------------------------------------------------------

def text_on(colour: str) -> str:
    """White or near-black text for a "#RRGGBB" background (WCAG relative luminance and contrast)."""
    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i:i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # white wherever it reaches 3:1 (WCAG's minimum for large and bold text, as in the header), else near-black
    return "#FFFFFF" if 1.05 / (luminance + 0.05) >= 3 else "#1F1F1F"


def storefront_context(profile: StoreProfile) -> dict:
    """What the storefront's base template needs: the store, its theme (千店千面) and the text colour on it, whether
    it is closed, today's and the week's opening hours. Any context's storefront pages (members' account pages
    too) render their content inside it."""
    from django.utils import timezone

    from .models import WEEKDAYS

    theme = getattr(profile, "theme", None)
    hours = profile.opening_hours or {}
    today = WEEKDAYS[timezone.localtime().weekday()]
    return {"store": profile, "theme": theme, "on_primary": text_on(theme.primary_color if theme else "#D4380D"),
            "is_closed": profile.status == StoreStatus.CLOSED, "today_hours": hours.get(today, []),
            "week_hours": [(WEEKDAY_LABELS[d], hours.get(d, [])) for d in WEEKDAYS]}


WEEKDAY_LABELS = {"mon": _("Monday"), "tue": _("Tuesday"), "wed": _("Wednesday"), "thu": _("Thursday"),
                  "fri": _("Friday"), "sat": _("Saturday"), "sun": _("Sunday")}
