"""Load the demo enterprise: scale 1, code "demo", well-known logins sharing one printed password."""
from django.db import IntegrityError

from yundian.core.errors import Conflict
from yundian.org.models import Enterprise

from .generators import DEFAULT_PASSWORD, run_seed

DEMO_CODE = "demo"
DEMO_PASSWORD = DEFAULT_PASSWORD
DEMO_HISTORY_DAYS = 365  # a year of orders, returns and events behind the dashboards and tags


def demo_load() -> bool:
    """Seed the demo enterprise unless it exists; True if this call created it. Safe to run again (or twice at once)."""
    if Enterprise.objects.filter(code=DEMO_CODE).exists():
        return False
    try:
        run_seed(scale=1, seed=1, code=DEMO_CODE, password=DEMO_PASSWORD, history=DEMO_HISTORY_DAYS, events=True)
    except (Conflict, IntegrityError):
        # another demo process won the race: the enterprise code is unique, so exactly one load happened
        if Enterprise.objects.filter(code=DEMO_CODE).exists():
            return False
        raise
    return True
