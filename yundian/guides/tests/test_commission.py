"""Commission: plans by product/category/store with rates, fixed amounts, tiers and exclusions; the ledger is
written with the order and reversed with returns; a guide sees their own, a manager all guides of the store."""
import pytest

from yundian.core.errors import Forbidden, NotFound, ValidationFailed
from yundian.guides import selectors, services
from yundian.guides.models import CommissionEntry, CommissionPlan
from yundian.org.tests.utils import assert_error, call, client_for
from yundian.sales import services as sales
from yundian.sales.tests.factories import assert_ledgers_clean, commission_of, next_ref, plan, sell, stocked


@pytest.fixture
def stock(chain):
    return stocked(chain, units=50)


def test_rules_fixed_amounts_exclusions_and_the_nearest_plan(chain, stock):
    cat = stock.cat
    plan(chain, "0.02", rules=[{"category_id": cat.apparel.id, "rate": "0.10"},
                               {"sku_id": cat.tee_m.id, "fixed_amount": 300},
                               {"product_id": cat.mug.id, "is_excluded": True}])
    order = sell(chain.guide_a, chain.store_a, [(cat.tee_s, 1), (cat.tee_m, 2), (cat.mug_sku, 4)])
    entries = dict(CommissionEntry.objects.filter(order=order).values_list("order_line__sku_id", "amount"))
    assert entries == {cat.tee_s.id: 990, cat.tee_m.id: 600}  # mug excluded; tee S by its category (parent)
    services.commission_plan_create(actor=chain.admin, node_id=chain.store_b.id, name="B only", default_rate="0.01")
    order_b = sell(chain.guide_b, chain.store_b, [(cat.tee_s, 1)])
    assert CommissionEntry.objects.get(order=order_b).amount == 99  # store B's own plan wins over HQ's
    assert_ledgers_clean()


def test_tiers_raise_the_rate_with_monthly_sales(chain, stock):
    plan(chain, "0.05", tiers=[{"min_month_sales": 30000, "bonus_rate": "0.05"}])
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)])  # 198.00 this month: 5%
    assert commission_of(chain.guide_a) == 990
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])  # 297.00: still below the tier
    assert commission_of(chain.guide_a) == 990 + 495
    sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 1)])  # 322.00: 10% from here
    assert commission_of(chain.guide_a) == 990 + 495 + 250


def test_lines_carry_their_own_guides_and_the_members_bound_guide_is_honoured(chain, stock):
    from yundian.members import services as members
    from yundian.members.tests.factories import register
    from yundian.org import services as org
    from yundian.org.roles import Role

    plan(chain, "0.10")
    second = org.staff_create(actor=chain.admin, home_id=chain.store_a.id, username="acme-guide-a2",
                              display_name="guide-a2", password="correct-horse-42", role=Role.GUIDE)
    order = sales.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(),
                               lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1},
                                      {"sku_id": stock.cat.mug_sku.id, "quantity": 1, "guide_id": second.id}],
                               payments=[{"method": "card", "client_ref": "c"}]).order
    assert (commission_of(chain.guide_a), commission_of(second)) == (990, 250)
    member = register(chain)
    members.guide_bind(actor=chain.manager_a, member_id=member.id, guide_id=second.id)
    bound = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=member.id)
    assert [l.guide_id for l in bound.lines.all()] == [second.id]
    with pytest.raises(ValidationFailed) as exc:
        sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], guide_id=chain.guide_b.id)
    assert exc.value.code == "invalid_guide"
    assert order.total == 12400


def test_plan_management_is_scoped_and_validated(chain, stock):
    with pytest.raises(Forbidden):
        services.commission_plan_create(actor=chain.manager_a, node_id=chain.store_a.id, name="x")
    with pytest.raises(NotFound):
        services.commission_plan_create(actor=chain.west_manager, node_id=chain.store_a.id, name="x")
    for bad in ({"default_rate": 0.1}, {"default_rate": "1.5"}, {"default_rate": "abc"},
                {"rules": [{"sku_id": stock.cat.tee_s.id, "rate": "0.1", "fixed_amount": 5}]},
                {"rules": [{"rate": "0.1"}]}, {"tiers": [{"min_month_sales": -1, "bonus_rate": "0.1"}]}):
        with pytest.raises(ValidationFailed):
            services.commission_plan_create(actor=chain.admin, node_id=chain.hq.id, name="x", **bad)
    assert not CommissionPlan.objects.exists()
    first = plan(chain)
    second = plan(chain, "0.07")
    first.refresh_from_db()
    assert (first.is_active, second.is_active) == (False, True)


def test_guide_sees_own_commission_and_manager_sees_all_guides(chain, stock):
    plan(chain, "0.05")
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)])
    sell(chain.manager_a, chain.store_a, [(stock.cat.mug_sku, 2)])
    sell(chain.guide_b, chain.store_b, [(stock.cat.tee_s, 1)])
    own = selectors.commission_overview(actor=chain.guide_a)
    assert (own["today_commission"], own["month_commission"], own["month_sales"], own["balance"]) == (990, 990, 19800, 990)
    assert len(own["orders"]) == 1
    with pytest.raises(NotFound):
        selectors.commission_overview(actor=chain.guide_a, guide_id=chain.guide_b.id)
    rows = selectors.commission_by_guide(actor=chain.manager_a)
    assert [(r["guide_id"], r["sales"], r["commission"]) for r in rows] == [(chain.guide_a.id, 19800, 990),
                                                                           (chain.manager_a.id, 5000, 250)]
    hq = selectors.commission_by_guide(actor=chain.admin)
    assert {r["guide_id"] for r in hq} == {chain.guide_a.id, chain.manager_a.id, chain.guide_b.id}
    board = selectors.leaderboard(actor=chain.guide_a)
    assert [(r["guide_id"], r["commission"]) for r in board] == [(chain.guide_a.id, 990), (chain.manager_a.id, None)]
    client = client_for(chain.guide_a)
    me = call(client, "GET", "/api/v1/guides/commission/me").json()
    assert me["month_commission"] == 990
    assert_error(call(client, "GET", f"/api/v1/guides/commission/guides/{chain.guide_b.id}"), 404)
    page = client.get("/guides/commission/")
    assert page.status_code == 200 and 'data-testid="month-commission">¥9.90<' in page.content.decode()
    assert '<td class="num">¥198.00</td><td class="num">¥9.90</td>' in page.content.decode()
    assert client.get("/guides/commission/all/").status_code == 404
    manager_page = client_for(chain.manager_a).get("/guides/commission/all/")
    assert manager_page.status_code == 200 and "guide-a" in manager_page.content.decode()
    assert ('<td class="num">¥198.00</td><td class="num">¥9.90</td>' in manager_page.content.decode()
            and '<th class="num">¥248.00</th><th class="num">¥12.40</th>' in manager_page.content.decode())
