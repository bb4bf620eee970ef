"""A member's own storefront pages: sign-in with a one-time code (wrong, expired, exhausted, rate-limited codes),
sign-up on first sign-in with a consent choice, sign-out, and the account pages showing exactly the signed-in
member's data under the store's theme; another enterprise's session sees nothing."""
from datetime import timedelta

import pytest
from django.utils import timezone

from yundian.members import senders, services
from yundian.members.account import SESSION_KEY
from yundian.members.models import (
    ConsentState, LoginCode, Member, MemberIdentity, MemberProgram, PointsEntry, PointsLot, StoredValueEntry,
)
from yundian.members.services.sign_in import MAX_ATTEMPTS
from yundian.promotions.services import coupon_campaign_create, coupon_issue
from yundian.sales.tests.factories import sell, stocked

from .factories import register
from .storefront import english_client, open_storefront, plain_storefront, send_code, sign_in, verify


@pytest.fixture(autouse=True)
def empty_outbox():
    senders.outbox.clear()
    yield
    senders.outbox.clear()


@pytest.fixture
def shop(chain):
    stock = stocked(chain)
    profile = open_storefront(chain, stock.cat)
    return stock, profile


def sign_in_state() -> dict:
    return {
        "members": list(Member.objects.order_by("id").values_list("id", "status", "home_id")),
        "identities": list(MemberIdentity.objects.order_by("id").values_list("id", "member_id", "value", "is_verified")),
        "consents": list(ConsentState.objects.order_by("id").values_list("member_id", "channel", "granted")),
        "points_entries": PointsEntry.objects.count(),
        "stored_value_entries": StoredValueEntry.objects.count(),
    }


def test_a_new_phone_signs_in_with_the_code_and_joins_the_stores_membership_with_its_consents(
        chain, shop, django_capture_on_commit_callbacks):
    _stock, profile = shop
    client = english_client()
    page = client.get(f"/s/{profile.slug}/me/")
    assert page.status_code == 302 and page["Location"] == f"/s/{profile.slug}/me/sign-in/?next=/s/{profile.slug}/me/"

    response = send_code(client, profile.slug, "+86 139-0000-2222", django_capture_on_commit_callbacks)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-step="code"' in body and "139****2222" in body
    [message] = senders.outbox
    assert message.phone == "13900002222" and len(message.code) == 6 and message.code.isdigit()
    assert message.code in message.text and "Store A" in message.text
    login = LoginCode.objects.get()
    assert login.code_hash != message.code and message.code not in login.code_hash
    assert (login.phone, login.attempts, login.used_at, login.ip) == ("13900002222", 0, None, "127.0.0.1")

    response = verify(client, profile.slug, "13900002222", message.code, consent=["sms"],
                      next=f"/s/{profile.slug}/me/points/")
    assert response.status_code == 302 and response["Location"] == f"/s/{profile.slug}/me/points/"
    member = Member.objects.get()
    assert (member.home_id, member.channel, member.enterprise_id) == (chain.store_a.id, "storefront",
                                                                      chain.store_a.enterprise_id)
    assert list(member.identities.values_list("kind", "value", "is_verified")) == [("phone", "13900002222", True)]
    assert dict(ConsentState.objects.filter(member=member).values_list("channel", "granted")) == {
        "sms": True, "wechat": False}
    assert client.session[SESSION_KEY] == {"m": member.pk, "e": member.enterprise_id}
    assert LoginCode.objects.get().used_at is not None
    overview = client.get(f"/s/{profile.slug}/me/")
    assert overview.status_code == 200 and "139****2222" in overview.content.decode()
    assert overview["Cache-Control"].startswith("max-age=0") and "private" in overview["Cache-Control"]

    # the used code cannot sign in again
    other = english_client()
    again = verify(other, profile.slug, "13900002222", message.code)
    assert again.status_code == 422 and 'data-code="login_code_expired"' in again.content.decode()
    assert SESSION_KEY not in other.session


