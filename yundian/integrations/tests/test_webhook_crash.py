"""kill -9 of the webhook worker between its POSTs and their record: no event is lost, and every re-delivery carries
the event id the receiver already saw, so it deduplicates."""
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from yundian.core.testing import database_url
from yundian.integrations import webhooks_services as services
from yundian.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from yundian.integrations.webhooks_delivery import run_once
from yundian.sales.tests.factories import sell, stocked

from .receiver import Receiver

ROOT = Path(__file__).resolve().parents[3]
ORDERS = 30
BATCH = 10



@pytest.mark.once
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_loses_no_event_and_redelivers_with_the_same_ids(chain, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    stock = stocked(chain, units=50)
    with Receiver() as receiver:
        sub = services.webhook_subscription_create(actor=chain.admin, name="ERP", url=receiver.url,
                                                   events=["order.paid"])
        receiver.secret = sub.secret
        for _ in range(ORDERS):
            sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])

        env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.base",
               "SECRET_KEY": "test-only", "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT),
               "WEBHOOKS_ALLOW_PRIVATE_URLS": "1"}
        victim = subprocess.Popen([sys.executable, "-m", "yundian.cli", "webhooks", "worker", "--batch", str(BATCH),
                                   "--hold-after-sending", "30"],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = []
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                line = victim.stdout.readline()
                if not line:
                    break
                seen.append(line)
                if line.startswith("sent"):
                    victim.send_signal(signal.SIGKILL)  # the receiver has the batch; the database does not know
                    break
            victim.wait(timeout=30)
        finally:
            if victim.poll() is None:
                victim.kill()
        assert victim.returncode == -signal.SIGKILL, "".join(seen[-20:])
        assert len(receiver.calls) == BATCH and WebhookEvent.objects.count() == ORDERS  # dispatched, then killed
        assert WebhookDelivery.objects.filter(status="pending").count() == ORDERS  # nothing recorded as sent
        first_calls = {c["event_id"]: c["body"] for c in receiver.calls}

        # a worker (re)started after the lease ran out delivers everything, the killed batch again
        _created, outcome = run_once(now=timezone.now() + timedelta(minutes=2))
        assert (outcome.delivered, outcome.lost) == (ORDERS, BATCH)

    assert WebhookDelivery.objects.filter(status="succeeded").count() == ORDERS
    ids = receiver.ids()
    assert len(ids) == ORDERS + BATCH
    assert sorted(set(ids)) == sorted(f"evt_{pk}" for pk in WebhookEvent.objects.values_list("id", flat=True))
    again = [c for c in receiver.calls[BATCH:] if c["event_id"] in first_calls]
    assert len(again) == BATCH and all(c["body"] == first_calls[c["event_id"]] for c in again)  # same id, same body
    assert all(c["verified"] for c in receiver.calls)
    assert len(receiver.events) == ORDERS  # the receiver kept each event once
    assert {json.loads(b)["type"] for b in first_calls.values()} == {"order.paid"}
    lost = WebhookAttempt.objects.filter(error__startswith="worker stopped")
    assert lost.count() == BATCH and set(lost.values_list("number", flat=True)) == {1}
    assert set(WebhookDelivery.objects.filter(event__pk__in=[int(i[4:]) for i in first_calls])
               .values_list("attempts", flat=True)) == {2}
