"""What each persona of the store day does, over the HTTP API and pages, through bench.store_day.client.

Every action reports each request it makes to a `report(name, seconds, outcome)` callback (outcome "ok",
"rejected" for an expected business refusal such as the hot SKU sold out, or "error: ..."), and logs what the
server acknowledged (2xx; for the storefront checkout form, the redirect to the placed order) to an AckLog so that
the crash check can prove every acknowledged write exists once. Writes carry client keys (the storefront's checkout
form its checkout key) and are retried under the same key for `retry_for` seconds across server crashes.
"""
import itertools
import json
import random
import re
import threading
import time
import uuid
from collections import deque
from pathlib import Path

from .client import Client, Reply, Unavailable

TENDERED = 5_000_000  # fen: cash handed over, more than any basket costs


class AckLog:
    """Append-only JSON lines: {"kind", "key", "id"} for every write a client got a 2xx for."""

    def __init__(self, path: Path | None):
        self.path = path
        self.lock = threading.Lock()
        self.count = 0
        self.by_kind: dict[str, int] = {}

    def add(self, kind: str, key: list, object_id: int) -> None:
        with self.lock:
            self.count += 1
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
            if self.path is not None:
                with open(self.path, "a") as fh:
                    fh.write(json.dumps({"kind": kind, "key": key, "id": object_id}) + "\n")


class Day:
    """The seeded store day (seed.py's JSON) plus the shared state of the clients."""

    def __init__(self, data: dict, host: str, port: int, acks: AckLog, retry_for: float = 60,
                 codes: Path | None = None):
        self.data, self.host, self.port, self.acks, self.retry_for = data, host, port, acks, retry_for
        self.stores = data["stores"]
        self.password = data["password"]
        self.returnable: dict[int, deque] = {s["id"]: deque(maxlen=200) for s in self.stores}
        self.flash_tokens = deque(data["flash"]["tokens"])
        # each single-use code is handed out twice in a row, so two clerks present it at about the same time
        self.coupons = deque(code for code in data["coupons"]["codes"] for _twice in range(2))
        self.sign_in_phones = {s["id"]: deque(s["sign_in_phones"]) for s in self.stores}
        self.codes = codes  # the server's FileCodeSender output (members' sign-in codes)
        self.sources = itertools.count(1)  # loopback source addresses, one per signing-in phone
        self.checking_out = 0  # storefront checkout forms sent and not yet answered (a crash test kills during one)
        self.lock = threading.Lock()

    @property
    def acks_by_kind(self) -> dict[str, int]:
        return self.acks.by_kind

    def client(self, source: str | None = None) -> Client:
        return Client(self.host, self.port, source=source)

    def take_coupon(self) -> str | None:
        with self.lock:
            return self.coupons.popleft() if self.coupons else None

    def phone_source(self) -> str:
        """Another loopback address (127.x.y.z) for each phone: the server limits code requests per address."""
        n = next(self.sources)
        return f"127.{n // 64516 % 254 + 1}.{n // 254 % 254}.{n % 254 + 1}"

    def sign_in_code(self, phone: str, wait: float = 5.0) -> str | None:
        """The latest code the server sent to `phone` (it is written before the page answers; wait a little)."""
        deadline = time.monotonic() + wait
        while True:
            found = None
            if self.codes is not None and self.codes.exists():
                for line in self.codes.read_text().splitlines():
                    if line.strip():
                        sent = json.loads(line)
                        if sent["phone"][-11:] == phone[-11:]:
                            found = sent["code"]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def signed_in(self, username: str) -> Client:
        client = self.client()
        client.login(username, self.password, retry_for=self.retry_for)
        return client


def _outcome(reply: Reply, expected_refusals: tuple[str, ...] = ()) -> str:
    if reply.ok:
        return "ok"
    error = reply.body.get("error", {}) if isinstance(reply.body, dict) else {}
    code = error.get("code", "")
    if code == "coupon_not_applicable":  # expected only for the reason given, e.g. "coupon_not_applicable:coupon_used"
        code = f"{code}:{(error.get('details') or {}).get('reason', '')}"
    if code in expected_refusals:
        return "rejected"
    return f"error: {reply.status} {code or str(reply.body)[:80]}"


