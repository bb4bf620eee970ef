"""The printed tables of bench/store_day.py."""
import os


def _num(value: float, fmt: str = "8.1f") -> str:
    return format(value, fmt) if value == value else format("-", fmt[:-2] + "s" if fmt.endswith("f") else fmt)


def print_load(results: list[dict], args) -> None:
    title = "crashes" if args.mode == "crash" else "no crashes"
    print(f"\nStore day over HTTP ({title}): locust {args.users} users for {args.seconds} s; gunicorn gthread "
          f"{args.workers} workers x {args.threads} threads + task worker; {os.cpu_count()} CPUs shared with the "
          f"clients")
    for result in results:
        print(f"\n{result['db']}: {result['orders']} orders acknowledged, {result['orders_per_s']:.1f} orders/s "
              f"(and {result['storefront_orders']} storefront orders); "
              f"check-ledgers: {'clean' if result['ledgers_clean'] else 'MISMATCH'}")
        print(f"  {'action':<24} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}")
        for row in result["rows"]:
            print(f"  {row['action']:<24} {row['count']:>8} {row['errors']:>6} {row['per_s']:>7.1f} "
                  f"{_num(row['p50_ms'])} {_num(row['p99_ms'])}")
        for failure in result["failures"][:10]:
            print(f"  ! {failure}")
        if not result["ledgers_clean"]:
            print("  " + result["ledgers"][-1500:].replace("\n", "\n  "))


def invariants_hold(result: dict) -> bool:
    v = result["verified"]
    sf = v["storefront"]
    return (sum(v["lost"].values()) == 0 and v["duplicates"] == 0 and v["ledger_mismatches"] == 0
            and v["oversold"] == 0 and v["caps_exceeded"] == 0 and v["coupons"]["orphans"] == 0
            and v["coupons"]["unredeemed_discounts"] == 0 and sf["keys_with_two_orders"] == 0
            and sf["wrong_channel"] == 0 and sf["wrong_member"] == 0 and sf["not_held"] == 0
            and result["ledgers_clean"])


def check_rows(v: dict) -> list[tuple[str, object]]:
    """The final checks of one run (verify's JSON) as (label, value) rows; every count but the first few must be 0."""
    c = v["coupons"]
    acked = v["acknowledged"]
    return [
        ("acknowledged orders / returns / flash claims", f"{acked['order']} / {acked['return']} / {acked['flash']}"),
        ("acknowledged points redemptions (points)", f"{acked['redeem']} ({v['points_redeemed']})"),
        ("members signed in on the storefront", acked["sign_in"]),
        ("storefront orders acknowledged / in the db", f"{acked['storefront']} / {v['storefront']['orders']}"),
        ("  paid with stored value / at the store", f"{v['storefront']['paid_stored_value']} / "
                                                    f"{v['storefront']['open']}"),
        ("coupon codes issued / redeemed", f"{c['codes']} / {c['redeemed']}"),
        ("acknowledged writes lost", sum(v["lost"].values())),
        ("duplicates", v["duplicates"]),
        ("coupons redeemed twice", c["redeemed_twice"]),
        ("checkout keys with two orders", v["storefront"]["keys_with_two_orders"]),
        ("storefront orders: wrong channel / member", f"{v['storefront']['wrong_channel']} / "
                                                       f"{v['storefront']['wrong_member']}"),
        ("storefront orders not held in their store", v["storefront"]["not_held"]),
        ("coupon redemptions without their order", c["orphans"]),
        ("orders discounted without a redemption", c["unredeemed_discounts"]),
        ("ledger mismatches", v["ledger_mismatches"]),
        ("oversold units", v["oversold"]),
        ("caps exceeded", v["caps_exceeded"]),
    ]


def print_checks(results: list[dict]) -> None:
    print(f"\n{'checks after the day':<46}" + "".join(f" {r['db']:>16}" for r in results))
    rows = [check_rows(r["verified"]) for r in results]
    for i, (label, _value) in enumerate(rows[0]):
        print(f"{label + ':':<46}" + "".join(f" {str(r[i][1]):>16}" for r in rows))
    print(f"{'check-ledgers:':<46}" + "".join(f" {'clean' if r['ledgers_clean'] else 'MISMATCH':>16}"
                                               for r in results))
    print(f"{'invariants:':<46}" + "".join(f" {'hold' if invariants_hold(r) else 'BROKEN':>16}" for r in results))


def print_crash(results: list[dict], args) -> None:
    print(f"\nCrash test: {args.kills} SIGKILLs during the load (server, worker or both), clients retrying under "
          f"their keys")
    header = (f"{'db':<9} {'kills':<36} {'acked orders':>12} {'returns':>7} {'flash':>5} {'points':>6} "
              f"{'coupons':>7} {'online':>6} {'lost':>4} {'dupes':>5} "
              f"{'ledger mismatches':>17} {'oversold':>8} {'caps exceeded':>13} {'hot sold/in':>11}")
    print(header)
    for result in results:
        v = result["verified"]
        kills = ",".join(f"{k['killed'].replace('web+worker', 'both')}@{k['at']:.0f}s" for k in result["kills"])
        print(f"{result['db']:<9} {kills:<36} {v['acknowledged']['order']:>12} {v['acknowledged']['return']:>7} "
              f"{v['acknowledged']['flash']:>5} {v['acknowledged']['redeem']:>6} {v['acknowledged']['coupon']:>7} "
              f"{v['acknowledged']['storefront']:>6} "
              f"{sum(v['lost'].values()):>4} {v['duplicates']:>5} "
              f"{v['ledger_mismatches']:>17} {v['oversold']:>8} {v['caps_exceeded']:>13} "
              f"{v['hot']['sold']:>5}/{v['hot']['received']:<5}")
        print(f"{'':<9} invariants: {'hold' if invariants_hold(result) else 'BROKEN'}; downtime per kill "
              f"{', '.join(str(k['down_s']) for k in result['kills'])} s; flash sold {v['flash']['sold']} "
              f"(cap {args.flash_cap})")


def print_fuzz(results: list[dict], args) -> None:
    print(f"\nschemathesis over /api/v1 ({args.examples} examples per generation mode and role)")
    print(f"{'db':<9} {'role':<15} {'requests':>8} {'5xx':>4} {'known 5xx':>9} {'undocumented':>12}  statuses")
    for result in results:
        for role in result["roles"]:
            statuses = " ".join(f"{k}:{v}" for k, v in sorted(role["statuses"].items()))
            print(f"{result['db']:<9} {role['role']:<15} {role['requests']:>8} {role['server_errors']:>4} "
                  f"{role['known_server_errors']:>9} {role['undocumented']:>12}  {statuses}")
            for request in role["first_5xx"]:
                print(f"{'':<9}   5xx: {request[:300]}")
        print(f"{result['db']:<9} {'all roles':<15} {'passed' if result['passed'] else 'FAILED'} in "
              f"{result['seconds']:.0f} s")
        if not result["passed"]:
            print(result["tail"])
