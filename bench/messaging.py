"""Benchmark: the outbox's enqueue and send throughput to the fake SMS gateway (messages per second).

    .venv/bin/python bench/messaging.py [--messages 5000] [--batch 200]

Builds a chain in a temporary SQLite database with `--messages` members, each with a phone and SMS consent
(bulk-inserted), and one template, then times:

    baseline insert         a bare OutboundMessage INSERT per message (bulk_create): the floor the outbox builds on
    enqueue (one tx each)   message_enqueue per member, each in its own transaction (a journey step's shape)
    enqueue (one tx)        the same for a second template, all in one transaction (a batch caller)
    send, 1 worker          send_due in batches of `--batch`: claim, consent + caps + quiet hours under the member
                            lock, fake gateway, record (every message)
    send, 2 workers         the second set with two worker threads at once (SQLite: one writer at a time)
    receipts                the gateway's delivery receipts applied through the service (sent -> delivered)
    resend (nothing due)    send_due again: nothing is sent twice

Rows per second for each, and the ratio to the baseline insert. Messages go out at noon Shanghai time (outside the
quiet hours) so every one is sent.
"""
import argparse
import os
import sys
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import setup_django, timed  # noqa: E402

NOON = datetime(2030, 1, 7, 4, 0, tzinfo=ZoneInfo("UTC"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    n = args.messages
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection, transaction
        from django.utils import timezone

        from yundian.members.models import (
            Channel, ConsentEvent, ConsentState, IdentityKind, Member, MemberIdentity,
        )
        from yundian.messaging import services
        from yundian.messaging.models import OutboundMessage
        from yundian.messaging.providers import FakeSmsProvider
        from yundian.messaging.receipts import fake_receipts_post
        from yundian.messaging.sending import send_due
        from yundian.org.tests.factories import make_chain

        settings.MESSAGING_KICK_WORKER = False  # the bench runs the worker itself
        call_command("migrate", verbosity=0)
        with transaction.atomic():
            chain = make_chain("bench")
            ent = chain.hq.enterprise_id
            Member.objects.bulk_create([Member(enterprise_id=ent, home=chain.store_a, channel=Channel.POS,
                                               name=f"会员{i}") for i in range(n)], batch_size=5_000)
            members = list(Member.objects.select_related("home").order_by("id"))
            MemberIdentity.objects.bulk_create([
                MemberIdentity(enterprise_id=ent, member=m, kind=IdentityKind.PHONE, value=f"139{m.pk:08d}",
                               channel=Channel.POS) for m in members], batch_size=5_000)
            events = ConsentEvent.objects.bulk_create([
                ConsentEvent(member=m, channel="sms", granted=True, source=Channel.POS) for m in members],
                batch_size=5_000)
            ConsentState.objects.bulk_create([ConsentState(member_id=e.member_id, channel="sms", granted=True,
                                                           event=e) for e in events], batch_size=5_000)
            policy = services.policy_get(ent)
            policy.daily_cap = policy.weekly_cap = 10
            policy.save()
        bodies = [{"channel": "sms", "body": "$member_name，新年快乐！券码 $coupon_code，$store_name 见。"}]
        first = services.template_create(actor=chain.admin, name="新年", bodies=bodies)
        second = services.template_create(actor=chain.admin, name="元宵", bodies=bodies)
        rows = []

        now = timezone.now()
        seconds, _ = timed(lambda: OutboundMessage.objects.bulk_create([
            OutboundMessage(enterprise_id=ent, member=m, scope_path=m.home.path, key=f"base:{m.pk}",
                            channel="sms", purpose="marketing", language="zh-hans", body="x", due_at=now,
                            status="suppressed") for m in members], batch_size=1_000))
        rows.append(("baseline insert (bulk)", seconds, n))

        def enqueue_each(template, prefix):
            for m in members:
                with transaction.atomic():
                    services.message_enqueue(member=m, channel="sms", template=template,
                                             variables={"coupon_code": f"NY-{m.pk}"}, key=f"{prefix}:{m.pk}")

        seconds, _ = timed(lambda: enqueue_each(first, "journey:1"))
        rows.append(("enqueue (one tx each)", seconds, n))

        def enqueue_batch():
            with transaction.atomic():
                for m in members:
                    services.message_enqueue(member=m, channel="sms", template=second,
                                             variables={"coupon_code": f"YX-{m.pk}"}, key=f"journey:2:{m.pk}")

        seconds, _ = timed(enqueue_batch)
        rows.append(("enqueue (one tx)", seconds, n))
        seconds, _ = timed(lambda: enqueue_each(first, "journey:1"))
        rows.append(("enqueue again (same keys)", seconds, n))

        # send the first template's messages with one worker: hold back the second set
        OutboundMessage.objects.filter(key__startswith="journey:2:").update(due_at=datetime(2031, 1, 1, tzinfo=ZoneInfo("UTC")))
        seconds, outcome = timed(lambda: send_due(now=NOON, limit=args.batch))
        rows.append(("send, 1 worker", seconds, outcome.sent))
        OutboundMessage.objects.filter(key__startswith="journey:2:").update(due_at=NOON)
        outcomes = []

        def worker(name):
            try:
                outcomes.append(send_due(now=NOON, limit=args.batch, worker=name))
            finally:
                connection.close()

        def two_workers():
            threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        seconds, _ = timed(two_workers)
        rows.append(("send, 2 workers", seconds, sum(o.sent for o in outcomes)))
        seconds, counts = timed(lambda: fake_receipts_post())
        rows.append(("receipts (delivered)", seconds, counts["applied"]))
        seconds, outcome = timed(lambda: send_due(now=NOON, limit=args.batch))
        rows.append(("resend (nothing due)", seconds, outcome.sent))
        gateway = FakeSmsProvider.gateway
        assert gateway.calls == 2 * n and len(gateway.sent) == 2 * n, (gateway.calls, len(gateway.sent))

    load = os.getloadavg()
    print(f"{n:,} members, SMS to the fake gateway, SQLite; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
          f"on {os.cpu_count()} cores")
    base = rows[0][2] / rows[0][1]
    print(f"| {'step':<28} | {'seconds':>9} | {'messages':>9} | {'messages/s':>11} | {'vs baseline':>11} |")
    print(f"| {'-' * 28} | {'-' * 8}: | {'-' * 8}: | {'-' * 10}: | {'-' * 10}: |")
    for name, seconds, count in rows:
        rate = count / seconds if seconds and count else 0
        print(f"| {name:<28} | {seconds:>9.3f} | {count:>9,} | {rate:>11,.0f} | {rate / base:>10.3f}x |")


if __name__ == "__main__":
    main()