def test_a_known_phone_signs_in_as_its_member_on_any_store_of_the_enterprise(chain, shop,
                                                                          django_capture_on_commit_callbacks):
    stock, _profile_a = shop
    profile_b = plain_storefront(chain, chain.store_b)
    member = register(chain, phone="13900003333")
    before = sign_in_state()
    client = english_client()
    sign_in(client, profile_b.slug, "13900003333", django_capture_on_commit_callbacks, consent=["wechat"])
    assert client.session[SESSION_KEY] == {"m": member.pk, "e": member.enterprise_id}
    after = sign_in_state()
    # no new member, consents untouched (they are for new members); the phone is now verified
    assert after["members"] == before["members"] and after["consents"] == before["consents"]
    assert MemberIdentity.objects.get(member=member).is_verified is True


def test_a_merged_members_phone_signs_in_the_surviving_member(chain, shop, django_capture_on_commit_callbacks):
    _stock, profile = shop
    survivor, absorbed = register(chain, phone="13900004444"), register(chain, phone="13900005555")
    services.member_merge(actor=chain.manager_a, survivor_id=survivor.pk, absorbed_id=absorbed.pk, reason="dup")
    client = english_client()
    sign_in(client, profile.slug, "13900005555", django_capture_on_commit_callbacks)
    assert client.session[SESSION_KEY]["m"] == survivor.pk


def test_a_wrong_code_counts_an_attempt_and_changes_nothing_else(chain, shop, django_capture_on_commit_callbacks):
    _stock, profile = shop
    client = english_client()
    send_code(client, profile.slug, "13900006666", django_capture_on_commit_callbacks)
    right = senders.last_code("13900006666")
    wrong = "000000" if right != "000000" else "111111"
    before = sign_in_state()
    response = verify(client, profile.slug, "13900006666", wrong, consent=["sms"])
    assert response.status_code == 422
    body = response.content.decode()
    assert 'data-code="login_code_wrong"' in body and "This code is not right." in body
    assert 'data-step="code"' in body
    assert LoginCode.objects.get().attempts == 1 and LoginCode.objects.get().used_at is None
    assert sign_in_state() == before
    assert SESSION_KEY not in client.session
    # a malformed code is a wrong attempt too
    assert verify(client, profile.slug, "13900006666", "12ab").status_code == 422
    assert LoginCode.objects.get().attempts == 2
    # the right code still works afterwards
    assert verify(client, profile.slug, "13900006666", right).status_code == 302


def test_an_expired_code_is_refused_without_using_an_attempt(chain, shop, django_capture_on_commit_callbacks):
    _stock, profile = shop
    client = english_client()
    send_code(client, profile.slug, "13900007777", django_capture_on_commit_callbacks)
    LoginCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    before = sign_in_state()
    response = verify(client, profile.slug, "13900007777", senders.last_code("13900007777"))
    assert response.status_code == 422
    assert 'data-code="login_code_expired"' in response.content.decode()
    assert "This code has expired. Ask for a new one." in response.content.decode()
    assert LoginCode.objects.get().attempts == 0
    assert sign_in_state() == before and SESSION_KEY not in client.session


def test_after_the_last_attempt_even_the_right_code_is_refused(chain, shop, django_capture_on_commit_callbacks):
    _stock, profile = shop
    client = english_client()
    send_code(client, profile.slug, "13900008888", django_capture_on_commit_callbacks)
    right = senders.last_code("13900008888")
    wrong = "000000" if right != "000000" else "111111"
    for _n in range(MAX_ATTEMPTS):
        assert verify(client, profile.slug, "13900008888", wrong).status_code == 422
    before = sign_in_state()
    response = verify(client, profile.slug, "13900008888", right)
    assert response.status_code == 429
    assert 'data-code="login_code_attempts_exhausted"' in response.content.decode()
    assert LoginCode.objects.get().attempts == MAX_ATTEMPTS
    assert sign_in_state() == before and Member.objects.count() == 0 and SESSION_KEY not in client.session


