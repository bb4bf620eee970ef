"""The per-process caches of a sale's reads (core.cache) across two real processes on the same database (SQLite
file or PostgreSQL): this process sells, a second process (the console) changes a price, a promotion, a
commission plan, a role or a staff member through the services, and this process's very next sale uses the new
value. And a writer's transaction that rolls back leaves nothing stale behind."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction

from yundian.catalog.services import price_list_create
from yundian.catalog.services.prices import price_entry_set
from yundian.core.errors import NotFound, ValidationFailed
from yundian.guides.models import CommissionEntry
from yundian.org.roles import Role
from yundian.org.tests.factories import fresh, make_chain
from yundian.sales.tests.factories import plan, sell, stocked

pytestmark = [pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]

# the console: a second Django process on the test database, running one service per line of stdin
CONSOLE = r"""
import json, sys
from django.conf import settings
settings.DATABASES["default"]["NAME"] = sys.argv[1]
import django
django.setup()
from yundian.catalog.services.prices import price_entry_set
from yundian.guides.services import commission_plan_create
from yundian.org import services as org
from yundian.org.models import RoleAssignment, Staff
from yundian.promotions.services.promotions import promotion_create
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    admin = Staff.objects.get(pk=cmd.pop("admin"))
    do = cmd.pop("do")
    if do == "price":
        price_entry_set(actor=admin, **cmd)
    elif do == "promotion":
        promotion_create(actor=admin, **cmd)
    elif do == "plan":
        commission_plan_create(actor=admin, **cmd)
    elif do == "revoke":
        for assignment in RoleAssignment.objects.filter(staff_id=cmd["staff_id"]):
            org.role_revoke(actor=admin, staff_id=cmd["staff_id"], assignment_id=assignment.pk)
    elif do == "deactivate":
        org.staff_update(actor=admin, staff_id=cmd["staff_id"], is_active=False)
    print(json.dumps({"done": do}), flush=True)
"""


class Console:
    def __init__(self, admin_id: int):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
        self.admin_id = admin_id
        self.process = subprocess.Popen([sys.executable, "-c", CONSOLE, str(connection.settings_dict["NAME"])],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        assert json.loads(self.process.stdout.readline()) == {"ready": True}

    def run(self, do: str, **kwargs) -> None:
        self.process.stdin.write(json.dumps({"do": do, "admin": self.admin_id, **kwargs}) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer and json.loads(answer) == {"done": do}, answer

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def console():
    consoles = []

    def start(admin_id: int) -> Console:
        consoles.append(Console(admin_id))
        return consoles[-1]

    yield start
    for c in consoles:
        c.close()


def test_a_change_in_another_process_reaches_the_very_next_sale(console):
    chain = make_chain()
    stock = stocked(chain, units=50)
    tee = stock.cat.tee_s
    plan(chain, default_rate="0.05")
    price_list = price_list_create(actor=chain.admin, node_id=chain.store_a.id, channel="store", code="A-LIST",
                                   name="Store A")
    price_entry_set(actor=chain.admin, price_list_id=price_list.id, sku_id=tee.id, price=8000)

    def sale(**kwargs):  # a new request each time: the clerk re-read, as the token's authentication does
        return sell(fresh(chain.manager_a), chain.store_a, [(tee, 1)], **kwargs)

    # given: this process has sold twice, so every read of the sale is cached here
    assert sale(guide_id=chain.guide_a.id).total == 8000
    assert sale(guide_id=chain.guide_a.id).total == 8000
    other = console(chain.admin.id)

    # a price (its entry updated in place: a bulk UPDATE, no signal)
    other.run("price", price_list_id=price_list.id, sku_id=tee.id, price=7000)
    assert sale().total == 7000

    # a promotion for every store
    other.run("promotion", node_id=chain.hq.id, code="HALF", name="Half", kind="percent_off", rate="0.5",
              status="active")
    assert sale().total == 3500

    # a new commission plan (the old one deactivated by a bulk UPDATE)
    other.run("plan", node_id=chain.hq.id, name="Rich", default_rate="0.10")
    order = sale(guide_id=chain.guide_a.id)
    assert CommissionEntry.objects.get(order=order).amount == 350

    # a guide deactivated: no longer a valid guide for the very next sale
    other.run("deactivate", staff_id=chain.guide_a.id)
    with pytest.raises(ValidationFailed) as exc:
        sale(guide_id=chain.guide_a.id)
    assert exc.value.code == "invalid_guide"

    # the clerk's roles revoked: the very next sale sees no store
    other.run("revoke", staff_id=chain.manager_a.id)
    with pytest.raises(NotFound):
        sale()


class Boom(Exception):
    pass


def test_a_rolled_back_change_leaves_no_stale_cache():
    chain = make_chain()
    stock = stocked(chain, units=50)
    tee = stock.cat.tee_s
    price_list = price_list_create(actor=chain.admin, node_id=chain.store_a.id, channel="store", code="A-LIST",
                                   name="Store A")
    price_entry_set(actor=chain.admin, price_list_id=price_list.id, sku_id=tee.id, price=8000)
    clerk = chain.manager_a
    assert sell(fresh(clerk), chain.store_a, [(tee, 1)]).total == 8000  # cached

    # the writer sees its own change inside its transaction, then rolls it back
    with pytest.raises(Boom):
        with transaction.atomic():
            price_entry_set(actor=chain.admin, price_list_id=price_list.id, sku_id=tee.id, price=5000)
            assert sell(fresh(clerk), chain.store_a, [(tee, 1)]).total == 5000
            raise Boom
    assert sell(fresh(clerk), chain.store_a, [(tee, 1)]).total == 8000

    # the next committed change takes the version number the rolled-back one had used: it is still seen
    price_entry_set(actor=chain.admin, price_list_id=price_list.id, sku_id=tee.id, price=6000)
    assert sell(fresh(clerk), chain.store_a, [(tee, 1)]).total == 6000

    # a role granted and rolled back grants nothing
    with pytest.raises(Boom):
        with transaction.atomic():
            from yundian.org.services import role_assign

            role_assign(actor=chain.admin, staff_id=chain.manager_b.id, role=Role.STORE_MANAGER,
                        node_id=chain.store_a.id)
            assert sell(fresh(chain.manager_b), chain.store_a, [(tee, 1)]).total == 6000
            raise Boom
    with pytest.raises(NotFound):
        sell(fresh(chain.manager_b), chain.store_a, [(tee, 1)])
