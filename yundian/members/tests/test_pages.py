"""Console pages: the member list and register form, the 360° profile with masked phone, actions, scoping."""
from django.conf import settings

from yundian.members.models import Member, PointsBalance, StoredValueBalance
from yundian.org.tests.utils import client_for

from .factories import earn, register


def test_a_clerk_registers_a_member_from_the_console_and_lands_on_the_360_page(chain):
    client = client_for(chain.guide_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post("/members/new/", {"store_id": chain.store_a.id, "phone": "139-0000-1234", "name": "王芳",
                                              "channel": "pos", "consent": ["sms"]})
    member = Member.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/members/{member.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "王芳" in page and "139****1234" in page and "13900001234" not in page
    assert member.guide_id == chain.guide_a.pk and "guide-a" in page
    assert '<section class="card" id="orders"><h2>Orders</h2>\n<p class="muted">No orders yet.</p></section>' in page


def test_a_manager_sees_the_full_phone_points_and_stored_value(chain):
    member = register(chain, phone="13900004321")
    earn(chain, member, 12_300, "o-1")
    client = client_for(chain.manager_a)
    client.post(f"/members/{member.pk}/actions/", {"action": "top_up", "amount": "100.50", "payment_ref": "p-1"})
    page = client.get(f"/members/{member.pk}/").content.decode()
    assert "13900004321" in page
    assert '<span class="tile-n">123</span>' in page
    assert "¥100.50" in page
    assert StoredValueBalance.objects.get(member=member).principal == 10_050


def test_a_bad_action_rerenders_with_the_error_and_changes_nothing(chain):
    member = register(chain)
    response = client_for(chain.manager_a).post(f"/members/{member.pk}/actions/",
                                                {"action": "adjust", "points": "abc", "reason": "x"})
    assert response.status_code == 422 and 'data-code="invalid_number"' in response.content.decode()
    assert PointsBalance.objects.get(member=member).points == 0
    response = client_for(chain.manager_a).post(f"/members/{member.pk}/actions/",
                                                {"action": "top_up", "amount": "-5", "payment_ref": "p"})
    assert response.status_code == 422
    assert StoredValueBalance.objects.get(member=member).principal == 0


def test_a_duplicate_phone_in_the_register_form_is_a_409_with_nothing_created(chain):
    register(chain, phone="13900001111")
    response = client_for(chain.manager_a).post("/members/new/", {"store_id": chain.store_a.id,
                                                                  "phone": "+86 139 0000 1111"})
    assert response.status_code == 409 and 'data-code="identity_taken"' in response.content.decode()
    assert Member.objects.count() == 1


def test_store_b_staff_get_a_404_for_store_a_members_pages(chain):
    member = register(chain)
    assert client_for(chain.manager_b).get(f"/members/{member.pk}/").status_code == 404
    assert client_for(chain.manager_b).post(f"/members/{member.pk}/actions/",
                                            {"action": "consent", "channel": "sms", "granted": "1"}).status_code == 404
    listing = client_for(chain.manager_b).get("/members/").content.decode()
    assert f"/members/{member.pk}/" not in listing
