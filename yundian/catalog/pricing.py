"""The one price-resolution function. POS, storefront, API and pages all call `price_resolve(_many)`.

Which price a SKU has in a store for a channel at a moment:
1. candidates are the entries for the SKU in active price lists of that channel, attached to the store's node
   or any ancestor (store -> dealer -> region -> HQ), whose window contains the moment
   (valid_from <= at < valid_to; an open end is unbounded);
2. the nearest node wins (a store list beats its region's, a region's beats HQ's);
3. within one node: the highest priority, then the narrowest window (a dated promotion beats a standing list),
   then the latest start, then the newest list;
4. no candidate: the SKU's base price.

Nothing is copied per store, so a price change reaches every store at the next resolution.
"""
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone

from django.db import connection
from django.utils.dateparse import parse_datetime
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.utils.translation import gettext_lazy

from yundian.core.cache import ORG, PRICES, VersionCache
from yundian.core.errors import ValidationFailed
from yundian.core.money import Money

from yundian.org.models import OrgNode

from .models import Channel, PriceEntry, PriceList, Sku

_UNBOUNDED = float("inf")


@dataclass(frozen=True)
class PriceSource:
    price_list_id: int
    price_list_code: str
    price_list_name: str
    node_id: int
    node_name: str
    distance: int  # 0 = the store's own node, 1 = its parent, ...
    priority: int
    valid_from: datetime | None
    valid_to: datetime | None
    price: int

    def window_seconds(self) -> float:
        if self.valid_from is None or self.valid_to is None:
            return _UNBOUNDED
        return (self.valid_to - self.valid_from).total_seconds()

    def sort_key(self) -> tuple:
        start = self.valid_from.timestamp() if self.valid_from else float("-inf")
        return (self.distance, -self.priority, self.window_seconds(), -start, -self.price_list_id)


@dataclass(frozen=True)
class PriceResolution:
    sku_id: int
    price: Money
    source: str  # "price_list" or "base_price"
    winner: PriceSource | None
    channel: str
    at: datetime
    others: list[dict] = field(default_factory=list)  # applicable lists that lost, with why

    @property
    def explanation(self) -> str:
        """Why this price, as one translated sentence (each variant is a whole sentence, punctuation included, so a
        language may order and punctuate it its own way; the channel by its translated label)."""
        if self.winner is None:
            return _("No price list of channel %(channel)s covers this SKU here at this time: the base price applies.") % {
                "channel": channel_label(self.channel)}
        w = self.winner
        if w.distance == 0:
            place = _("this store's own node")
        else:
            place = ngettext("%(node)s, %(n)d level above the store", "%(node)s, %(n)d levels above the store",
                             w.distance) % {"node": w.node_name, "n": w.distance}
        values = {"code": w.price_list_code, "name": w.price_list_name, "place": place, "count": len(self.others)}
        if not self.others:
            return _("Price list %(code)s (%(name)s) on %(place)s: the nearest node with a price for this SKU.") % values
        return ngettext("Price list %(code)s (%(name)s) on %(place)s: the nearest node with a price for this SKU; "
                        "it beat %(count)d other applicable list.",
                        "Price list %(code)s (%(name)s) on %(place)s: the nearest node with a price for this SKU; "
                        "it beat %(count)d other applicable lists.", len(self.others)) % values

    def as_dict(self) -> dict:
        winner = None
        if self.winner:
            w = self.winner
            winner = {"price_list_id": w.price_list_id, "price_list_code": w.price_list_code,
                      "price_list_name": w.price_list_name, "node_id": w.node_id, "node_name": w.node_name,
                      "distance": w.distance, "priority": w.priority, "valid_from": w.valid_from,
                      "valid_to": w.valid_to}
        return {"sku_id": self.sku_id, "price": {"amount": self.price.amount, "currency": self.price.currency,
                                                 "display": self.price.format()},
                "source": self.source, "channel": self.channel, "at": self.at, "winner": winner,
                "others": self.others, "explanation": self.explanation}


def _why_lost(loser: PriceSource, winner: PriceSource) -> str:
    if loser.distance != winner.distance:
        return "farther_node"
    if loser.priority != winner.priority:
        return "lower_priority"
    if loser.window_seconds() != winner.window_seconds():
        return "wider_window"
    if loser.valid_from != winner.valid_from:
        return "earlier_start"
    return "older_list"


LOSS_REASONS = {
    "farther_node": gettext_lazy("a nearer node has a price"),
    "lower_priority": gettext_lazy("lower priority on the same node"),
    "wider_window": gettext_lazy("wider validity window on the same node"),
    "earlier_start": gettext_lazy("started earlier on the same node"),
    "older_list": gettext_lazy("an equal but newer list exists"),
}


def channel_label(channel: str) -> str:
    """The channel's translated label (its code if it is not a known channel)."""
    return str(dict(Channel.choices).get(channel, channel))


def ancestor_ids(node) -> list[int]:
    """The node's own id first, then its parent's, up to the root (from the materialised path)."""
    return [int(part) for part in reversed(node.path.strip("/").split("/"))]


def check_channel(channel: str) -> str:
    if channel not in Channel.values:
        raise ValidationFailed(gettext_lazy("Unknown sales channel."), code="invalid_channel",
                               details={"field": "channel", "allowed": list(Channel.values)})
    return channel


