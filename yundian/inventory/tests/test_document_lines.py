"""Document lines on the stock console read as goods (product, variant and SKU code with the quantities), never as
internal ids; notes our own code writes are translated; product attributes show translated names."""
import re

import pytest

from yundian.inventory.models import PurchaseOrder
from yundian.inventory.services import adjustment_create, purchase_order_create, transfer_request
from yundian.org.tests.utils import client_for

from .factories import make_stock, put


@pytest.fixture
def stock(chain):
    s = make_stock(chain)
    put(s, s.wh_a, s.cat.tee_s, 40)
    put(s, s.central, s.cat.mug_sku, 40)
    return s


def test_transfer_and_adjustment_lists_name_the_goods(stock):
    transfer = transfer_request(actor=stock.chain.manager_b, from_warehouse_id=stock.wh_a.id,
                                to_warehouse_id=stock.wh_b.id, lines=[(stock.cat.tee_s.id, 35)])
    adjustment_create(actor=stock.chain.manager_a, warehouse_id=stock.wh_a.id, reason="damaged",
                      lines=[(stock.cat.tee_s.id, -1)])
    client = client_for(stock.chain.admin)
    transfers = client.get("/inventory/transfers/").content.decode()
    assert '<span class="doc-line" data-sku="TEE-001-S">纯棉T恤 S <code>TEE-001-S</code> × 35</span>' in transfers
    assert not re.search(rf">\s*{stock.cat.tee_s.id} × 35", transfers)
    adjustments = client.get("/inventory/adjustments/").content.decode()
    assert '<span class="doc-line" data-sku="TEE-001-S">纯棉T恤 S <code>TEE-001-S</code> -1</span>' in adjustments
    detail = client.get(f"/inventory/transfers/{transfer.id}/").content.decode()
    assert "<td>TEE-001-S</td><td>纯棉T恤 S</td><td>35</td>" in detail


def test_an_automatic_purchase_order_says_so_in_words(stock):
    order = purchase_order_create(actor=None, enterprise_id=stock.chain.admin.enterprise_id,
                                  warehouse_id=stock.wh_a.id, lines=[(stock.cat.mug_sku.id, 5)],
                                  source_warehouse_id=stock.central.id, origin="replenishment",
                                  note="auto-replenishment")
    page = client_for(stock.chain.admin).get(f"/inventory/purchase-orders/{order.id}/").content.decode()
    assert "<dd>由自动补货创建</dd>" in page and "auto-replenishment" not in page
    assert PurchaseOrder.objects.get(pk=order.id).note == "auto-replenishment"  # the stored note is unchanged


def test_product_attributes_and_options_show_translated_names(stock):
    page = client_for(stock.chain.admin).get(f"/catalog/products/{stock.cat.tee.id}/").content.decode()
    assert "<dt>材质</dt><dd>cotton</dd>" in page
    assert '<span class="badge">尺码: S</span>' in page and ">material<" not in page


def test_the_stock_ledger_names_each_move_s_source_and_reason(stock):
    from django.utils import translation

    from yundian.inventory.models import AdjustmentReason

    adjustment = adjustment_create(actor=stock.chain.manager_a, warehouse_id=stock.wh_a.id, reason="damaged",
                                   lines=[(stock.cat.tee_s.id, -1)])
    page = client_for(stock.chain.admin).get(f"/inventory/moves/?warehouse={stock.wh_a.id}").content.decode()
    with translation.override("zh-hans"):
        damaged = str(AdjustmentReason.DAMAGED.label)
    assert f'<a href="/inventory/adjustments/{adjustment.id}/">调整单 #{adjustment.id}</a></td><td>{damaged}</td>' in page
    assert "入库单 #" in page and ">adjustment " not in page and ">receipt " not in page


def test_a_returned_move_s_reason_is_the_order_it_came_back_from_linked():
    from django.utils import translation

    from yundian.inventory.templatetags.inventory_tags import move_reason

    with translation.override("zh-hans"):
        shown = move_reason("order:127", "return")
    assert shown == '<a href="/sales/orders/127/">订单 SO0000000127</a>'