def _call(day: Day, client: Client, report, name: str, method: str, path: str, payload=None, *, key=None,
          expected=()) -> Reply | None:
    try:
        reply = client.call(method, path, payload, key=key, retry_for=day.retry_for)
    except Unavailable as exc:
        report(name, day.retry_for, f"error: unavailable {exc}"[:120])
        return None
    report(name, reply.seconds, _outcome(reply, expected))
    return reply


def clerk_checkout(day: Day, client: Client, store: dict, rng: random.Random, report, *, member_id=None,
                   stored_value: bool = False, name: str = "order", coupons: float = 0.0) -> Reply | None:
    """Scan 1-3 barcodes (sometimes the hot SKU, which runs out), then create the paid order under a new key; with
    probability `coupons` the shopper presents one of the single-use codes (which another clerk may be presenting
    at the same moment: one order gets it, the other is refused and nothing of it is written)."""
    codes = rng.sample(store["barcodes"], rng.randint(1, min(3, len(store["barcodes"]))))
    if rng.random() < 0.3:
        codes.append(day.data["hot"]["barcode"])
    lines = []
    for code in codes:
        scanned = _call(day, client, report, "scan", "GET", f"/api/v1/catalog/scan/{code}?store_id={store['id']}")
        if scanned is None or not scanned.ok:
            return None
        lines.append({"sku_id": scanned.body["sku"]["id"], "quantity": rng.randint(1, 2)})
    key = f"pos-{uuid.uuid4().hex}"
    payment = {"method": "stored_value", "client_ref": "sv"} if stored_value else \
        {"method": "cash", "client_ref": "cash", "tendered": TENDERED}
    body = {"store_id": store["id"], "client_ref": key, "lines": lines, "payments": [payment]}
    if member_id:
        body["member_id"] = member_id
    code = day.take_coupon() if coupons and rng.random() < coupons else None
    if code:
        body["coupon_codes"] = [code]
        name = "coupon order"
    reply = _call(day, client, report, name, "POST", "/api/v1/sales/orders", body,
                  expected=("insufficient_stock", "insufficient_balance", "insufficient_stored_value",
                            "coupon_used", "coupon_not_applicable:coupon_used"))
    if reply is not None and reply.ok:
        order = reply.body
        day.acks.add("order", [store["id"], key], order["id"])
        if code:
            day.acks.add("coupon", [code], order["id"])
        line = order["lines"][0]
        day.returnable[store["id"]].append((order["id"], line["id"], key))
    return reply


def clerk_return(day: Day, client: Client, store: dict, rng: random.Random, report) -> None:
    """Return one unit of a recent order of this store (each order once), under its own key."""
    try:
        order_id, line_id, order_key = day.returnable[store["id"]].popleft()
    except IndexError:
        return
    key = f"ret-{order_key}"
    body = {"order_id": order_id, "client_ref": key, "lines": [{"order_line_id": line_id, "quantity": 1}],
            "reason": "尺码不合适"}
    reply = _call(day, client, report, "return", "POST", "/api/v1/sales/returns", body)
    if reply is not None and reply.ok:
        day.acks.add("return", [store["id"], key], reply.body["id"])


def member_desk(day: Day, client: Client, store: dict, rng: random.Random, report) -> None:
    """Register a new member (keyed); a member redeems points (keyed); a member pays with stored value."""
    phone = f"15{rng.randint(0, 999_999_999):09d}"
    key = f"reg-{uuid.uuid4().hex}"
    _call(day, client, report, "member register", "POST", "/api/v1/members",
          {"store_id": store["id"], "phone": phone, "name": "新会员", "channel": "pos"}, key=key,
          expected=("identity_taken",))
    if store["members_with_points"]:
        points_redeem(day, client, store, rng, report)
    if store["members_with_value"]:
        clerk_checkout(day, client, store, rng, report, member_id=rng.choice(store["members_with_value"]),
                       stored_value=True, name="stored-value sale")


