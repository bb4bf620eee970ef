"""Stores: the profile of a store node, store templates, one-click opening's results, storefront themes (千店千面).

A store is an org node of kind "store" (yundian.org); its `StoreProfile` adds what a shopper and a map need
(address, coordinates, hours, status, pickup/delivery) and its public storefront address `slug` (/s/<slug>/).
A `StoreTemplate` is HQ's recipe for a new store: assortment, price list, theme, staff plan, hours and
replenishment defaults. Opening a store copies the recipe into the store's own rows (assortment rules, theme),
so later edits of the template never change open stores; the template's theme policy (allowed palette,
store-editable fields) stays live, so HQ can tighten what stores may change at any time.
"""
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from yundian.core.models import BaseModel

# the theme fields, in form order; a policy names which of them a store manager may change
THEME_FIELDS = ("logo_url", "primary_color", "accent_color", "banner_url", "featured_product_ids", "notice")
DEFAULT_PRIMARY = "#D4380D"
DEFAULT_ACCENT = "#FAAD14"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_time_zone() -> str:
    """A new store's time zone: the site's (settings.TIME_ZONE, Asia/Shanghai unless configured)."""
    return settings.TIME_ZONE


class ThemeFields(models.Model):
    """How a storefront looks. Colours are "#RRGGBB"; images are https or site-relative URLs."""

    logo_url = models.CharField(_("logo URL"), max_length=500, blank=True)
    primary_color = models.CharField(_("primary colour"), max_length=7, default=DEFAULT_PRIMARY)
    accent_color = models.CharField(_("accent colour"), max_length=7, default=DEFAULT_ACCENT)
    banner_url = models.CharField(_("banner image URL"), max_length=500, blank=True)
    # product ids in display order (at most 12); products outside the store's assortment are not shown
    featured_product_ids = models.JSONField(_("featured products"), default=list, blank=True)
    notice = models.CharField(_("notice"), max_length=280, blank=True)

    class Meta:
        abstract = True


class StorefrontPolicy(BaseModel):
    """What the stores of an enterprise may change on their storefront, unless their template says otherwise."""

    enterprise = models.OneToOneField("org.Enterprise", on_delete=models.CASCADE, related_name="storefront_policy")
    # "#RRGGBB" colours a store may pick from; empty: any colour
    allowed_palette = models.JSONField(_("allowed palette"), default=list, blank=True)
    # names from THEME_FIELDS a store manager may change
    editable_fields = models.JSONField(_("fields stores may change"), default=list, blank=True)

    class Meta:
        verbose_name = _("storefront policy")
        verbose_name_plural = _("storefront policies")


class StoreTemplate(ThemeFields, BaseModel):
    """HQ's recipe for opening a store in one click."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="store_templates")
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    # must apply to where stores open (attached to the parent node or above): prices are never copied
    price_list = models.ForeignKey("catalog.PriceList", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("price list"))
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+", verbose_name=_("products"))
    categories = models.ManyToManyField("catalog.Category", blank=True, related_name="+",
                                        verbose_name=_("categories"))
    # theme policy for stores opened from this template; null: the enterprise's policy applies
    theme_palette = models.JSONField(_("allowed palette"), null=True, blank=True)
    theme_editable_fields = models.JSONField(_("fields stores may change"), null=True, blank=True)
    # [{"role": "store_manager", "count": 1}, {"role": "guide", "count": 2}]
    staff_plan = models.JSONField(_("staff to create"), default=list, blank=True)
    # {"mon": [["09:00", "22:00"]], ..., "sun": []}: intervals per weekday, empty = closed that day
    opening_hours = models.JSONField(_("opening hours"), default=dict, blank=True)
    pickup_enabled = models.BooleanField(_("pickup in store"), default=True)
    delivery_enabled = models.BooleanField(_("delivery"), default=False)
    # replenishment defaults, read by inventory: keep at least min and order up to max days of cover
    min_days_cover = models.PositiveSmallIntegerField(_("minimum days of cover"), default=7)
    max_days_cover = models.PositiveSmallIntegerField(_("maximum days of cover"), default=21)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("store template")
        verbose_name_plural = _("store templates")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "code"], name="stores_template_code_unique"),
            models.CheckConstraint(condition=Q(min_days_cover__lte=F("max_days_cover")),
                                   name="stores_template_cover_order"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class StoreStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class StoreProfile(BaseModel):
    """What a store node needs to be found and visited. `slug` is its public storefront address."""

    node = models.OneToOneField("org.OrgNode", on_delete=models.PROTECT, related_name="store_profile")
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    template = models.ForeignKey(StoreTemplate, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="stores", verbose_name=_("template"))
    slug = models.CharField(_("storefront address"), max_length=80, unique=True)
    address = models.CharField(_("address"), max_length=200)
    city = models.CharField(_("city"), max_length=60)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    opening_hours = models.JSONField(_("opening hours"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=StoreStatus.choices, default=StoreStatus.OPEN)
    pickup_enabled = models.BooleanField(_("pickup in store"), default=True)
    delivery_enabled = models.BooleanField(_("delivery"), default=False)
    min_days_cover = models.PositiveSmallIntegerField(_("minimum days of cover"), default=7)
    max_days_cover = models.PositiveSmallIntegerField(_("maximum days of cover"), default=21)
    # an IANA name: the till, receipts, shift reports, the daily settlement and order pages read times in it
    time_zone = models.CharField(_("time zone"), max_length=64, default=default_time_zone)

    class Meta:
        verbose_name = _("store profile")
        verbose_name_plural = _("store profiles")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(latitude__gte=-90, latitude__lte=90)
                                   & Q(longitude__gte=-180, longitude__lte=180), name="stores_profile_coordinates"),
            models.CheckConstraint(condition=Q(min_days_cover__lte=F("max_days_cover")),
                                   name="stores_profile_cover_order"),
        ]
        # the nearest-store lookup filters by enterprise and a latitude band, then longitude (bounding box)
        indexes = [models.Index(fields=["enterprise", "latitude", "longitude"], name="stores_profile_geo")]

    def __str__(self) -> str:
        return self.slug


class StoreAssortment(BaseModel):
    """One assortment rule of a store: a product, or a whole category (with its sub-categories)."""

    store = models.ForeignKey(StoreProfile, on_delete=models.CASCADE, related_name="assortment")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    category = models.ForeignKey("catalog.Category", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")

    class Meta:
        verbose_name = _("assortment rule")
        verbose_name_plural = _("assortment rules")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(product__isnull=True, category__isnull=False)
                                   | Q(product__isnull=False, category__isnull=True), name="stores_assortment_one_target"),
            models.UniqueConstraint(fields=["store", "product"], condition=Q(product__isnull=False),
                                    name="stores_assortment_product_unique"),
            models.UniqueConstraint(fields=["store", "category"], condition=Q(category__isnull=False),
                                    name="stores_assortment_category_unique"),
        ]


class StorefrontTheme(ThemeFields, BaseModel):
    """The look of one store's storefront, changed by the store within its policy (or by HQ freely)."""

    store = models.OneToOneField(StoreProfile, on_delete=models.CASCADE, related_name="theme")

    class Meta:
        verbose_name = _("storefront theme")
        verbose_name_plural = _("storefront themes")
