"""The channel adapter against a local fake marketplace: orders in (idempotent by the marketplace's id, stock
reserved in the store's pool), stock, prices and statuses out; refusals when stock runs out; the marketplace's
orders racing the till for the last units sell each unit once."""
import pytest

from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.core.testing import race
from yundian.integrations.channels import ExternalLine, ExternalOrder
from yundian.integrations.channels_services import channel_connection_create, channel_order_take, channel_sync
from yundian.integrations.models import ChannelOrder
from yundian.inventory.models import StockBalance
from yundian.org.tests.factories import fresh
from yundian.sales.models import Order
from yundian.sales.services import return_create, shipment_create
from yundian.sales.tests.factories import assert_ledgers_clean, level, make_stock, put, sell

from .fake_marketplace import FakeMarketplace


def connect(chain, url, **kwargs):
    return channel_connection_create(actor=chain.admin, store_id=chain.store_a.id, kind="fake_marketplace",
                                     code=kwargs.pop("code", "MKT"), name="Fake Mall", base_url=url,
                                     api_key=kwargs.pop("api_key", "secret"))


def test_marketplace_orders_land_once_as_marketplace_orders_reserving_the_stores_stock(chain):
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.mug_sku, 3)
    with FakeMarketplace() as mall:
        conn = connect(chain, mall.url)
        mall.order("M-1", [("MUG-01", 2)])
        mall.order("M-2", [("MUG-01", 2)])  # one unit left: refused
        mall.order("M-3", [("NOPE", 1)])
        run = channel_sync(connection_id=conn.pk)
        assert run.ok and {k: run.counts[k] for k in ("placed", "rejected")} == {"placed": 1, "rejected": 2}
        order = Order.objects.get()
        assert (order.channel, order.mode, order.status, order.store_id) == ("marketplace", "delivery", "paid",
                                                                              chain.store_a.id)
        assert level(stock.wh_a, stock.cat.mug_sku) == (3, 2)
        assert order.lines.get().guide_id is None  # nobody earns commission for a marketplace's sale
        assert dict(ChannelOrder.objects.values_list("external_id", "reason_code")) == {
            "M-1": "", "M-2": "out_of_stock", "M-3": "sku_not_found"}
        assert mall.stock["MUG-01"] == 1 and mall.prices["MUG-01"] == 2500
        assert sorted(mall.statuses) == [("M-2", "cancelled"), ("M-3", "cancelled")]
        # the same feed again (a marketplace re-sends from the start): nothing changes
        conn.refresh_from_db()
        conn.order_cursor = ""
        conn.save()
        again = channel_sync(connection_id=conn.pk)
        assert (again.counts["placed"], again.counts["repeat"], Order.objects.count()) == (0, 3, 1)
        assert len(mall.statuses) == 2
        # shipped here -> told "shipped"; then the buyer's cancel of M-1 comes too late to cancel a shipped order
        shipment_create(actor=chain.admin, order_id=order.pk, client_ref="ship-1")
        channel_sync(connection_id=conn.pk)
        assert ("M-1", "shipped") in mall.statuses
        assert level(stock.wh_a, stock.cat.mug_sku) == (1, 0)
        # the buyer sends one back: returned here -> told "refunded", once
        return_create(actor=chain.admin, order_id=order.pk, client_ref="ret-1",
                      lines=[{"order_line_id": order.lines.get().pk, "quantity": 1}])
        channel_sync(connection_id=conn.pk)
        channel_sync(connection_id=conn.pk)
        assert [s for s in mall.statuses if s[0] == "M-1"] == [("M-1", "shipped"), ("M-1", "refunded")]
        assert ChannelOrder.objects.get(external_id="M-1").status == "refunded"
    assert_ledgers_clean()