def points_redeem(day: Day, client: Client, store: dict, rng: random.Random, report) -> None:
    """A member spends some points at the desk, under a new key (a retry posts once: the key is the ledger's
    source reference); 409 insufficient_points is an expected refusal."""
    member_id = rng.choice(store["members_with_points"])
    key = f"pr-{uuid.uuid4().hex}"
    reply = _call(day, client, report, "points redeem", "POST", f"/api/v1/members/{member_id}/points/redemptions",
                  {"points": rng.randint(1, 50), "store_id": store["id"]}, key=key, expected=("insufficient_points",))
    if reply is not None and reply.ok:
        day.acks.add("redeem", [reply.body["source_id"]], reply.body["id"])


def _transition(day, client, report, name, path, payload=None) -> Reply | None:
    # a state change retried after a crash may find it already done: 409 then means "done before"
    return _call(day, client, report, name, "POST", path, payload if payload is not None else {},
                 expected=("invalid_status", "nothing_to_ship", "stocktake_not_counting", "stocktake_not_in_review",
                           "stocktake_posted", "approval_required"))


def manager_transfer(day: Day, manager: Client, hq: Client, store: dict, rng: random.Random, report) -> None:
    """Ask the central warehouse for stock (keyed), HQ approves and ships, the store receives."""
    skus = rng.sample(day.data["central_sku_ids"], 2)
    body = {"from_warehouse_id": day.data["central_warehouse_id"], "to_warehouse_id": store["warehouse_id"],
            "lines": [{"sku_id": s, "quantity": rng.randint(1, 5)} for s in skus], "note": "补货"}
    reply = _call(day, manager, report, "transfer request", "POST", "/api/v1/inventory/transfers", body,
                  key=f"tr-{uuid.uuid4().hex}")
    if reply is None or not reply.ok:
        return
    transfer_id = reply.body["id"]
    if reply.body.get("status") in ("requested", "pending", "draft"):
        _transition(day, hq, report, "transfer approve", f"/api/v1/inventory/transfers/{transfer_id}/approve")
    _transition(day, hq, report, "transfer ship", f"/api/v1/inventory/transfers/{transfer_id}/ship")
    _transition(day, manager, report, "transfer receive", f"/api/v1/inventory/transfers/{transfer_id}/receive")


def manager_stocktake(day: Day, manager: Client, store: dict, rng: random.Random, report) -> None:
    """A cycle count of two SKUs: open (keyed), count what is on the shelf, submit, post."""
    skus = rng.sample(store["sku_ids"], 2)
    reply = _call(day, manager, report, "stocktake open", "POST", "/api/v1/inventory/stocktakes",
                  {"warehouse_id": store["warehouse_id"], "kind": "cycle", "sku_ids": skus},
                  key=f"st-{uuid.uuid4().hex}", expected=("stocktake_open",))
    if reply is None or not reply.ok:
        return
    stocktake_id = reply.body["id"]
    lines = []
    for sku in skus:
        balance = _call(day, manager, report, "stock lookup", "GET",
                        f"/api/v1/inventory/balances?warehouse_id={store['warehouse_id']}&sku_id={sku}")
        if balance is None or not balance.ok:
            return
        items = balance.body["items"]
        lines.append({"sku_id": sku, "quantity": items[0]["on_hand"] if items else 0})
    _call(day, manager, report, "stocktake count", "POST", f"/api/v1/inventory/stocktakes/{stocktake_id}/counts",
          {"mode": "set", "lines": lines})
    _transition(day, manager, report, "stocktake submit", f"/api/v1/inventory/stocktakes/{stocktake_id}/submit")
    _transition(day, manager, report, "stocktake post", f"/api/v1/inventory/stocktakes/{stocktake_id}/post")


