"""Load the demo enterprise: scale 1, code "demo", well-known logins sharing one printed password."""
from django.contrib.auth import get_user_model
from django.db import IntegrityError

from yundian.core.errors import Conflict
from yundian.org.models import Enterprise

from .generators import DEFAULT_PASSWORD, run_seed

DEMO_CODE = "demo"
DEMO_PASSWORD = DEFAULT_PASSWORD
DEMO_HISTORY_DAYS = 365  # a year of orders, returns and events behind the dashboards and tags


BACK_OFFICE_LOGIN = f"{DEMO_CODE}-admin"


def back_office_grant(*, username: str = BACK_OFFICE_LOGIN) -> bool:
    """Let the demo HQ administrator into the Django admin (/admin/): staff and superuser, so every model the back
    office registers is open to them. The admin site is not scoped by enterprise, so this is for the single-chain
    demo only (a real installation makes its own support users). True if the user exists."""
    return get_user_model().objects.filter(username=username).update(is_staff=True, is_superuser=True) > 0


def demo_load() -> bool:
    """Seed the demo enterprise unless it exists; True if this call created it. Safe to run again (or twice at once).
    Either way the demo HQ administrator may open the back office (`back_office_grant`)."""
    if Enterprise.objects.filter(code=DEMO_CODE).exists():
        back_office_grant()
        return False
    try:
        run_seed(scale=1, seed=1, code=DEMO_CODE, password=DEMO_PASSWORD, history=DEMO_HISTORY_DAYS, events=True)
    except (Conflict, IntegrityError):
        # another demo process won the race: the enterprise code is unique, so exactly one load happened
        if Enterprise.objects.filter(code=DEMO_CODE).exists():
            return False
        raise
    back_office_grant()
    return True
