"""Pages: the outbox console (filters, masked phones, translated decisions), the template editor and its live
preview, the member's storefront inbox with its unread count, the 360° message panel, and email through a real
local SMTP server."""
from datetime import datetime
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from yundian.members.account import SESSION_KEY
from yundian.messaging.models import MessageTemplate
from yundian.messaging.sending import send_due
from yundian.org.tests.utils import client_for

from .factories import consenting_member, enqueue, make_template, reset_gateways, store_zone

pytestmark = pytest.mark.django_db
NOON_SHANGHAI = datetime(2030, 1, 7, 4, 0, tzinfo=ZoneInfo("UTC"))


@pytest.fixture(autouse=True)
def gateways():
    reset_gateways()
    yield
    reset_gateways()


def test_the_outbox_page_filters_masks_phones_and_shows_decisions_translated(chain):
    template = make_template(chain)
    member = consenting_member(chain, phone="13812345678", channels=())
    offer = enqueue(member, template, "journey:3:a")
    enqueue(member, template, "manual:b", channel="inapp")
    send_due(now=NOON_SHANGHAI)
    page = client_for(chain.manager_a).get("/messaging/?channel=sms", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert page.status_code == 200 and f'data-message="{offer.pk}"' in text
    assert "138****5678" not in text or "13812345678" in text  # store managers may see phones (personal data)
    assert "未发送" in text and "会员未同意该渠道的营销消息" in text and 'data-testid="outbox-chart"' in text
    assert 'data-status="delivered"' not in text  # the inbox message is filtered out
    auditor = client_for(chain.auditor).get("/messaging/?q=李", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "138****5678" in auditor and "13812345678" not in auditor and "No marketing consent" in auditor
    assert client_for(chain.guide_a).get("/messaging/").status_code == 404
    panel = client_for(chain.guide_a).get(f"/messaging/members/{member.pk}/panel/", HTTP_ACCEPT_LANGUAGE="en")
    assert panel.status_code == 200 and "2 messages" in panel.content.decode()
    assert client_for(chain.guide_b).get(f"/messaging/members/{member.pk}/panel/").status_code == 404
    detail = client_for(chain.manager_a).get(f"/members/{member.pk}/").content.decode()
    assert f'hx-get="/messaging/members/{member.pk}/panel/"' in detail


def test_the_template_editor_saves_and_its_live_preview_renders(chain):
    hq = client_for(chain.admin)
    form = {"name": "会员日", "purpose": "marketing", "variables": "gift_name", "sms-zh-hans-body": "$member_name，$gift_name",
            "email-en-subject": "Member day", "email-en-body": "Dear $member_name", "is_active": "1"}
    preview = hq.post("/messaging/templates/preview/", form, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "王小明，‹gift_name›" in preview and "Dear 王小明" in preview and "Unsubscribe: " in preview
    bad = hq.post("/messaging/templates/preview/", {**form, "sms-zh-hans-body": "$oops"}).content.decode()
    assert 'data-code="unknown_variable"' in bad
    refused = hq.post("/messaging/templates/", {**form, "sms-zh-hans-body": "$oops"})
    assert refused.status_code == 422 and MessageTemplate.objects.count() == 0
    saved = hq.post("/messaging/templates/", form)
    template = MessageTemplate.objects.get()
    assert saved.status_code == 302 and sorted(template.bodies.values_list("channel", "language")) == [
        ("email", "en"), ("sms", "zh-hans")]
    editor = hq.get(f"/messaging/templates/{template.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Dear $member_name" in editor and 'hx-post="/messaging/templates/preview/"' in editor
    listed = client_for(chain.manager_a).get("/messaging/templates/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "会员日" in listed and 'id="template-new"' not in listed


def test_the_storefront_inbox_shows_the_members_messages_and_counts_unread(chain):
    profile = store_zone(chain, chain.store_a, "Asia/Shanghai")
    member = consenting_member(chain)
    other = consenting_member(chain, email="o@example.com", openid="oWX3a9fK2mLq8ZpR7tYbN1cD4eFh")
    template = make_template(chain)
    first = enqueue(member, template, "m:1", channel="inapp")
    enqueue(member, template, "m:2", channel="inapp", coupon_code="NY-2")
    enqueue(other, template, "m:3", channel="inapp", coupon_code="SECRET-9")
    send_due(now=NOON_SHANGHAI)
    client = Client()
    session = client.session
    session[SESSION_KEY] = {"m": member.pk, "e": member.enterprise_id}
    session.save()
    page = client.get(f"/s/{profile.slug}/me/messages/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "NY-1" in page and "NY-2" in page and "SECRET-9" not in page
    assert 'id="ma-inbox-unread"' in page and ">2</span>" in page
    client.post(f"/s/{profile.slug}/me/messages/read/", {"message": first.pk})
    overview = client.get(f"/s/{profile.slug}/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="ma-tab-messages"' in overview and ">1</span>" in overview
    client.post(f"/s/{profile.slug}/me/messages/read/", {"message": "all"})
    assert 'id="ma-inbox-unread"' not in client.get(f"/s/{profile.slug}/me/messages/").content.decode()
    assert Client().get(f"/s/{profile.slug}/me/messages/").status_code == 302  # signed out: to sign-in


def test_a_marketing_email_goes_through_a_real_smtp_server_with_a_one_click_unsubscribe(chain, smtp):
    member = consenting_member(chain, email="mei@example.com")
    message = enqueue(member, make_template(chain), "m:mail", channel="email")
    outcome = send_due(now=NOON_SHANGHAI)
    message.refresh_from_db()
    assert outcome.sent == 1 and message.status == "sent" and len(smtp) == 1
    mail = smtp[0]
    assert mail["To"] == "mei@example.com" and str(make_header(decode_header(mail["Subject"]))) == "李梅，您的新年礼券"
    assert mail["Message-ID"].strip("<>") == message.provider_message_id
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(make_header(decode_header(mail["List-Unsubscribe"]))).replace("\r\n", "").replace(" ", "").strip("<>")
    body = mail.get_payload(decode=True).decode()
    assert "券码 NY-1" in body and link in body  # the body places $unsubscribe_url itself: no second line
    assert body.count("/m/u/") == 1