def shopper_browse(day: Day, client: Client, store: dict, rng: random.Random, report) -> None:
    """The store's cloud storefront on a phone: the front page, then a product."""
    _call(day, client, report, "storefront", "GET", f"/s/{store['slug']}/")
    if store["products"]:
        _call(day, client, report, "storefront product", "GET",
              f"/s/{store['slug']}/p/{rng.choice(store['products'])}/", expected=())


def _page(day: Day, client: Client, report, name: str, path: str, fields: dict | None = None,
          ok=(200,), after_retry=()) -> Reply | None:
    """A page request retried across crashes; `after_retry` statuses are expected only when the first attempt may
    have gone through (the code was used or sent by the attempt whose answer was lost)."""
    try:
        reply = client.form(path, fields, retry_for=day.retry_for)
    except Unavailable as exc:
        report(name, day.retry_for, f"error: unavailable {exc}"[:120])
        return None
    if reply.status in ok:
        outcome = "ok"
    elif reply.attempts > 1 and reply.status in after_retry:
        outcome = "rejected"
    else:
        outcome = f"error: {reply.status} {name}"
    report(name, reply.seconds, outcome)
    return reply


def storefront_sign_in(day: Day, store: dict, rng: random.Random, report) -> tuple[Client, str] | None:
    """A member on a phone (its own network address) signs in on the store's storefront with a one-time code — an
    existing member's phone, or a new one who joins there — and lands on their account page. Returns the signed-in
    client and the phone, or None (the client closed) when the sign-in did not go through."""
    with day.lock:
        phones = day.sign_in_phones[store["id"]]
        phone = phones.popleft() if phones else f"13{rng.randint(0, 999_999_999):09d}"
    client = day.client(source=day.phone_source())
    if _code_sign_in(day, client, store, phone, report):
        day.acks.add("sign_in", [phone], 0)
        _page(day, client, report, "my account", f"/s/{store['slug']}/me/")  # where the sign-in leads
        return client, phone
    client.close()
    return None


def _code_sign_in(day: Day, client: Client, store: dict, phone: str, report) -> bool:
    base = f"/s/{store['slug']}/me/"
    page = _page(day, client, report, "sign-in page", f"{base}sign-in/")
    if page is None or page.status != 200:
        return False
    sent = _page(day, client, report, "sign-in code", f"{base}sign-in/", {"step": "send", "phone": phone},
                 after_retry=(429,))
    if sent is None or sent.status not in (200, 429):
        return False
    code = day.sign_in_code(phone)
    if code is None:
        report("sign-in", 0, "rejected" if sent.status == 429 else "error: no code delivered")
        return False
    signed = _page(day, client, report, "sign-in", f"{base}sign-in/",
                   {"step": "verify", "phone": phone, "code": code, "consent": "sms"}, ok=(302,), after_retry=(422,))
    return signed is not None and signed.status == 302


def member_sign_in(day: Day, store: dict, rng: random.Random, report) -> None:
    """A member signs in on the storefront (storefront_sign_in: on to their account), then opens their points."""
    signed = storefront_sign_in(day, store, rng, report)
    if signed is None:
        return
    client, _phone = signed
    try:
        _page(day, client, report, "my points", f"/s/{store['slug']}/me/points/")
    finally:
        client.close()


CHECKOUT_KEY = re.compile(r'name="key" value="([0-9a-f]{32})"')
STORED_VALUE_CHOICE = re.compile(r'<input type="radio" name="pay" value="stored_value"[^>]*>')
ERROR_CODE = re.compile(rb'id="sc-error"[^>]*data-code="(\w+)"')
PLACED = re.compile(r"/cart/placed/(SO\d+)/$")
STOREFRONT_REFUSALS = ("insufficient_stock", "insufficient_stored_value")


