"""The crash test, short: a real server (gunicorn) and the task worker on a fresh database of the suite's kind,
store-day clients in threads (checkouts by barcode racing for a scarce SKU and, two clerks at a time, for single-use
coupon codes; returns; member desk with points redemptions and stored value; transfers, stocktakes; storefront
browsing, members signing in with a one-time code, and a member ordering on the storefront for pickup; flash sale),
one SIGKILL of the server and the worker during the burst, clients retrying under their keys (the storefront
checkout: the same form with the same checkout key). Then: 0 lost acknowledged writes (orders, returns, flash
claims, points redemptions, coupon redemptions, storefront orders), 0 duplicates, no code redeemed twice, no
redemption without its order, no checkout key with two orders, every storefront order its shopper's and held in its
store's warehouse, 0 ledger mismatches, 0 oversold units, 0 caps exceeded, and `yundian check-ledgers` clean. The
longer run with several kills: bench/store_day.py crash."""
import json
import os

import pytest

from bench.store_day import crash, servers
from bench.store_day.actions import AckLog, Day


@pytest.fixture
def database(tmp_path):
    """A fresh database for the server process: SQLite in tmp_path, or a new PostgreSQL database next to the
    suite's when DATABASE_URL is set; dropped afterwards."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield "sqlite", servers.server_env("sqlite", str(tmp_path), None)
        return
    pg_url = f"{url.rsplit('/', 1)[0]}/yd_proof_crash_{os.getpid()}"
    servers.fresh_postgres(pg_url)
    try:
        yield "postgres", servers.server_env("postgres", str(tmp_path), pg_url)
    finally:
        servers.drop_postgres(pg_url)


def test_sigkill_of_server_and_worker_mid_burst_loses_nothing_and_keeps_every_ledger(database, tmp_path):
    db, env = database
    seeded = servers.run_django(env, "seed", str(tmp_path / "day.json"), "--hot-units", "6", "--flash-cap", "12",
                                "--buyers", "50", "--coupons", "20")
    assert seeded["stores"] == 6
    port = servers.free_port()
    web = servers.web(env, port, tmp_path / "web.log", workers=2, threads=4)
    worker = servers.worker(env, tmp_path / "worker.log")
    web.start()
    worker.start()
    day = Day(json.loads((tmp_path / "day.json").read_text()), "127.0.0.1", port, AckLog(tmp_path / "acks.jsonl"),
              retry_for=40, codes=servers.codes_file(env))
    def orders() -> int:
        return day.acks_by_kind.get("order", 0)

    def every_kind() -> bool:
        return all(day.acks_by_kind.get(kind, 0) >= 1 for kind in ("coupon", "redeem", "sign_in", "storefront"))

    # the kill comes once the burst is on (>= 4 orders acknowledged, >= 4 s in) while a storefront checkout form is
    # on its way; the day goes on until as many orders again were acknowledged after the restart and a coupon order,
    # a points redemption, a storefront sign-in and a storefront order were (>= 12 s in all; a loaded machine gets up
    # to 90 s)
    chaos = crash.Chaos([(4.0, "both")], ready=lambda: orders() >= 4 and day.checking_out > 0, acks=orders)
    try:
        stats = crash.run_day(day, seconds=12, stores=3, processes={"web": web, "worker": worker}, chaos=chaos,
                              until=lambda: bool(chaos.log) and orders() >= chaos.log[0]["acks_before"] + 4
                              and every_kind(), max_seconds=90, coupons=0.5)
    finally:
        web.stop()
        worker.stop()
    assert [entry["killed"] for entry in chaos.log] == ["web+worker"] and web.kills == 1 and worker.kills == 1
    rows = {row["action"]: row for row in stats.rows()}
    # the burst really happened on both sides of the kill, and no client saw an error it could not retry through
    assert chaos.log[0]["acks_before"] >= 4 and orders() >= chaos.log[0]["acks_before"] + 4, (chaos.log, orders())
    assert sum(row["errors"] for row in rows.values()) == 0, stats.errors
    verified = servers.run_django(env, "verify", str(tmp_path / "acks.jsonl"))
    assert verified["acknowledged"]["order"] == orders() >= 8
    assert verified["lost"] == {"orders": 0, "returns": 0, "flash_claims": 0, "points_redemptions": 0,
                                "coupon_redemptions": 0, "sign_ins": 0, "storefront_orders": 0}
    assert verified["duplicates"] == 0
    # points: each acknowledged redemption is one ledger entry (a retry under its key posted nothing more)
    assert verified["acknowledged"]["redeem"] == rows["points redeem"]["ok"] >= 1
    # coupons: every code presented twice, redeemed by one order at most, each redemption on its existing order, and
    # every redeemed code is one a clerk was told went through
    coupons = verified["coupons"]
    assert coupons["redeemed_twice"] == 0 and coupons["orphans"] == 0 and coupons["unredeemed_discounts"] == 0
    assert coupons["redeemed"] == coupons["redemptions"] == coupons["discounted_orders"] \
        == verified["acknowledged"]["coupon"] >= 1
    # members signed in on the storefront with the code the server sent (read from its code file), each holding the
    # phone they signed in with
    assert verified["acknowledged"]["sign_in"] == rows["sign-in"]["ok"] >= 1
    assert rows["my account"]["ok"] == rows["sign-in"]["ok"]
    # storefront orders: each acknowledged checkout (the redirect named its order) is one storefront pickup order of
    # the member who signed in, under its own checkout key, its goods reserved in the store's warehouse
    storefront = verified["storefront"]
    checkouts = sum(rows.get(name, {"ok": 0})["ok"] for name in ("storefront checkout", "storefront checkout sv"))
    assert verified["acknowledged"]["storefront"] == checkouts == rows["order placed"]["ok"] >= 1
    # a checkout the kill interrupted (usually one; none when it was answered just before) was sent again with the
    # same key until answered, and counted once among the acknowledged checkouts (one order each, checked below)
    assert rows.get("checkout sent again", {"count": 0})["count"] <= min(checkouts, 3), stats.errors
    assert storefront["orders"] >= checkouts and storefront["paid_stored_value"] + storefront["open"] \
        == storefront["orders"]
    assert (storefront["keys_with_two_orders"], storefront["wrong_channel"], storefront["wrong_member"],
            storefront["not_held"]) == (0, 0, 0, 0), storefront
    assert storefront["units_held"] >= checkouts
    assert verified["ledger_mismatches"] == 0, verified["mismatch_detail"]
    assert verified["oversold"] == 0 and verified["hot"]["sold"] <= verified["hot"]["received"]
    assert verified["caps_exceeded"] == 0
    assert verified["flash"]["sold"] == verified["flash"]["claimed"] <= 12
    clean, output = servers.check_ledgers(env)
    assert clean, output
    assert "mismatch" not in output
