"""The demo's back-office login opens the Django admin: orders read-only with lines and payments, members with
masked phone numbers, suppliers, stock documents."""
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from yundian.demo import services
from yundian.demo.management.commands.demo import Command
from yundian.inventory.services import supplier_create
from yundian.members.tests.factories import register
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.sales.models import Order
from yundian.sales.tests.factories import sell, stocked

# the demo always runs on its embedded SQLite: its seed is proven once, in the SQLite run of the suite
pytestmark = [pytest.mark.django_db, pytest.mark.once]


@pytest.fixture
def demo_chain():
    """A chain under the demo's code, so its HQ administrator is the demo's `demo-admin`."""
    return make_chain("demo")


def test_the_demo_admin_login_opens_the_admin_and_the_order_changelist(demo_chain):
    chain = demo_chain
    stock = stocked(chain)
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)])
    client = Client()
    assert client.login(username=services.BACK_OFFICE_LOGIN, password=PASSWORD)
    assert client.get("/admin/").status_code == 302  # not yet staff: sent to the admin's sign-in
    assert services.demo_load() is False             # the demo exists: loading again only grants the back office
    assert get_user_model().objects.get(username="demo-admin").is_staff
    home = client.get("/admin/")
    assert home.status_code == 200
    listing = client.get("/admin/sales/order/")
    assert listing.status_code == 200 and order.number in listing.content.decode()
    page = client.get(f"/admin/sales/order/{order.id}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and "TEE-001-S" in html and "¥198.00" in html  # its line and its payment
    before = Order.objects.values_list("status", "total").get(pk=order.pk)
    assert client.post(f"/admin/sales/order/{order.id}/change/", {"status": "cancelled"}).status_code == 403
    assert client.post(f"/admin/sales/order/{order.id}/delete/", {"post": "yes"}).status_code == 403
    assert Order.objects.values_list("status", "total").get(pk=order.pk) == before


def test_the_admin_masks_member_phones_and_lists_suppliers_and_stock_documents(demo_chain):
    chain = demo_chain
    stocked(chain)
    member = register(chain)
    supplier_create(actor=chain.admin, code="ACME", name="Acme Textiles")
    services.back_office_grant()
    client = Client()
    assert client.login(username="demo-admin", password=PASSWORD)
    phone = member.identities.get(kind="phone").value
    members = client.get("/admin/members/member/").content.decode()
    assert f"{phone[:3]}****{phone[7:]}" in members and phone not in members
    detail = client.get(f"/admin/members/member/{member.id}/change/").content.decode()
    assert phone not in detail
    assert "Acme Textiles" in client.get("/admin/inventory/supplier/").content.decode()
    for url in ["/admin/inventory/purchaseorder/", "/admin/inventory/transfer/", "/admin/inventory/adjustment/",
                "/admin/inventory/stocktake/", "/admin/inventory/stockmove/", "/admin/inventory/stockbalance/",
                "/admin/catalog/product/", "/admin/catalog/sku/", "/admin/sales/orderreturn/"]:
        assert client.get(url).status_code == 200, url


def test_the_demo_prints_the_back_office_login():
    out = StringIO()
    command = Command(stdout=out)
    command.print_logins([], url="http://127.0.0.1:8000/")
    assert "http://127.0.0.1:8000/admin/" in out.getvalue() and "demo-admin" in out.getvalue()
