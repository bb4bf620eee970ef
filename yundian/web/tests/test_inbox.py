"""The approval and to-do inbox: each role sees exactly what waits for them (scoped), counted in the navigation
badge, with links to act; HQ's stock overview lists a purchase order waiting for approval."""
import pytest
from django.test import override_settings

from yundian.inventory.services import purchase_order_approve, transfer_approve
from yundian.org.tests.factories import fresh
from yundian.org.tests.utils import client_for
from yundian.sales import services as sales
from yundian.web.inbox import inbox_count, inbox_sections

from .factories import make_waiting

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(chain):
    return make_waiting(chain)


def counts_by_kind(staff) -> dict[str, int]:
    return {s.key: s.count for s in inbox_sections(actor=fresh(staff)) if s.count}


def test_each_role_sees_exactly_what_waits_for_it(chain, waiting):
    assert counts_by_kind(chain.admin) == {"purchase_orders": 1, "transfers_approve": 1, "stock_adjustments": 1,
                                           "till_approvals": 1}
    assert counts_by_kind(chain.east_manager) == counts_by_kind(chain.admin)
    # a dealer does not approve purchases; the giving store approves the transfer, not the asking one
    assert counts_by_kind(chain.dealer_staff) == {"transfers_approve": 1, "stock_adjustments": 1, "till_approvals": 1}
    assert counts_by_kind(chain.manager_a) == {"transfers_approve": 1, "till_approvals": 1}
    for nobody in (chain.manager_b, chain.west_manager, chain.guide_a, chain.guide_b, chain.auditor):
        assert counts_by_kind(nobody) == {}, nobody.display_name
        assert inbox_count(actor=fresh(nobody)) == 0
    assert inbox_count(actor=fresh(chain.admin)) == 4 and inbox_count(actor=fresh(chain.manager_a)) == 2


def test_acting_moves_an_item_on_or_out_of_the_inbox(chain, waiting):
    purchase_order_approve(actor=chain.east_manager, order_id=waiting["order"].id)
    transfer_approve(actor=chain.manager_a, transfer_id=waiting["transfer"].id)
    sales.approval_decide(actor=chain.manager_a, approval_id=waiting["approval_id"], approve=False, reason="no")
    assert counts_by_kind(chain.admin) == {"transfers_ship": 1, "stock_adjustments": 1}
    assert counts_by_kind(chain.manager_a) == {"transfers_ship": 1}
    assert counts_by_kind(chain.manager_b) == {}


def test_nobody_is_asked_to_approve_their_own_till_request(chain, waiting):
    sections = {s.key: s for s in inbox_sections(actor=fresh(chain.guide_a))}
    assert sections["till_approvals"].count == 0


def test_the_inbox_page_links_to_each_document_and_the_nav_badge_shows_the_count(chain, waiting):
    client = client_for(chain.admin)
    html = client.get("/inbox/").content.decode()
    assert f'href="/inventory/purchase-orders/{waiting["order"].id}/"' in html
    assert f'href="/inventory/transfers/{waiting["transfer"].id}/"' in html
    assert f'href="/inventory/adjustments/{waiting["adjustment"].id}/"' in html
    assert 'href="/sales/approvals/"' in html
    assert waiting["order"].number in html and 'data-total="4"' in html
    home = client.get("/").content.decode()
    assert 'data-inbox-count="4"' in home and 'id="home-todo"' in home
    assert f'href="/inventory/purchase-orders/{waiting["order"].id}/"' in home
    manager_b_home = client_for(chain.manager_b).get("/").content.decode()
    assert "data-inbox-count" not in manager_b_home and 'href="/inbox/"' in manager_b_home
    assert 'id="home-todo"' not in manager_b_home
    assert 'data-total="0"' in client_for(chain.manager_b).get("/inbox/").content.decode()


@override_settings(LANGUAGE_CODE="zh-hans")
def test_hq_stock_overview_lists_a_purchase_order_waiting_for_approval(chain, waiting):
    html = client_for(chain.admin).get("/inventory/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert waiting["order"].number in html and waiting["transfer"].number in html
    assert "暂无待审批事项" not in html
    west = client_for(chain.west_manager).get("/inventory/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    # the west sees the transfer its store asked for, not store A's supplier order
    assert waiting["order"].number not in west and waiting["transfer"].number in west
    guide_b = client_for(chain.guide_b).get("/inventory/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "暂无待审批事项" not in guide_b and waiting["transfer"].number in guide_b
    purchase_order_approve(actor=chain.east_manager, order_id=waiting["order"].id)
    html = client_for(chain.admin).get("/inventory/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert waiting["order"].number not in html


def test_a_points_adjustment_above_the_threshold_waits_in_the_inbox_and_is_approved_on_the_member_page(chain):
    from yundian.members import services as member_services
    from yundian.members.models import PointsAdjustment
    from yundian.members.tests.factories import points, register

    member = register(chain, phone="13811112222", name="王芳", store=chain.store_a)
    adjustment = member_services.points_adjust(actor=chain.manager_a, member_id=member.id, points=5000,
                                               reason="补录积分")
    assert adjustment.status == "pending" and points(member) == 0
    assert counts_by_kind(chain.east_manager) == {"points_adjustments": 1}
    assert counts_by_kind(chain.manager_a) == {}  # nobody approves their own
    assert counts_by_kind(chain.manager_b) == {} and counts_by_kind(chain.west_manager) == {}
    inbox = client_for(chain.east_manager).get("/inbox/").content.decode()
    assert f'href="/members/{member.id}/"' in inbox
    # the requester sees it waiting but no buttons; the region manager decides it on the member page
    assert 'value="approve_adjustment"' not in client_for(chain.manager_a).get(f"/members/{member.id}/").content.decode()
    page = client_for(chain.east_manager).get(f"/members/{member.id}/").content.decode()
    assert f'data-adjustment="{adjustment.id}"' in page and 'value="approve_adjustment"' in page
    response = client_for(chain.east_manager).post(f"/members/{member.id}/actions/",
                                                   {"action": "approve_adjustment", "adjustment_id": adjustment.id})
    assert response.status_code == 302
    assert (PointsAdjustment.objects.get(pk=adjustment.id).status, points(member)) == ("posted", 5000)
    assert counts_by_kind(chain.east_manager) == {}


def test_the_inbox_and_home_pages_show_the_badge_from_the_sections_they_counted(chain, waiting, monkeypatch):
    def counted_again(**kwargs):
        raise AssertionError("the badge counted every kind a second time")

    monkeypatch.setattr("yundian.web.context.inbox_count", counted_again)
    client = client_for(chain.admin)
    assert 'data-inbox-count="4"' in client.get("/inbox/").content.decode()
    assert 'data-inbox-count="4"' in client.get("/").content.decode()
