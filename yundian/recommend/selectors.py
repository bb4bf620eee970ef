"""Serving recommendations in process: the enterprise's last good model (a fitted version, loaded once per process and
version), filtered to what the store can sell now and what the member may be shown.

Every slot goes through `recommendations(...)`:
- the model's candidates (co-purchase for "goes with", the blend or the experiment's strategy for a member);
- only products the store can promise now (inventory ATP > 0: the store's own shelf at the till, any pool the
  storefront may ship from online), active and in the store's assortment;
- durable products (a category members hardly ever buy twice) the member already owns are not shown again;
- consent: a member who withdrew behaviour tracking or personalised recommendations gets the store's best sellers,
  with nothing of their own history used (and so no "because you bought …");
- each item with its reason, turned into a translated sentence when shown (`Item.reason`).
An A/B experiment on the slot picks the strategy per member (or per visitor session); the holdout sees no block.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yundian.catalog.models import Product, Sku
from yundian.cdp.models import EventInbox
from yundian.inventory.selectors import atp
from yundian.members.models import ConsentChannel, ConsentState, Member
from yundian.org.models import OrgNode
from yundian.sales.models import OrderLine, OrderStatus

from . import learn
from .models import Experiment, ModelStatus, RecommendModelVersion

HISTORY_DAYS = 365
BROWSING_DAYS = 14
SOLD = (OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_RETURNED)
HOLDOUT = "holdout"
PERSONALISATION_OFF = (ConsentChannel.TRACKING, "personalised")

_models: dict[tuple, learn.RecommendModel] = {}  # (pk, created_at): a pk alone may come back after a restore
_models_lock = threading.Lock()


@dataclass(frozen=True)
class Item:
    product_id: int
    model: str
    because_product_id: int | None
    because_name: str = ""
    because_viewed: bool = False

    @property
    def reason(self) -> str:
        """Why this product is shown, in the reader's language."""
        name = self.because_name
        if self.model == "copurchase" and name and self.because_viewed:
            return _("Goes with %(name)s") % {"name": name}
        if self.model == "sequence" and name:
            return _("Members who bought %(name)s bought this next") % {"name": name}
        if name and self.because_viewed:
            return _("Because you looked at %(name)s") % {"name": name}
        if name:
            return _("Because you bought %(name)s") % {"name": name}
        return _("Popular at this store")


@dataclass
class Block:
    slot: str
    items: list[Item] = field(default_factory=list)
    experiment_id: int | None = None
    variant: str = "blend"
    personalised: bool = False
    model_version: int | None = None

    @property
    def shown(self) -> bool:
        return bool(self.items) and self.variant != HOLDOUT


# --- the model --------------------------------------------------------------------------------------------------

def serving_version(enterprise_id: int) -> RecommendModelVersion | None:
    """The enterprise's latest fitted version (without its artifact)."""
    return (RecommendModelVersion.objects.filter(enterprise_id=enterprise_id, status=ModelStatus.FITTED)
            .defer("artifact").order_by("-version").first())


def serving_model(enterprise_id: int) -> tuple[int, learn.RecommendModel] | None:
    """(version number, model) of the last good model, loaded once per process and version; None before any."""
    row = (RecommendModelVersion.objects.filter(enterprise_id=enterprise_id, status=ModelStatus.FITTED)
           .order_by("-version").values_list("pk", "version", "created_at").first())
    if row is None:
        return None
    pk, version, created_at = row
    key = (pk, created_at)
    model = _models.get(key)
    if model is None:
        blob = RecommendModelVersion.objects.filter(pk=pk).values_list("artifact", flat=True).first()
        model = learn.RecommendModel.loads(bytes(blob))
        with _models_lock:
            for old in [k for k in _models if k != key][:-2]:  # keep a few: versions are large, kept while serving
                _models.pop(old, None)
            _models[key] = model
    return version, model


# --- who may be shown what --------------------------------------------------------------------------------------

def personalisation_allowed(member: Member | None) -> bool:
    """A member is shown recommendations from their own history unless they withdrew behaviour tracking or
    personalised recommendations."""
    if member is None:
        return False
    return not ConsentState.objects.filter(member=member, channel__in=PERSONALISATION_OFF, granted=False).exists()


def member_history(member: Member, *, now=None) -> tuple[dict[int, float], set[int], set[int]]:
    """({product: weight}, products bought, products viewed or added to a cart) from the member's purchases of the
    last year and their storefront browsing of the last two weeks (the events inbox, before the warehouse has it)."""
    from .warehouse_inputs import KIND_WEIGHTS

    now = now or timezone.now()
    history: dict[int, float] = {}
    bought: set[int] = set()
    rows = (OrderLine.objects.filter(order__member=member, order__status__in=SOLD,
                                     order__placed_at__gte=now - timedelta(days=HISTORY_DAYS))
            .values_list("sku__product_id", "quantity", "returned_quantity"))
    for product_id, quantity, returned in rows:
        if quantity > returned:
            history[product_id] = history.get(product_id, 0.0) + KIND_WEIGHTS["purchase"]
            bought.add(product_id)
    seen = (EventInbox.objects.filter(enterprise_id=member.enterprise_id, member_id=member.pk,
                                      kind__in=("product_view", "add_to_cart"),
                                      occurred_at__gte=now - timedelta(days=BROWSING_DAYS), sku_id__isnull=False)
            .values_list("kind", "sku_id")[:500])
    seen = list(seen)
    product_of = dict(Sku.objects.filter(pk__in={s for _k, s in seen}).values_list("pk", "product_id"))
    viewed: set[int] = set()
    for kind, sku_id in seen:
        product_id = product_of.get(sku_id)
        if product_id is not None:
            history[product_id] = history.get(product_id, 0.0) + KIND_WEIGHTS[kind]
            viewed.add(product_id)
    return history, bought, viewed - bought


