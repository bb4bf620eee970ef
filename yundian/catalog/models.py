"""The catalogue of an enterprise: categories, products (SPU), SKUs, barcodes, media, price lists.

The catalogue is enterprise-wide (HQ owns it). Prices are integer minor units (fen) in the enterprise's
currency. A store's price is never copied: `pricing.price_resolve` reads the price lists attached to the
store's node and its ancestors live, so one change reaches every store at once.

Barcode scheme (GS1 "restricted circulation" prefixes 20-29 are for in-store use):
- prefix 20: internal codes generated here, EAN-13 shaped: "20" + 10-digit sequence + check digit;
- prefixes 21-29: weighted / price-embedded codes, decoded per `WeighedBarcodeScheme` of the enterprise
  ("2P" + item code (PLU) + value (grams or fen) + check digit), never stored as `Barcode` rows.
"""
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from yundian.core.models import BaseModel


class Category(BaseModel):
    """A node of the category tree. `path` is the chain of ids ("/3/17/"): a subtree is a prefix match."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="categories")
    parent = models.ForeignKey("self", verbose_name=_("parent category"),
                               on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(_("code"), max_length=40)
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    sort_order = models.IntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "code"], name="catalog_category_code_unique")]

    def __str__(self) -> str:
        return self.name


class Product(BaseModel):
    """A product (SPU): what the shopper sees; its SKUs are the sellable variants."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(Category, verbose_name=_("category"),
                                 on_delete=models.PROTECT, null=True, blank=True, related_name="products")
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    brand = models.CharField(_("brand"), max_length=80, blank=True)
    description = models.TextField(_("description"), blank=True)
    # free-form attributes, e.g. {"material": "cotton", "season": "SS26"}; flat str -> str|number|bool
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "code"], name="catalog_product_code_unique")]
        indexes = [models.Index(fields=["enterprise", "category"], name="catalog_product_category")]

    def __str__(self) -> str:
        return self.name


class MediaKind(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")


class ProductMedia(BaseModel):
    """An image (or video) of a product: an uploaded file or an external https URL. First by sort order is the cover."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="media")
    kind = models.CharField(_("kind"), max_length=8, choices=MediaKind.choices, default=MediaKind.IMAGE)
    url = models.URLField(_("URL"), max_length=500, blank=True)
    file = models.FileField(_("file"), upload_to="catalog/media/%Y/%m/", blank=True)
    alt_text = models.CharField(_("alternative text"), max_length=200, blank=True)
    sort_order = models.IntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("product media")
        verbose_name_plural = _("product media")
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(url="") | ~Q(file=""), name="catalog_media_has_source"),
        ]

    @property
    def src(self) -> str:
        return self.file.url if self.file else self.url


class Unit(models.TextChoices):
    PIECE = "pcs", _("piece")
    PAIR = "pair", _("pair")
    SET = "set", _("set")
    BOX = "box", _("box")
    PACK = "pack", _("pack")
    BOTTLE = "bottle", _("bottle")
    KILOGRAM = "kg", _("kilogram")
    METRE = "m", _("metre")


class Sku(BaseModel):
    """A sellable variant of a product (size/colour...). `base_price` (fen) is the price when no price list applies.

    A weighed SKU (`is_weighed`) is priced per kilogram and may carry a `plu`: the item code that weighing
    scales embed in prefix-2x barcodes.
    """

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="skus")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="skus")
    code = models.CharField(_("SKU code"), max_length=40)
    name = models.CharField(_("variant name"), max_length=200, blank=True)
    # the variant's options, e.g. {"colour": "black", "size": "42"}
    options = models.JSONField(_("options"), default=dict, blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.PIECE)
    base_price = models.BigIntegerField(_("base price (fen)"), default=0)
    is_weighed = models.BooleanField(_("sold by weight"), default=False)
    plu = models.CharField(_("scale item code (PLU)"), max_length=6, null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.IntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        ordering = ["product_id", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "code"], name="catalog_sku_code_unique"),
            models.UniqueConstraint(fields=["enterprise", "plu"], condition=Q(plu__isnull=False),
                                    name="catalog_sku_plu_unique"),
            models.CheckConstraint(condition=Q(base_price__gte=0), name="catalog_sku_base_price_gte_0"),
            models.CheckConstraint(condition=Q(plu__isnull=True) | Q(is_weighed=True), name="catalog_sku_plu_weighed"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()

    @property
    def label(self) -> str:
        """What a person calls the SKU: its product's name and, when it differs, the SKU's own (a size, a colour).
        Load the product with it (select_related("product"))."""
        product = self.product.name
        return f"{product} {self.name}" if self.name and self.name != product else product


class BarcodeKind(models.TextChoices):
    EAN13 = "ean13", _("EAN-13")
    UPCA = "upca", _("UPC-A")
    EAN8 = "ean8", _("EAN-8")
    INTERNAL = "internal", _("Internal (prefix 20)")


class Barcode(BaseModel):
    """One of a SKU's barcodes. Unique per enterprise, so a scan finds exactly one SKU."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="barcodes")
    code = models.CharField(_("barcode"), max_length=32)
    kind = models.CharField(_("kind"), max_length=10, choices=BarcodeKind.choices)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("barcode")
        verbose_name_plural = _("barcodes")
        ordering = ["sku_id", "-is_primary", "id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "code"], name="catalog_barcode_unique")]

    def __str__(self) -> str:
        return self.code


class BarcodeSequence(models.Model):
    """The next number for generated internal codes of an enterprise (taken under a row lock)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.CASCADE, related_name="+")
    prefix = models.CharField(max_length=4)
    next_value = models.BigIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enterprise", "prefix"], name="catalog_barcode_sequence_unique")]


class WeighedValue(models.TextChoices):
    WEIGHT = "weight", _("Weight in grams")
    PRICE = "price", _("Price in fen")


WEIGHED_PREFIXES = [str(p) for p in range(21, 30)]


class WeighedBarcodeScheme(BaseModel):
    """How an enterprise's scales print prefix-2x EAN-13s: "2P" + item code + value + check digit (13 digits)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.CASCADE, related_name="weighed_schemes")
    prefix = models.CharField(_("prefix"), max_length=2)
    item_digits = models.PositiveSmallIntegerField(_("item code digits"), default=5)
    value_digits = models.PositiveSmallIntegerField(_("value digits"), default=5)
    value_kind = models.CharField(_("value"), max_length=8, choices=WeighedValue.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("weighed barcode scheme")
        verbose_name_plural = _("weighed barcode schemes")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "prefix"], name="catalog_weighed_scheme_prefix_unique"),
            models.CheckConstraint(condition=Q(prefix__in=WEIGHED_PREFIXES), name="catalog_weighed_scheme_prefix_2x"),
            models.CheckConstraint(condition=Q(item_digits__gte=4, item_digits__lte=6)
                                   & Q(value_digits=10 - F("item_digits")), name="catalog_weighed_scheme_digits"),
        ]


