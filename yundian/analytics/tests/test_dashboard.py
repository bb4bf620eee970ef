"""The home dashboard against the ledgers: after a sync every scope's figures equal the OLTP orders of that scope
(net of refunds), a region manager never sees another region, a guide sees their own sales, the page renders."""
import pytest
from django.db.models import F, Sum
from django.test import Client
from django.utils import timezone

from yundian.analytics.dashboard import dashboard_figures, home_dashboard, scope_of
from yundian.analytics.sync import sync_run
from yundian.core.money import Money
from yundian.core.warehouse import warehouse_read
from yundian.members.tests.factories import register
from yundian.org.tests.factories import PASSWORD
from yundian.sales import services
from yundian.sales.models import Order
from yundian.sales.tests.factories import next_ref, sell, stocked

pytestmark = pytest.mark.django_db


def signed_in(staff) -> Client:
    client = Client()
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


def oltp(orders) -> tuple[int, int]:
    """(orders, net sales) of OLTP orders that are sales: paid, not cancelled; paid less refunded."""
    sales = orders.filter(paid_at__isnull=False).exclude(status="cancelled")
    return sales.count(), sales.aggregate(n=Sum(F("paid_total") - F("refunded_total")))["n"] or 0


@pytest.fixture
def day(chain, warehouse):
    """Store A: a member's order (partly returned) and a walk-in order; store B: a member's two orders and one that
    was cancelled. Synced."""
    stock = stocked(chain)
    a_member, b_member = register(chain), register(chain, store=chain.store_b)
    first = services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(),
                                  member_id=a_member.id, lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 3}],
                                  payments=[{"method": "cash", "client_ref": "p"}]).order
    services.return_create(actor=chain.guide_a, order_id=first.id, client_ref="r1",
                           lines=[{"order_line_id": first.lines.get().id, "quantity": 1}])
    sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 2)])
    for _ in range(2):
        services.order_create(actor=chain.guide_b, store_id=chain.store_b.id, client_ref=next_ref(),
                              member_id=b_member.id, lines=[{"sku_id": stock.cat.tee_m.id, "quantity": 1}],
                              payments=[{"method": "cash", "client_ref": "p"}])
    cancelled = sell(chain.guide_b, chain.store_b, [(stock.cat.mug_sku, 1)])
    services.order_cancel(actor=chain.manager_b, order_id=cancelled.id, reason="test")
    sync_run()
    return stock


def test_every_scopes_dashboard_equals_the_oltp_orders_of_that_scope_and_the_hand_count(chain, day):
    today = timezone.localdate()
    everything = Order.objects.filter(store__enterprise_id=chain.admin.enterprise_id)
    cases = [
        (chain.admin, everything),
        (chain.east_manager, everything.filter(store__path__startswith=chain.east.path)),
        (chain.west_manager, everything.filter(store__path__startswith=chain.west.path)),
        (chain.manager_a, everything.filter(store=chain.store_a)),
        (chain.manager_b, everything.filter(store=chain.store_b)),
    ]
    with warehouse_read() as wh:
        for actor, orders in cases:
            figures = dashboard_figures(wh, scope_of(actor), today)
            count, net = oltp(orders)
            for key in ("day_now", "week_now", "month_now"):
                assert (figures[key]["orders"], figures[key]["net_sales"]) == (count, net), (actor, key)
            assert figures["day_previous"]["orders"] == figures["day_last_year"]["orders"] == 0
    assert oltp(everything)[0] == 4  # the fixture is not empty: the equalities above compared real sales

    # by hand
    a, b = chain.store_a, chain.store_b
    count_a, net_a = oltp(Order.objects.filter(store=a))
    count_b, net_b = oltp(Order.objects.filter(store=b))
    assert (count_a, count_b) == (2, 2)  # the cancelled order is no sale
    today = timezone.localdate()
    with warehouse_read() as wh:
        hq = dashboard_figures(wh, scope_of(chain.admin), today)["day_now"]
        west = dashboard_figures(wh, scope_of(chain.west_manager), today)["day_now"]
    assert hq["orders"] == 4 and hq["net_sales"] == net_a + net_b
    assert hq["aov"] == round((net_a + net_b) / 4)
    member_sales = sum(o.paid_total - o.refunded_total for o in Order.objects.filter(member__isnull=False)
                       .exclude(status="cancelled"))
    assert hq["member_share"] == round(100 * member_sales / (net_a + net_b), 1)
    assert (hq["new_members"], hq["active_members"]) == (2, 2)
    assert hq["repurchase_rate"] == 0.0  # two orders on one day are one purchase day: nobody has bought on two days
    assert (west["orders"], west["net_sales"], west["new_members"], west["active_members"]) == (2, net_b, 1, 1)

    # a guide: their own sales (B's two member orders; the cancelled one is no sale)
    mine = home_dashboard(actor=chain.guide_b, period="day")
    values = {f.key: f.value for f in mine["figures"]}
    assert mine["scope"].guide_id == chain.guide_b.id and mine["top_stores"] is None
    assert (values["orders"], values["net_sales"]) == (2, net_b)


def test_a_region_managers_dashboard_never_includes_another_region_and_hq_sees_the_chain(chain, day):
    east = home_dashboard(actor=chain.east_manager, period="month")
    assert east["scope"].paths == [chain.east.path]
    _count, net_a = oltp(Order.objects.filter(store=chain.store_a))
    assert east["figures"][0].value == net_a
    page = signed_in(chain.east_manager).get("/analytics/dashboard/?period=month", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page.status_code == 200 and "Store B" not in text and "华西" not in text
    _count, net_b = oltp(Order.objects.filter(store=chain.store_b))
    assert Money(net_a).format() in text and Money(net_a + net_b).format() not in text

    # HQ: the console home with what waits, and the chain's dashboard as the fragment the home loads
    home = signed_in(chain.admin).get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'hx-get="/analytics/dashboard/?period=day"' in home and 'data-testid="figure-pending"' in home
    assert 'data-testid="figure-stock-alerts"' in home
    fragment = signed_in(chain.admin).get("/analytics/dashboard/?period=week", HTTP_HX_REQUEST="true",
                                          HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<html" not in fragment and 'data-period="week"' in fragment and "销售额（扣除退款）" in fragment
    assert 'data-testid="chart-trend"' in fragment and 'data-testid="chart-top-stores"' in fragment
    _c, net = oltp(Order.objects.all())
    assert f'data-testid="figure-net_sales">{Money(net).format()}<' in fragment
    bad = signed_in(chain.manager_a).get("/analytics/dashboard/?period=decade", HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and 'data-period="day"' in bad.content.decode()


def test_before_the_first_sync_the_dashboard_says_so(chain, warehouse):
    page = signed_in(chain.manager_a).get("/analytics/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="dashboard-empty"' in page and "Warehouse status" in page
