import re

import pytest
from django.test import Client

from yundian.cdp.tokens import member_token_read
from yundian.members import services as member_services
from yundian.members.account import SESSION_KEY
from yundian.members.tests.factories import register
from yundian.stores.tests.factories import make_shop

pytestmark = pytest.mark.django_db
TRACKER = re.compile(r'<script src="[^"]*cdp/track\.js" id="yd-tracker" defer data-endpoint="/api/v1/events" '
                     r'data-store="([^"]*)" data-member="([^"]*)"></script>')


def _signed_in(member) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = {"m": member.pk, "e": member.enterprise_id}
    session.save()
    return client


def test_an_anonymous_shopper_gets_the_tracker_without_a_member_token(chain):
    shop = make_shop(chain)
    page = Client().get(f"/s/{shop.profile_a.slug}/p/{shop.catalogue.tee.id}/").content.decode()
    assert TRACKER.findall(page) == [(shop.profile_a.slug, "")]
    assert f'data-sku-id="{shop.catalogue.tee_s.id}"' in page


def test_a_signed_in_member_gets_a_token_naming_them(chain):
    shop = make_shop(chain)
    member = register(chain)
    page = _signed_in(member).get(f"/s/{shop.profile_a.slug}/").content.decode()
    [(slug, token)] = TRACKER.findall(page)
    assert (slug, member_token_read(token, enterprise_id=chain.hq.enterprise_id)) == (shop.profile_a.slug, member.pk)


def test_a_member_who_withdrew_tracking_consent_gets_no_tracker(chain):
    shop = make_shop(chain)
    member = register(chain)
    member_services.consent_set(actor=chain.manager_a, member_id=member.pk, channel="tracking", granted=False)
    page = _signed_in(member).get(f"/s/{shop.profile_a.slug}/").content.decode()
    assert "track.js" not in page
    member_services.consent_set(actor=chain.manager_a, member_id=member.pk, channel="tracking", granted=True)
    assert len(TRACKER.findall(_signed_in(member).get(f"/s/{shop.profile_a.slug}/").content.decode())) == 1


def test_console_pages_carry_no_tracker(chain):
    client = Client()
    client.force_login(chain.admin.user)
    assert "track.js" not in client.get("/").content.decode()
