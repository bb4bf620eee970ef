"""Benchmark: acting on a large segment (goal: seconds, not minutes, for 100,000 members on one machine).

    .venv/bin/python bench/segment_actions.py [--members 100000] [--churn 0.1]

Builds a chain in a temporary SQLite database with `--members` members (bulk-inserted, a third bound to a guide)
and times, on the same list:

    audience fill          members.audience_replace of every member into an empty audience (a segment's first refresh)
    audience churn         the next refresh: `--churn` of them leave, as many new ids arrive (only the difference)
    audience unchanged     a refresh that changes nothing (the diff alone)
    pricing check          promotions.pricing.price_lines of a 3-line cart with a promotion for the audience (per pricing)
    coupons to audience    coupon_issue_run_work: one code to each member, batches of 1,000 (what the task does)
    coupons again          the same issue a second time: nobody gets a second code
    call list              guides.calls.call_list_create: one entry per member, to their guide

and prints seconds and rows per second for each row.
"""
import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import setup_django, timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--churn", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        from django.core.management import call_command
        from django.db import transaction
        from django.utils import timezone

        from yundian.catalog import services as catalog
        from yundian.catalog.models import Sku
        from yundian.guides import calls
        from yundian.members import services as members
        from yundian.members.models import Channel, Member
        from yundian.org.tests.factories import make_chain
        from yundian.promotions import services as promotions
        from yundian.promotions.pricing import LineIn, price_lines

        call_command("migrate", verbosity=0)
        with transaction.atomic():
            chain = make_chain("bench")
            now = timezone.now()
            guides = [chain.guide_a, None, None]
            Member.objects.bulk_create([
                Member(enterprise_id=chain.hq.enterprise_id, home=chain.store_a, channel=Channel.POS, name=f"会员{i}",
                       guide=guides[i % 3], guide_bound_at=now if i % 3 == 0 else None)
                for i in range(args.members + int(args.members * args.churn))], batch_size=5_000)
            product = catalog.product_create(actor=chain.admin, code="P1", name="商品", skus=[
                {"code": f"S{i}", "base_price": 1000 + i} for i in range(3)])
        ids = sorted(Member.objects.values_list("pk", flat=True))
        first, extra = ids[:args.members], ids[args.members:]
        ent = chain.hq.enterprise_id
        audience = members.audience_ensure(enterprise_id=ent, node_id=chain.hq.id, source="segment", source_id=1,
                                           name="bench")
        rows = []
        seconds, change = timed(lambda: members.audience_replace(enterprise_id=ent, audience_id=audience.pk,
                                                                 member_ids=first))
        rows.append(("audience fill", seconds, change.added))
        leave = int(args.members * args.churn)
        churned = first[leave:] + extra
        seconds, change = timed(lambda: members.audience_replace(enterprise_id=ent, audience_id=audience.pk,
                                                                 member_ids=churned))
        rows.append(("audience churn", seconds, change.added + change.removed))
        seconds, change = timed(lambda: members.audience_replace(enterprise_id=ent, audience_id=audience.pk,
                                                                 member_ids=churned))
        rows.append(("audience unchanged", seconds, len(churned)))

        promotions.promotion_create(actor=chain.admin, node_id=chain.hq.id, code="VIP", name="VIP", kind="percent_off",
                                    rate="0.9", audience_id=audience.pk, status="active")
        skus = list(Sku.objects.filter(product=product).select_related("product"))
        member = Member.objects.get(pk=churned[-1])
        lines = [LineIn(sku=s, quantity=1, unit_price=s.base_price, gross=s.base_price, list_price=s.base_price)
                 for s in skus]
        price_lines(store=chain.store_a, channel="pos", lines=lines, member=member)  # warm the snapshot
        samples = 200
        seconds, _ = timed(lambda: [price_lines(store=chain.store_a, channel="pos", lines=lines, member=member)
                                    for _ in range(samples)])
        rows.append(("pricing check (per pricing)", seconds / samples, 1))

        campaign = promotions.coupon_campaign_create(actor=chain.admin, node_id=chain.hq.id, code="C1", name="券",
                                                     kind="amount_off", amount=500)
        run = promotions.coupon_issue_to_audience(actor=chain.admin, campaign_id=campaign.pk, audience_id=audience.pk)
        seconds, done = timed(lambda: promotions.coupon_issue_run_work(run_id=run.pk))
        rows.append(("coupons to audience", seconds, done.issued))
        again = promotions.coupon_issue_to_audience(actor=chain.admin, campaign_id=campaign.pk,
                                                    audience_id=audience.pk)
        seconds, done = timed(lambda: promotions.coupon_issue_run_work(run_id=again.pk))
        rows.append(("coupons again (none issued)", seconds, done.skipped))
        seconds, (_, added) = timed(lambda: calls.call_list_create(actor=chain.admin, audience_id=audience.pk,
                                                                   name="回访"))
        rows.append(("call list", seconds, added))

    print(f"{args.members:,} members, churn {args.churn:.0%}, SQLite")
    print(f"| {'step':<30} | {'seconds':>9} | {'rows':>9} | {'rows/s':>10} |")
    print(f"| {'-' * 30} | {'-' * 8}: | {'-' * 8}: | {'-' * 9}: |")
    for name, seconds, count in rows:
        rate = f"{count / seconds:,.0f}" if seconds else "-"
        print(f"| {name:<30} | {seconds:>9.4f} | {count:>9,} | {rate:>10} |")


if __name__ == "__main__":
    main()