def available(store: OrgNode, product_ids: list[int], *, shelf_only: bool = False) -> set[int]:
    """The products among these that the store can promise now (an active SKU with ATP > 0): on its own shelf
    (`shelf_only`, the till) or in any pool the storefront may ship from."""
    skus = list(Sku.objects.filter(product_id__in=product_ids, is_active=True, product__is_active=True)
                .values_list("pk", "product_id"))
    promised = atp(sku_ids=[s for s, _p in skus], store_node=store)
    out = set()
    for sku_id, product_id in skus:
        figure = promised.get(sku_id)
        if figure is not None and (figure.store if shelf_only else figure.total) > 0:
            out.add(product_id)
    return out


# --- experiments ------------------------------------------------------------------------------------------------

def variant_of(experiment: Experiment, unit: str) -> str:
    """The variant a member or visitor sees: a hash of the experiment and the unit into 10,000 buckets, cut by the
    variants' shares in order (stable across pages, processes and devices for a member)."""
    digest = hashlib.sha256(f"{experiment.pk}:{unit}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") % 10000
    edge = 0
    for variant in experiment.variants:
        edge += int(variant["share"]) * 100
        if bucket < edge:
            return variant["key"]
    return experiment.variants[-1]["key"]


def running_experiment(enterprise_id: int, slot: str) -> Experiment | None:
    return Experiment.objects.filter(enterprise_id=enterprise_id, slot=slot, is_active=True).first()


# --- the one entry point ----------------------------------------------------------------------------------------

def recommendations(*, store: OrgNode, slot: str, member: Member | None = None, product_ids: list[int] = (),
                    unit: str = "", k: int = 6, shelf_only: bool = False, exclude: set[int] = frozenset(),
                    assortment: set[int] | None = None) -> Block:
    """Up to k products for this slot at this store: for the page's products (goes with) and / or the member.
    `unit` identifies an anonymous visitor for the A/B assignment (a member is assigned by their id);
    `assortment` limits the products to the store's range when given."""
    enterprise_id = store.enterprise_id
    block = Block(slot=slot)
    experiment = running_experiment(enterprise_id, slot)
    if experiment is not None and (member is not None or unit):
        block.experiment_id = experiment.pk
        block.variant = variant_of(experiment, f"m{member.pk}" if member is not None else unit)
        if block.variant == HOLDOUT:
            return block
    served = serving_model(enterprise_id)
    if served is None:
        return block
    block.model_version, model = served
    personal = personalisation_allowed(member)
    history, bought, viewed = member_history(member) if personal else ({}, set(), set())
    strategy = block.variant if block.variant in learn.STRATEGIES else "blend"
    taken = set(exclude) | set(product_ids)
    wanted = k * 4
    candidates: list[learn.Suggestion] = []
    if product_ids and strategy != "popular":
        candidates += model.goes_with(list(product_ids), k=wanted, exclude=taken)
    if personal:
        owned = {p for p in bought if model.is_durable(p)}
        taken |= owned | viewed  # what they just looked at is on their screen already
        candidates = [c for c in candidates if c.product_id not in owned]
        candidates += model.for_member(history, k=wanted, strategy=strategy, exclude=taken, owned=bought)
        block.personalised = bool(history)
    candidates += [learn.Suggestion(p, 0.0, "popular", None) for p in model.popular_for(
        store_id=store.pk, category_id=_category_of(product_ids))[:wanted]]
    order: list[learn.Suggestion] = []
    seen: set[int] = set()
    for candidate in candidates:
        if candidate.product_id not in seen and candidate.product_id not in taken:
            order.append(candidate)
            seen.add(candidate.product_id)
    if assortment is not None:
        order = [c for c in order if c.product_id in assortment]
    stocked = available(store, [c.product_id for c in order], shelf_only=shelf_only)
    order = [c for c in order if c.product_id in stocked][:k]
    names = dict(Product.objects.filter(pk__in={c.because_product_id for c in order if c.because_product_id})
                 .values_list("pk", "name"))
    block.items = [Item(c.product_id, c.model, c.because_product_id, names.get(c.because_product_id, ""),
                        because_viewed=(c.because_product_id in viewed or c.because_product_id in product_ids))
                   for c in order]
    return block


def _category_of(product_ids) -> int | None:
    if not product_ids:
        return None
    return Product.objects.filter(pk=product_ids[0]).values_list("category_id", flat=True).first()


def member_next_best(*, member: Member, store: OrgNode | None = None, k: int = 5) -> Block:
    """Next-best products for a guide's customer page: at the member's home store (else the given store)."""
    home = store or (OrgNode.objects.filter(pk=member.home_id).first() if getattr(member, "home_id", None) else None)
    if home is None:
        return Block(slot="guide")
    return recommendations(store=home, slot="guide", member=member, k=k)


def sku_to_offer(store: OrgNode, product_ids: list[int], *, shelf_only: bool = False) -> dict[int, int]:
    """{product: the first of its active SKUs the store can promise} (what picking a suggestion puts in a cart)."""
    skus = list(Sku.objects.filter(product_id__in=product_ids, is_active=True).order_by("id")
                .values_list("pk", "product_id"))
    promised = atp(sku_ids=[s for s, _p in skus], store_node=store)
    out: dict[int, int] = {}
    for sku_id, product_id in skus:
        figure = promised.get(sku_id)
        if product_id not in out and figure is not None and (figure.store if shelf_only else figure.total) > 0:
            out[product_id] = sku_id
    return out


def products_named(product_ids: list[int]) -> dict[int, Product]:
    return {p.pk: p for p in Product.objects.filter(pk__in=product_ids).filter(Q(is_active=True))}