def test_a_cancellation_from_the_marketplace_releases_the_reservation_once(chain):
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.tee_s, 2)
    with FakeMarketplace() as mall:
        conn = connect(chain, mall.url)
        mall.order("C-1", [("TEE-001-S", 2)])
        channel_sync(connection_id=conn.pk)
        assert level(stock.wh_a, stock.cat.tee_s) == (2, 2) and mall.stock["TEE-001-S"] == 0
        mall.order("C-1", [("TEE-001-S", 2)], status="cancelled")
        mall.order("C-1", [("TEE-001-S", 2)], status="cancelled")
        run = channel_sync(connection_id=conn.pk)
        assert run.counts["cancelled"] == 1 and run.counts["repeat"] == 1
        assert Order.objects.get().status == "cancelled"
        assert level(stock.wh_a, stock.cat.tee_s) == (2, 0) and mall.stock["TEE-001-S"] == 2
        assert mall.statuses == []  # it told us; nothing to tell back
    assert_ledgers_clean()


def test_a_marketplace_that_is_down_or_refuses_the_key_leaves_an_error_and_changes_nothing(chain):
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.mug_sku, 3)
    with FakeMarketplace() as mall:
        conn = connect(chain, mall.url, api_key="wrong")
        mall.order("M-1", [("MUG-01", 1)])
        run = channel_sync(connection_id=conn.pk)
        assert not run.ok and "401" in run.error
        mall.fail = True
        conn2 = connect(chain, mall.url, code="MKT2")
        assert not channel_sync(connection_id=conn2.pk).ok
    assert Order.objects.count() == 0 and ChannelOrder.objects.count() == 0
    conn.refresh_from_db()
    assert conn.order_cursor == "" and "401" in conn.last_error


def test_connections_are_checked_and_scoped(chain):
    make_stock(chain)
    with pytest.raises(ValidationFailed) as bad_url:
        connect(chain, "ftp://x")
    assert bad_url.value.code == "invalid_url"
    with pytest.raises(ValidationFailed):
        channel_connection_create(actor=chain.admin, store_id=chain.store_a.id, kind="nope", code="X", name="X",
                                  base_url="http://x")
    with pytest.raises(NotFound):
        channel_connection_create(actor=chain.manager_b, store_id=chain.store_a.id, kind="fake_marketplace",
                                  code="X", name="X", base_url="http://x")
    connect(chain, "http://127.0.0.1:9")
    with pytest.raises(Conflict):
        connect(chain, "http://127.0.0.1:9")
    from yundian.integrations.channels_services import channel_connection_list

    assert channel_connection_list(actor=chain.manager_b).count() == 0
    assert channel_connection_list(actor=chain.manager_a).count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_marketplace_orders_racing_the_till_for_the_last_units_never_oversell(chain):
    """Five units on the shelf; six marketplace orders and six till sales of one unit each, all at once: exactly
    five succeed, on hand never goes below what is reserved, the ledger matches."""
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.mug_sku, 5)
    conn = connect(chain, "http://127.0.0.1:9")
    mug = stock.cat.mug_sku

    def marketplace(i):
        return lambda: channel_order_take(connection=conn, external=ExternalOrder(
            external_id=f"R-{i}", status="paid", lines=(ExternalLine("MUG-01", 1, 2500),))).outcome

    def till(i):
        return lambda: sell(fresh(chain.guide_a), chain.store_a, [(mug, 1)], client_ref=f"till-{i}").pk

    results = race(*[marketplace(i) for i in range(6)], *[till(i) for i in range(6)], conflict_codes=True)
    placed = sum(1 for kind, value in results[:6] if kind == "ok" and value == "placed")
    sold = sum(1 for kind, _v in results[6:] if kind == "ok")
    refused = [v for kind, v in results[:6] if kind == "ok" and v == "rejected"]
    assert placed + sold == 5, results
    assert len(refused) == 6 - placed
    assert all(kind == "ok" or value == "insufficient_stock" for kind, value in results[6:]), results
    row = StockBalance.objects.get(warehouse=stock.wh_a, sku=mug)
    assert (row.on_hand, row.reserved) == (5 - sold, placed)
    assert ChannelOrder.objects.filter(status="placed").count() == placed
    assert_ledgers_clean()
