"""The channel adapter: how Yundian talks to an outside marketplace or mini-program that sells a store's stock.

An adapter translates one marketplace's API into four calls and plain data; everything else — turning its
orders into sales orders, reserving stock, telling it what is available and at what price, telling it what
happened to its orders — is done once, here in integrations (channels_services.py), the same for every adapter.

    class MyMarketplace(ChannelAdapter):
        kind = "my_marketplace"
        def fetch_orders(self, *, cursor: str) -> OrderBatch: ...        # orders in: new and changed since cursor
        def push_stock(self, levels: list[StockLevel]) -> None: ...      # stock out: units available per SKU code
        def push_prices(self, prices: list[PriceUpdate]) -> None: ...    # prices out: fen per SKU code
        def push_status(self, update: StatusUpdate) -> None: ...         # shipped, cancelled, refunded
    ADAPTERS["my_marketplace"] = MyMarketplace

Contract:
- `fetch_orders` returns the marketplace's orders after `cursor` (its own opaque position, "" for the start) and
  the cursor to ask from next time. An order may come again (a retry, a status change): Yundian keys every order
  by (connection, external_id), so a repeat changes nothing and a cancellation of an order it already took is
  applied once. The cursor is saved only after the batch has been taken in, so a crash re-reads, never skips.
- SKUs are matched by code (the marketplace's seller SKU = Yundian's SKU code); an unknown code refuses the order.
- Orders are paid on the marketplace; they are created paid (a wallet payment referencing the marketplace order),
  channel "marketplace", mode delivery, and reserve stock in the store's own stock room — the pool its till sells
  from — under the same row locks as the till, so the two never sell the same last unit. An order that cannot be
  reserved is refused (status rejected, reason out_of_stock) and the marketplace is told "cancelled".
- Push calls send absolute values (units available, price in fen), so a retried push is harmless.
- Errors: raise `ChannelError` (a transient network or server failure: retried on the next sync) — anything
  else is a bug. No call is made while a database transaction is open.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime


class ChannelError(Exception):
    """The marketplace could not be reached or answered with an error; the sync retries later."""


@dataclass(frozen=True)
class ExternalLine:
    sku_code: str
    quantity: int
    unit_price: int  # fen, what the marketplace charged per unit


@dataclass(frozen=True)
class ExternalOrder:
    external_id: str
    status: str  # "paid" (to fulfil) or "cancelled" (the buyer cancelled or was refunded before shipping)
    lines: tuple[ExternalLine, ...]
    total: int = 0  # fen
    placed_at: datetime | None = None
    buyer_name: str = ""
    address: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OrderBatch:
    orders: list[ExternalOrder]
    cursor: str


@dataclass(frozen=True)
class StockLevel:
    sku_code: str
    available: int


@dataclass(frozen=True)
class PriceUpdate:
    sku_code: str
    price: int  # fen


@dataclass(frozen=True)
class StatusUpdate:
    external_id: str
    status: str  # "shipped", "cancelled" or "refunded"
    tracking: str = ""


STATUSES_OUT = ("shipped", "cancelled", "refunded")


class ChannelAdapter(ABC):
    """One marketplace's API. Built per connection: `base_url` and `api_key` come from it."""

    kind: str = ""
    label = ""  # the kind in words, for the console

    def __init__(self, *, base_url: str, api_key: str = "", timeout: float = 10.0):
        self.base_url, self.api_key, self.timeout = base_url.rstrip("/"), api_key, timeout

    @abstractmethod
    def fetch_orders(self, *, cursor: str) -> OrderBatch:
        """New and changed orders after `cursor`, and the cursor to continue from."""

    @abstractmethod
    def push_stock(self, levels: list[StockLevel]) -> None:
        """Tell the marketplace how many units of each SKU it may sell (absolute numbers)."""

    @abstractmethod
    def push_prices(self, prices: list[PriceUpdate]) -> None:
        """Tell the marketplace each SKU's price in fen (absolute numbers)."""

    @abstractmethod
    def push_status(self, update: StatusUpdate) -> None:
        """Tell the marketplace an order was shipped, cancelled or refunded."""


ADAPTERS: dict[str, type[ChannelAdapter]] = {}


def register(adapter: type[ChannelAdapter]) -> type[ChannelAdapter]:
    ADAPTERS[adapter.kind] = adapter
    return adapter


def adapter_for(connection) -> ChannelAdapter:
    return ADAPTERS[connection.kind](base_url=connection.base_url, api_key=connection.api_key)
