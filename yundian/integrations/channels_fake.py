"""The reference adapter: a small JSON-over-HTTP marketplace ("fake_marketplace"), the shape most marketplace
open platforms share. The tests run it against a local server (tests/fake_marketplace.py); a real adapter
(Tmall, JD, Douyin, a WeChat mini-program backend) follows the same four calls.

    GET  /orders?after=<cursor>          -> {"orders": [{"id", "status", "total", "placed_at", "buyer", "address",
                                              "lines": [{"sku", "quantity", "price"}]}], "cursor": "..."}
    POST /stock   {"items": [{"sku", "available"}]}
    POST /prices  {"items": [{"sku", "price"}]}
    POST /orders/<id>/status  {"status": "shipped" | "cancelled" | "refunded", "tracking": "..."}

Every call carries `Authorization: Bearer <api key>`; any non-2xx answer or network failure is a ChannelError.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from .channels import (ChannelAdapter, ChannelError, ExternalLine, ExternalOrder, OrderBatch, PriceUpdate,
                       StatusUpdate, StockLevel, register)


@register
class FakeMarketplaceAdapter(ChannelAdapter):
    kind = "fake_marketplace"
    label = _("Reference marketplace (JSON over HTTP)")

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - a configured URL
                raw = response.read()
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise ChannelError(str(exc)) from exc
        try:
            return json.loads(raw or b"{}")
        except ValueError as exc:
            raise ChannelError("the marketplace answered with something that is not JSON") from exc

    def fetch_orders(self, *, cursor: str) -> OrderBatch:
        answer = self._call("GET", "/orders?" + urllib.parse.urlencode({"after": cursor}))
        orders = []
        try:
            for raw in answer.get("orders", []):
                lines = tuple(ExternalLine(sku_code=str(l["sku"]), quantity=int(l["quantity"]),
                                           unit_price=int(l.get("price", 0))) for l in raw.get("lines", []))
                orders.append(ExternalOrder(
                    external_id=str(raw["id"])[:64], status=str(raw.get("status", "paid")), lines=lines,
                    total=int(raw.get("total", 0)), placed_at=parse_datetime(raw["placed_at"]) if raw.get("placed_at") else None,
                    buyer_name=str(raw.get("buyer", ""))[:80], address=raw.get("address") or {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise ChannelError(f"an order the marketplace sent is malformed: {exc}") from exc
        return OrderBatch(orders=orders, cursor=str(answer.get("cursor", cursor)))

    def push_stock(self, levels: list[StockLevel]) -> None:
        self._call("POST", "/stock", {"items": [{"sku": l.sku_code, "available": l.available} for l in levels]})

    def push_prices(self, prices: list[PriceUpdate]) -> None:
        self._call("POST", "/prices", {"items": [{"sku": p.sku_code, "price": p.price} for p in prices]})

    def push_status(self, update: StatusUpdate) -> None:
        self._call("POST", f"/orders/{urllib.parse.quote(update.external_id)}/status",
                   {"status": update.status, "tracking": update.tracking})