def storefront_order(day: Day, client: Client, store: dict, phone: str, rng: random.Random, report) -> str | None:
    """A signed-in member (`client`, signed in with `phone`) puts 1-2 SKUs of the store in the cart (now and then the
    scarce hot SKU), opens the cart (its checkout form carries the checkout key) and checks out for pickup, paying
    with stored value half of the time the form offers it (a balance that covers the cart), else at the store.
    A dropped answer is met by sending the same form again — the same key — until an answer comes: one key books one
    order, and the redirect names it (acknowledged with the order number). 409 insufficient stock or stored value is
    an expected refusal; the cart is emptied for the next order whenever none was placed."""
    base = f"/s/{store['slug']}/cart/"
    skus = rng.sample(store["shop_sku_ids"], rng.randint(1, min(2, len(store["shop_sku_ids"]))))
    if rng.random() < 0.2:
        skus[-1] = day.data["hot"]["sku_id"]
    number = None
    try:
        for sku in skus:
            added = _page(day, client, report, "cart add", f"{base}add", {"sku_id": sku}, ok=(302,))
            # `add` adds one more each time, so an add sent again after a crash may have added twice: set the quantity
            if added is None or added.status != 302 or not _cart_set(day, client, report, base, sku,
                                                                       rng.randint(1, 2)):
                return None
        cart = _page(day, client, report, "cart", base)
        if cart is None or cart.status != 200:
            return None
        html = cart.body.decode() if isinstance(cart.body, bytes) else str(cart.body)
        key = CHECKOUT_KEY.search(html)
        if key is None:
            report("cart", 0, "error: no checkout key on the cart page")
            return None
        choice = STORED_VALUE_CHOICE.search(html)
        pay = "stored_value" if choice and "disabled" not in choice.group(0) and rng.random() < 0.5 else "store"
        name = "storefront checkout" if pay == "store" else "storefront checkout sv"
        with day.lock:
            day.checking_out += 1
        try:
            reply = client.form(f"{base}checkout", {"key": key.group(1), "mode": "pickup", "pay": pay},
                                retry_for=day.retry_for)
        except Unavailable as exc:
            report(name, day.retry_for, f"error: unavailable {exc}"[:120])
            return None
        finally:
            with day.lock:
                day.checking_out -= 1
        placed = PLACED.search(reply.location) if reply.status == 302 else None
        refused = ERROR_CODE.search(reply.body) if isinstance(reply.body, bytes) else None
        code = refused.group(1).decode() if refused else ""
        if placed:
            outcome = "ok"
        elif reply.status == 409 and code in STOREFRONT_REFUSALS:
            outcome = "rejected"
        else:
            outcome = f"error: {reply.status} {code or reply.location or name}"[:120]
        report(name, reply.seconds, outcome)
        if reply.attempts > 1:  # the form went again (same key) after a dropped answer: the time until it had one
            report("checkout sent again", reply.seconds, "ok" if outcome == "ok" else "rejected")
        if placed is None:
            return None
        number = placed.group(1)
        day.acks.add("storefront", [store["id"], key.group(1), phone], number)
        _page(day, client, report, "order placed", reply.location)
        return number
    finally:
        if number is None:  # the next order starts from an empty cart
            for sku in skus:
                _cart_set(day, client, report, base, sku, 0)


def _cart_set(day: Day, client: Client, report, base: str, sku_id: int, quantity: int) -> bool:
    reply = _page(day, client, report, "cart set", base, {"action": "set", "sku_id": sku_id, "quantity": quantity},
                  ok=(302,))
    return reply is not None and reply.status == 302


def flash_buy(day: Day, client: Client, rng: random.Random, report) -> None:
    """One buyer's attempt in the flash sale (keyed): 201 won, 409 sold out / limit reached are expected."""
    with day.lock:
        if not day.flash_tokens:
            return
        token = day.flash_tokens.popleft()
    key = f"fs-{uuid.uuid4().hex}"
    reply = _call(day, client, report, "flash buy", "POST", f"/p/f/{day.data['flash']['id']}/buy",
                  {"member_token": token, "client_ref": key, "quantity": 1},
                  expected=("sold_out", "member_limit_reached"))
    if reply is not None and reply.ok:
        day.acks.add("flash", [key], reply.body["claim_id"])