def test_codes_are_rate_limited_per_phone(chain, shop, django_capture_on_commit_callbacks):
    _stock, profile = shop
    client = english_client()
    assert send_code(client, profile.slug, "13900009999", django_capture_on_commit_callbacks).status_code == 200
    again = send_code(client, profile.slug, "13900009999", django_capture_on_commit_callbacks, resend="1")
    assert again.status_code == 429 and 'data-code="login_code_too_soon"' in again.content.decode()
    assert 'data-step="code"' in again.content.decode()
    assert LoginCode.objects.count() == 1 and len(senders.outbox) == 1
    # past the cool-down, up to five an hour
    for _n in range(4):
        LoginCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
        assert send_code(client, profile.slug, "13900009999", django_capture_on_commit_callbacks).status_code == 200
    LoginCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    over = send_code(client, profile.slug, "13900009999", django_capture_on_commit_callbacks)
    assert over.status_code == 429 and 'data-code="login_code_rate_limited"' in over.content.decode()
    assert LoginCode.objects.count() == 5 and len(senders.outbox) == 5
    # the latest code is the one that counts
    assert verify(client, profile.slug, "13900009999", senders.last_code("13900009999")).status_code == 302
    assert LoginCode.objects.filter(used_at__isnull=True).count() == 0  # older codes are spent with it


def test_codes_are_rate_limited_per_client_address(chain, shop, django_capture_on_commit_callbacks):
    _stock, profile = shop
    client = english_client()
    for n in range(20):
        assert send_code(client, profile.slug, f"1370000{n:04d}", django_capture_on_commit_callbacks).status_code == 200
    over = send_code(client, profile.slug, "13800009999", django_capture_on_commit_callbacks)
    assert over.status_code == 429 and 'data-code="login_code_rate_limited"' in over.content.decode()
    assert LoginCode.objects.count() == 20 and len(senders.outbox) == 20
    other_address = english_client()
    response = other_address.post(f"/s/{profile.slug}/me/sign-in/", {"step": "send", "phone": "13800009999"},
                                  REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 200


@pytest.mark.parametrize("phone", ["12345", "+1 415 555 0100", "", "1380013800a"])
def test_a_bad_phone_is_422_and_sends_nothing(chain, shop, django_capture_on_commit_callbacks, phone):
    _stock, profile = shop
    response = send_code(english_client(), profile.slug, phone, django_capture_on_commit_callbacks)
    assert response.status_code == 422 and 'data-code="invalid_phone"' in response.content.decode()
    assert 'data-step="phone"' in response.content.decode()
    assert LoginCode.objects.count() == 0 and senders.outbox == []


def test_sign_out_forgets_the_member_and_get_is_not_allowed(chain, shop, django_capture_on_commit_callbacks):
    _stock, profile = shop
    client = english_client()
    sign_in(client, profile.slug, "13900001212", django_capture_on_commit_callbacks)
    assert client.get(f"/s/{profile.slug}/me/sign-out/").status_code == 405
    assert SESSION_KEY in client.session
    response = client.post(f"/s/{profile.slug}/me/sign-out/")
    assert response.status_code == 302 and response["Location"] == f"/s/{profile.slug}/"
    assert SESSION_KEY not in client.session
    assert client.get(f"/s/{profile.slug}/me/points/").status_code == 302


def test_after_sign_in_the_next_page_stays_inside_the_account(chain, shop, django_capture_on_commit_callbacks):
    _stock, profile = shop
    client = english_client()
    response = sign_in(client, profile.slug, "13900001313", django_capture_on_commit_callbacks,
                       next="https://evil.example/s/x/me/")
    assert response["Location"] == f"/s/{profile.slug}/me/"


def _paid_order(chain, stock, member, client_ref):
    return sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=member.pk, client_ref=client_ref)


