"""Helpers for the storefront account tests: a themed storefront for the chain's stores, and signing a member in
through the real pages with the code from the test outbox."""
from decimal import Decimal

from django.conf import settings
from django.test import Client

from yundian.members import senders
from yundian.stores import services as store_services
from yundian.stores.tests.factories import make_template

SHANGHAI = (Decimal("31.230416"), Decimal("121.473701"))


def open_storefront(chain, catalogue, store=None, template=None):
    """A storefront profile (with the blue "标准店" theme) for one of the chain's stores."""
    template = template or make_template(chain, catalogue)
    return store_services.store_profile_create(actor=chain.admin, store_id=(store or chain.store_a).id,
                                               template_id=template.id, address="人民大道 1 号", city="上海",
                                               latitude=SHANGHAI[0], longitude=SHANGHAI[1])


def plain_storefront(chain, store=None):
    return store_services.store_profile_create(actor=chain.admin, store_id=(store or chain.store_a).id,
                                               address="春熙路 8 号", city="成都", latitude=SHANGHAI[0],
                                               longitude=SHANGHAI[1])


def english_client() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def send_code(client: Client, slug: str, phone: str, capture, **extra):
    """Ask for a code on the sign-in page (running the after-commit delivery)."""
    with capture(execute=True):
        return client.post(f"/s/{slug}/me/sign-in/", {"step": "send", "phone": phone, **extra})


def verify(client: Client, slug: str, phone: str, code: str, **extra):
    return client.post(f"/s/{slug}/me/sign-in/", {"step": "verify", "phone": phone, "code": code, **extra})


def sign_in(client: Client, slug: str, phone: str, capture, **extra):
    response = send_code(client, slug, phone, capture)
    assert response.status_code == 200, response.content[:300]
    response = verify(client, slug, phone, senders.last_code(phone), **extra)
    assert response.status_code == 302, response.content[:500]
    return response
