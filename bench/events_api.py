"""Benchmark: behaviour events through POST /api/v1/events and on into the warehouse (embedded SQLite + DuckDB).

    .venv/bin/python bench/events_api.py [--batches 30] [--size 1000]

In one process on a throwaway database: a chain with a storefront, then `--batches` storefront batches of `--size`
events (page, product, search and cart events over the chain's SKUs, one device per 25 events, a member token on
one batch in five) posted through Django's test client (the whole request path: gate, JSON parsing, validation,
the inbox insert), then one inbox flush into the warehouse. Prints events/s for each stage. No network: the
HTTP server's own cost is left out (bench/checkout_http.py measures a real server).
"""
import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import setup_django  # noqa: E402


def batch(rng: random.Random, n: int, size: int, slug: str, skus: list[int], token: str) -> dict:
    events = []
    for i in range(size):
        kind = rng.choices(["page_view", "product_view", "search", "add_to_cart"], [50, 30, 10, 10])[0]
        event = {"event_id": f"b{n}-{i}", "kind": kind, "anonymous_id": f"dev-{n}-{i // 25}",
                 "timestamp": "2026-12-07T01:00:00Z", "properties": {"path": f"/s/{slug}/"}}
        if kind in ("product_view", "add_to_cart"):
            event["sku_id"] = rng.choice(skus)
        if kind == "search":
            event["properties"] = {"query": rng.choice(["T恤", "mug", "apples"])}
        if kind == "add_to_cart":
            event["properties"] = {"quantity": rng.randint(1, 3)}
        if token and n % 5 == 0:
            event["member_token"] = token
        events.append(event)
    return {"store": slug, "sent_at": "2026-12-07T01:00:01Z", "events": events}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--size", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client

        from yundian.cdp.inbox import inbox_flush_now
        from yundian.cdp.models import EventInbox
        from yundian.cdp.tokens import member_token_issue
        from yundian.members.tests.factories import register
        from yundian.org.tests.factories import make_chain
        from yundian.stores.tests.factories import make_shop

        call_command("migrate", verbosity=0)
        settings.EVENTS_STOREFRONT_BATCHES_PER_MINUTE = 10**9
        settings.ALLOWED_HOSTS = ["*"]
        chain = make_chain()
        shop = make_shop(chain)
        member = register(chain)
        token = member_token_issue(enterprise_id=chain.hq.enterprise_id, member_id=member.pk)
        skus = [shop.catalogue.tee_s.id, shop.catalogue.tee_m.id, shop.catalogue.mug_sku.id]
        rng = random.Random(7)
        bodies = [json.dumps(batch(rng, n, args.size, shop.profile_a.slug, skus, token))
                  for n in range(args.batches)]
        client = Client()
        started = time.perf_counter()
        for body in bodies:
            response = client.post("/api/v1/events", data=body, content_type="application/json")
            assert response.status_code == 200, response.content[:300]
        api_seconds = time.perf_counter() - started
        kept = EventInbox.objects.count()
        started = time.perf_counter()
        moved = inbox_flush_now()
        flush_seconds = time.perf_counter() - started
        total = args.batches * args.size
        print(f"{'stage':<40}{'events':>10}{'seconds':>10}{'events/s':>12}")
        print(f"{'POST /api/v1/events -> inbox':<40}{kept:>10}{api_seconds:>10.2f}{total / api_seconds:>12,.0f}")
        print(f"{'inbox_flush -> warehouse':<40}{moved:>10}{flush_seconds:>10.2f}{moved / flush_seconds:>12,.0f}")


if __name__ == "__main__":
    main()