def test_each_account_page_shows_exactly_the_signed_in_members_data(chain, shop, django_capture_on_commit_callbacks):
    stock, profile = shop
    mine, theirs = register(chain, phone="13900002020"), register(chain, phone="13900002121")
    my_order = _paid_order(chain, stock, mine, "till-mine")
    their_order = _paid_order(chain, stock, theirs, "till-theirs")
    services.stored_value_topup(actor=chain.guide_a, member_id=mine.pk, amount_fen=12_345, store_id=chain.store_a.id,
                                payment_ref="pay-mine")
    services.stored_value_topup(actor=chain.guide_a, member_id=theirs.pk, amount_fen=54_321,
                                store_id=chain.store_a.id, payment_ref="pay-theirs")
    services.points_adjust(actor=chain.manager_a, member_id=mine.pk, points=7, reason="生日补偿")
    campaign = coupon_campaign_create(actor=chain.admin, node_id=chain.hq.id, code="C-10", name="满100减10",
                                      kind="amount_off", amount=1_000)
    [my_coupon] = coupon_issue(actor=chain.admin, campaign_id=campaign.pk, member_ids=[mine.pk])
    [their_coupon] = coupon_issue(actor=chain.admin, campaign_id=campaign.pk, member_ids=[theirs.pk])
    my_points = PointsEntry.objects.filter(member=mine).order_by("id")
    assert [e.kind for e in my_points] == ["earn", "adjust"]
    my_earned = my_points[0].points

    client = english_client()
    sign_in(client, profile.slug, "13900002020", django_capture_on_commit_callbacks)

    overview = client.get(f"/s/{profile.slug}/me/").content.decode()
    assert f'<span class="ma-tile-n" id="ma-points">{my_earned + 7}</span>' in overview
    assert '<span class="ma-tile-n" id="ma-stored-value">¥123.45</span>' in overview
    assert "¥543.21" not in overview
    assert "--primary: #1677FF" in overview  # the store's theme

    points = client.get(f"/s/{profile.slug}/me/points/").content.decode()
    for entry in my_points:
        assert f'data-entry-id="{entry.pk}"' in points
    for entry in PointsEntry.objects.filter(member=theirs):
        assert f'data-entry-id="{entry.pk}"' not in points
    assert "生日补偿" in points and f"+{my_earned}" in points

    stored = client.get(f"/s/{profile.slug}/me/stored-value/").content.decode()
    [mine_sv] = StoredValueEntry.objects.filter(member=mine)
    [theirs_sv] = StoredValueEntry.objects.filter(member=theirs)
    assert f'data-entry-id="{mine_sv.pk}"' in stored and "+¥123.45" in stored
    assert f'data-entry-id="{theirs_sv.pk}"' not in stored and "¥543.21" not in stored

    coupons = client.get(f"/s/{profile.slug}/me/coupons/").content.decode()
    assert f'data-code="{my_coupon.code}"' in coupons and "满100减10" in coupons and "¥10.00 off" in coupons
    assert "Available" in coupons
    assert their_coupon.code not in coupons

    orders = client.get(f"/s/{profile.slug}/me/orders/").content.decode()
    # sales provides no member-facing order list yet: the page lists the paid orders members' ledgers know
    assert orders.count("data-order=") == 1
    assert f'<li data-order="{my_order.number}">' in orders and "¥99.00" in orders and f"{my_earned} points earned" in orders
    assert f'data-order="{their_order.number}"' not in orders


