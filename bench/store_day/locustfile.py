"""Locust personas of the store day, over the same actions as the crash driver (bench/store_day/actions.py).

Started by bench/store_day.py (headless, loopback, bounded by --run-time); reads the seeded day from
$STORE_DAY_JSON, writes acknowledged writes to $STORE_DAY_ACKS and reads members' sign-in codes from
$STORE_DAY_CODES (the server's FileCodeSender). Each request is reported to locust under its
action name; expected refusals (the hot SKU sold out, the flash sale sold out) count as successes.
"""
import json
import os
import random
import time
from itertools import count
from pathlib import Path
from urllib.parse import urlparse

from locust import User, between, events, task

from bench.store_day import actions
from bench.store_day.actions import AckLog, Day

COUPON_SHARE = 0.25  # of clerk checkouts present a coupon code
_DAY: Day | None = None
_IDS = count()


def day_for(host: str) -> Day:
    global _DAY
    if _DAY is None:
        url = urlparse(host)
        data = json.loads(Path(os.environ["STORE_DAY_JSON"]).read_text())
        acks = AckLog(Path(os.environ["STORE_DAY_ACKS"]) if os.environ.get("STORE_DAY_ACKS") else None)
        codes = Path(os.environ["STORE_DAY_CODES"]) if os.environ.get("STORE_DAY_CODES") else None
        _DAY = Day(data, url.hostname, url.port, acks, retry_for=float(os.environ.get("STORE_DAY_RETRY", "60")),
                   codes=codes)
    return _DAY


class Persona(User):
    abstract = True

    def on_start(self):
        self.day = day_for(self.host)
        self.n = next(_IDS)
        self.rng = random.Random(self.n)
        self.store = self.day.stores[self.n % len(self.day.stores)]

    def report(self, name: str, seconds: float, outcome: str) -> None:
        exception = None if outcome in ("ok", "rejected") else Exception(outcome)
        events.request.fire(request_type="HTTP", name=name, response_time=seconds * 1000, response_length=0,
                            exception=exception, context={})


class Clerk(Persona):
    """A guide at the till: scan barcodes, take the money (a quarter of shoppers hand over a single-use coupon);
    now and then a customer brings something back."""

    weight = 6
    wait_time = between(0.2, 1.0)

    def on_start(self):
        super().on_start()
        self.client = self.day.signed_in(self.store["clerks"][self.n % len(self.store["clerks"])])

    @task(6)
    def checkout(self):
        actions.clerk_checkout(self.day, self.client, self.store, self.rng, self.report, coupons=COUPON_SHARE)

    @task(1)
    def give_back(self):
        actions.clerk_return(self.day, self.client, self.store, self.rng, self.report)


class MemberDesk(Persona):
    """Registers members, redeems members' points and sells to members who pay with stored value."""

    weight = 2
    wait_time = between(0.5, 2.0)

    def on_start(self):
        super().on_start()
        self.client = self.day.signed_in(self.store["clerks"][-1])

    @task
    def serve(self):
        actions.member_desk(self.day, self.client, self.store, self.rng, self.report)


class Manager(Persona):
    """The store manager: replenishment transfers from the central warehouse (HQ approves and ships), cycle counts."""

    weight = 1
    wait_time = between(1.0, 3.0)

    def on_start(self):
        super().on_start()
        self.client = self.day.signed_in(self.store["manager"])
        self.hq = self.day.signed_in(self.day.data["admin"])

    @task
    def transfer(self):
        actions.manager_transfer(self.day, self.client, self.hq, self.store, self.rng, self.report)

    @task
    def stocktake(self):
        actions.manager_stocktake(self.day, self.client, self.store, self.rng, self.report)


class Shopper(Persona):
    """A member browsing the store's cloud storefront on a phone; now and then one signs in with a code sent to the
    phone and looks at their account and points."""

    weight = 3
    wait_time = between(0.5, 2.0)

    def on_start(self):
        super().on_start()
        self.client = self.day.client()

    @task(4)
    def browse(self):
        actions.shopper_browse(self.day, self.client, self.store, self.rng, self.report)

    @task(1)
    def sign_in(self):
        actions.member_sign_in(self.day, self.store, self.rng, self.report)


class OnlineShopper(Persona):
    """A member who signs in on the store's storefront with a code sent to the phone, then orders for pickup again
    and again: 1-2 SKUs in the cart, checkout paying with stored value when they have it (half of the time), else at
    the store; a checkout whose answer was lost is sent again with the same key."""

    weight = 2
    wait_time = between(1.0, 3.0)

    def on_start(self):
        super().on_start()
        self.signed = None

    @task
    def order(self):
        if self.signed is None:
            self.signed = actions.storefront_sign_in(self.day, self.store, self.rng, self.report)
            return
        client, phone = self.signed
        actions.storefront_order(self.day, client, self.store, phone, self.rng, self.report)


class FlashBuyer(Persona):
    """The flash-sale burst: buyers arrive at once when the sale opens, each tries once."""

    weight = 2
    wait_time = between(0.0, 0.1)

    def on_start(self):
        super().on_start()
        self.client = self.day.client()

    @task
    def buy(self):
        if not self.day.flash_tokens:
            time.sleep(1)
            return
        actions.flash_buy(self.day, self.client, self.rng, self.report)
