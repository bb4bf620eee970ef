"""Background work of journeys (listed in yundian.core.scheduler.SCHEDULE). Idempotent: every scan and step is
keyed, so a task run twice, or by two workers at once, does nothing twice."""
import time

from django.tasks import task

from .runner import step_due
from .triggers import scan_all

TICK_SECONDS = 50


def journeys_work(*, seconds: float = TICK_SECONDS) -> dict:
    """Read every live journey's trigger, then step due enrolments in batches until none is due or `seconds`
    passed. Returns {"enrolled", "steps"}."""
    deadline = time.monotonic() + seconds
    enrolled = scan_all()
    steps = 0
    while time.monotonic() < deadline:
        n = step_due()
        if not n:
            break
        steps += n
    return {"enrolled": enrolled, "steps": steps}


@task()
def journeys_tick() -> dict:
    """Every minute: enrol members whose trigger fired, then run the steps that are due."""
    return journeys_work()
