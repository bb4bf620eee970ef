"""kill -9 of a journey worker mid-step, with a second worker running beside it: after a restart every
enrolment took each of its steps once, and nobody got a coupon or points twice."""
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
from yundian.journeys import runner, services
from yundian.journeys.models import Enrolment, StepRun
from yundian.members.models import PointsBalance, PointsEntry
from yundian.members.tests.factories import register
from yundian.promotions.models import Coupon
from yundian.promotions.tests.factories import campaign

from .factories import api_entry, line, make_tag, node

ROOT = Path(__file__).resolve().parents[3]
MEMBERS = 120



def _worker(env, hold: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "yundian.cli", "journeys", "run", "--batch", "20", "--idle", "0.2",
                             "--hold-after-acting", str(hold)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_step_beside_another_leaves_every_step_done_once(chain):
    tag = make_tag(chain)
    coupons = campaign(chain, code_mode="unique")
    journey = services.journey_create(actor=chain.admin, name="crash", graph=line(
        api_entry(), node("c", "coupon", campaign_id=coupons.pk), node("p", "points", points=25),
        node("t", "tag", tag_id=tag.pk, action="add")))
    services.journey_publish(actor=chain.admin, journey_id=journey.pk)
    journey.refresh_from_db()
    members = [register(chain) for _ in range(MEMBERS)]
    assert runner.enrol(journey=journey, candidates=[(m.pk, "t", {}) for m in members]) == MEMBERS

    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.base",
           "SECRET_KEY": "test-only", "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    victim, survivor = _worker(env, hold=0.5), _worker(env, hold=0.05)
    seen = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            line_ = victim.stdout.readline()
            if not line_:
                break
            seen.append(line_)
            if line_.startswith("acted") and sum(s.startswith("acted") for s in seen) >= 3:
                victim.send_signal(signal.SIGKILL)  # between a hop's actions and their record
                break
        victim.wait(timeout=30)
        assert victim.returncode == -signal.SIGKILL, "".join(seen[-20:])
        # the survivor goes on with everything not leased to the dead worker
        while time.monotonic() < deadline:
            leased = Enrolment.objects.filter(status="active").exclude(lease_token="").count()
            if Enrolment.objects.filter(status="active").count() == leased:
                break
            time.sleep(0.2)
    finally:
        survivor.send_signal(signal.SIGTERM)
        survivor.wait(timeout=30)
        if victim.poll() is None:
            victim.kill()

    stranded = StepRun.objects.filter(status="running").count()
    assert stranded > 0, "the kill did not land mid-step"
    # restart once the dead worker's lease ran out
    runner.step_all(now=timezone.now() + runner.LEASE + timedelta(seconds=1))

    assert Enrolment.objects.filter(journey=journey).exclude(status="done").count() == 0
    steps = list(StepRun.objects.filter(journey=journey).values_list("enrolment_id", "seq", "node", "status"))
    assert len(steps) == MEMBERS * 5 and {s[3] for s in steps} == {"done"}
    by_enrolment = {}
    for enrolment_id, seq, node_id, _status in steps:
        by_enrolment.setdefault(enrolment_id, []).append((seq, node_id))
    assert {tuple(sorted(v)) for v in by_enrolment.values()} == {
        ((0, "entry"), (1, "c"), (2, "p"), (3, "t"), (4, "end"))}
    assert StepRun.objects.filter(attempts__gt=1).count() == stranded
    assert Coupon.objects.filter(campaign=coupons).count() == MEMBERS
    assert sorted(Coupon.objects.values_list("member_id", flat=True)) == sorted(m.pk for m in members)
    assert PointsEntry.objects.filter(source_type="journey").count() == MEMBERS
    assert set(PointsBalance.objects.filter(member__in=members).values_list("points", flat=True)) == {25}