def _sql_datetime(value):
    """A datetime column read through a raw cursor: aware on PostgreSQL; naive-UTC text on SQLite."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt_timezone.utc)
    return parse_datetime(value).replace(tzinfo=dt_timezone.utc)


# per process, by (store node, its path, channel, SKU): every entry of an active list on the node's chain, whatever
# its window (filtered by the moment at each resolution). A price or list change bumps PRICES, a node's ORG.
_SOURCES = VersionCache("catalog.price_sources", PRICES, ORG)


def _load_sources(node, channel: str, sku_ids: list[int]) -> dict[int, tuple[PriceSource, ...]]:
    """The entries of active lists of this channel on the node's chain for these SKUs, in one indexed query.

    Hand-written SQL on purpose: this is the POS hot path, and building the equivalent ORM query costs
    several times more than running it. The node ids come from the store's own path, so they are the
    store's enterprise's; the planner drives from the SKU's entries (index on sku_id) to their lists.
    """
    chain = ancestor_ids(node)
    distance = {node_id: i for i, node_id in enumerate(chain)}
    sql = (
        f"SELECT e.sku_id, e.price, l.id, l.code, l.name, l.node_id, n.name, l.priority, l.valid_from, l.valid_to "
        f"FROM {PriceEntry._meta.db_table} e "
        f"JOIN {PriceList._meta.db_table} l ON l.id = e.price_list_id "
        f"JOIN {OrgNode._meta.db_table} n ON n.id = l.node_id "
        f"WHERE e.sku_id IN ({', '.join(['%s'] * len(sku_ids))}) "
        f"AND l.node_id IN ({', '.join(['%s'] * len(chain))}) AND l.channel = %s AND l.is_active = %s"
    )
    found: dict[int, list[PriceSource]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*sku_ids, *chain, channel, True])
        for sku_id, price, list_id, code, name, node_id, node_name, priority, valid_from, valid_to in cursor.fetchall():
            found[sku_id].append(PriceSource(list_id, code, name, node_id, node_name, distance[node_id], priority,
                                             _sql_datetime(valid_from), _sql_datetime(valid_to), price))
    return {sku_id: tuple(found.get(sku_id, ())) for sku_id in sku_ids}


def _sources(sku_ids: list[int], node, channel: str, at: datetime) -> dict[int, list[PriceSource]]:
    """The applicable entries for these SKUs at `at` (valid_from <= at < valid_to), from the per-process cache."""
    keys = [(node.pk, node.path, channel, sku_id) for sku_id in sku_ids]
    cached = _SOURCES.get_many(keys, lambda missing: {
        (node.pk, node.path, channel, sku_id): sources
        for sku_id, sources in _load_sources(node, channel, [k[3] for k in missing]).items()})
    found: dict[int, list[PriceSource]] = {}
    for (_node, _path, _channel, sku_id), sources in cached.items():
        live = [s for s in sources if (s.valid_from is None or s.valid_from <= at) and (s.valid_to is None or at < s.valid_to)]
        if live:
            found[sku_id] = live
    return found


def _resolve(sku_id: int, base_price: int, currency: str, sources: list[PriceSource], channel: str,
             at: datetime) -> PriceResolution:
    if not sources:
        return PriceResolution(sku_id, Money(base_price, currency), "base_price", None, channel, at)
    ordered = sorted(sources, key=PriceSource.sort_key)
    winner = ordered[0]
    others = [{"price_list_id": s.price_list_id, "price_list_code": s.price_list_code, "node_id": s.node_id,
               "price": s.price, "reason": _why_lost(s, winner), "message": str(LOSS_REASONS[_why_lost(s, winner)])}
              for s in ordered[1:]]
    return PriceResolution(sku_id, Money(winner.price, currency), "price_list", winner, channel, at, others)


def _currency(node) -> str:
    """The enterprise's currency; read once per node object (cached on it)."""
    cached = node._state.fields_cache.get("enterprise") or getattr(node, "_yundian_currency", None)
    if cached is not None:
        return cached if isinstance(cached, str) else cached.currency
    from yundian.org.models import Enterprise

    currency = Enterprise.objects.filter(pk=node.enterprise_id).values_list("currency", flat=True).first() or "CNY"
    node._yundian_currency = currency
    return currency


def price_resolve(sku: Sku, store_node, channel: str = Channel.STORE, at: datetime | None = None) -> PriceResolution:
    """The price of `sku` at `store_node` (any org node; its ancestors' lists apply) for `channel` at `at` (now)."""
    check_channel(channel)
    if sku.enterprise_id != store_node.enterprise_id:
        raise ValidationFailed(gettext_lazy("The SKU and the store belong to different enterprises."),
                               code="enterprise_mismatch")
    at = at or timezone.now()
    sources = _sources([sku.pk], store_node, channel, at).get(sku.pk, [])
    return _resolve(sku.pk, sku.base_price, _currency(store_node), sources, channel, at)


def price_resolve_many(skus: Iterable[Sku], store_node, channel: str = Channel.STORE,
                       at: datetime | None = None) -> dict[int, PriceResolution]:
    """`price_resolve` for many SKUs in one query: {sku id: resolution}. Used by POS baskets and the storefront."""
    check_channel(channel)
    skus = list(skus)
    if any(s.enterprise_id != store_node.enterprise_id for s in skus):
        raise ValidationFailed(gettext_lazy("The SKU and the store belong to different enterprises."),
                               code="enterprise_mismatch")
    at = at or timezone.now()
    currency = _currency(store_node)
    found: dict[int, list[PriceSource]] = {}
    # chunk to stay under database parameter limits on very large batches
    for start in range(0, len(skus), 900):
        found.update(_sources([s.pk for s in skus[start:start + 900]], store_node, channel, at))
    return {s.pk: _resolve(s.pk, s.base_price, currency, found.get(s.pk, []), channel, at) for s in skus}