class Channel(models.TextChoices):
    STORE = "store", _("In store")
    ONLINE = "online", _("Online")
    WHOLESALE = "wholesale", _("Wholesale")


class PriceList(BaseModel):
    """Prices for one channel, attached to an org node; applies to every store under that node.

    Resolution (pricing.price_resolve): the nearest node wins; within a node the highest priority, then the
    narrowest validity window, then the latest start; else the SKU's base price. `node` and `channel` are
    fixed once created (make a new list to move prices).
    """

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="price_lists")
    node = models.ForeignKey("org.OrgNode", verbose_name=_("org node"),
                             on_delete=models.PROTECT, related_name="price_lists")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    priority = models.SmallIntegerField(_("priority"), default=0)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "code"], name="catalog_price_list_code_unique"),
            models.CheckConstraint(condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True)
                                   | Q(valid_to__gt=F("valid_from")), name="catalog_price_list_window"),
        ]
        indexes = [models.Index(fields=["node", "channel"], name="catalog_price_list_node")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PriceEntry(BaseModel):
    """The price (fen) of one SKU in one price list."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="entries")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="price_entries")
    price = models.BigIntegerField(_("price (fen)"))

    class Meta:
        verbose_name = _("price entry")
        verbose_name_plural = _("price entries")
        ordering = ["price_list_id", "sku_id"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "sku"], name="catalog_price_entry_unique"),
            models.CheckConstraint(condition=Q(price__gte=0), name="catalog_price_entry_price_gte_0"),
        ]


class ImportRun(BaseModel):
    """One bulk import: what was asked, how many rows went in, and the per-row error report."""

    class Status(models.TextChoices):
        DONE = "done", _("Done")
        PARTIAL = "partial", _("Done with rejected rows")
        REJECTED = "rejected", _("Rejected")
        VALIDATED = "validated", _("Checked only (dry run)")

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, related_name="+")
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    mode = models.CharField(_("mode"), max_length=8)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    total_rows = models.PositiveIntegerField(default=0)
    imported_rows = models.PositiveIntegerField(default=0)
    rejected_rows = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)
    errors = models.JSONField(default=list)

    class Meta:
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        ordering = ["-id"]


class CategoryBuyer(BaseModel):
    """The HQ buyer (采购) who owns a category's range, prices and supply: diagnosis routes a category's problems
    (stock-outs, a range that stopped selling, returns) to them. A category without one inherits its parent's."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    category = models.OneToOneField(Category, verbose_name=_("category"), on_delete=models.CASCADE,
                                    related_name="buyer_assignment")
    buyer = models.ForeignKey("org.Staff", verbose_name=_("buyer"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("category buyer")
        verbose_name_plural = _("category buyers")

    def __str__(self) -> str:
        return f"{self.category} → {self.buyer}"