def test_a_session_of_another_enterprise_sees_nothing_on_this_stores_pages(chain, other_chain, shop,
                                                                           django_capture_on_commit_callbacks):
    _stock, profile = shop
    zeta = plain_storefront(other_chain)
    client = english_client()
    sign_in(client, zeta.slug, "13900003030", django_capture_on_commit_callbacks)
    zeta_member = Member.objects.get(enterprise=other_chain.store_a.enterprise)
    assert client.get(f"/s/{zeta.slug}/me/").status_code == 200
    for path in ("", "points/", "stored-value/", "coupons/", "orders/"):
        response = client.get(f"/s/{profile.slug}/me/{path}")
        assert response.status_code == 302 and "/me/sign-in/" in response["Location"], path
    page = client.get(f"/s/{profile.slug}/me/sign-in/")
    assert page.status_code == 200 and "139****3030" not in page.content.decode()
    assert client.session[SESSION_KEY] == {"m": zeta_member.pk, "e": zeta_member.enterprise_id}


def test_a_member_merged_away_after_sign_in_is_signed_out(chain, shop, django_capture_on_commit_callbacks):
    _stock, profile = shop
    survivor, absorbed = register(chain, phone="13900004040"), register(chain, phone="13900004141")
    client = english_client()
    sign_in(client, profile.slug, "13900004141", django_capture_on_commit_callbacks)
    services.member_merge(actor=chain.manager_a, survivor_id=survivor.pk, absorbed_id=absorbed.pk, reason="dup")
    assert client.get(f"/s/{profile.slug}/me/").status_code == 302


def test_the_overview_shows_tier_growth_progress_and_benefits(chain, shop, django_capture_on_commit_callbacks):
    stock, profile = shop
    services.tier_create(actor=chain.admin, code="silver", name="银卡", rank=1, min_growth=50, discount_rate="0.95",
                         birthday_gift_points=20, points_multiplier="1.5")
    services.tier_create(actor=chain.admin, code="gold", name="金卡", rank=2, min_growth=500, discount_rate="0.9",
                         free_shipping=True)
    member = register(chain, phone="13900005050")
    _paid_order(chain, stock, member, "till-tier")  # ¥99 paid: 99 growth, silver
    member.refresh_from_db()
    assert member.tier.code == "silver"
    client = english_client()
    sign_in(client, profile.slug, "13900005050", django_capture_on_commit_callbacks)
    page = client.get(f"/s/{profile.slug}/me/").content.decode()
    assert '<p class="ma-tier" id="ma-tier">银卡</p>' in page
    assert '<progress id="ma-progress" max="100" value="10">' in page  # (99 - 50) / (500 - 50) = 10 %
    assert "401 more growth to reach 金卡" in page
    assert "5% off member prices" in page and "Points × 1.5 on every order" in page
    assert "20 points on your birthday" in page and "Free delivery" not in page


def test_the_points_page_pages_the_ledger_and_shows_points_expiring_soon(chain, shop,
                                                                         django_capture_on_commit_callbacks):
    _stock, profile = shop
    MemberProgram.objects.update_or_create(enterprise_id=chain.store_a.enterprise_id,
                                           defaults={"points_expiry_days": 10})
    member = register(chain, phone="13900006060")
    for n in range(21):
        services.points_adjust(actor=chain.manager_a, member_id=member.pk, points=n + 1, reason=f"r{n}")
    client = english_client()
    sign_in(client, profile.slug, "13900006060", django_capture_on_commit_callbacks)
    first = client.get(f"/s/{profile.slug}/me/points/").content.decode()
    second = client.get(f"/s/{profile.slug}/me/points/?page=2").content.decode()
    entries = list(PointsEntry.objects.filter(member=member).order_by("-id"))
    assert first.count("data-entry-id=") == 20 and second.count("data-entry-id=") == 1
    assert f'data-entry-id="{entries[-1].pk}"' in second and 'id="ma-next-page"' in first
    lots = PointsLot.objects.filter(member=member)
    assert first.count("data-lot-id=") == lots.count() == 21
    assert "231 points expire soon" in first  # 1 + 2 + ... + 21


def test_the_account_pages_404_for_an_unknown_store(chain):
    assert english_client().get("/s/no-such-store/me/").status_code == 404
    assert english_client().get("/s/no-such-store/me/sign-in/").status_code == 404
