"""HQ names category buyers on the findings' buyers page (category and person picked by name); a category's
findings then go to its buyer, and a sub-category's to its parent's buyer; nobody else may assign."""
import pytest
from django.test import Client

from yundian.analytics.diagnosis_services import buyer_of
from yundian.catalog.models import CategoryBuyer
from yundian.catalog.tests.factories import make_catalogue
from yundian.core.models import AuditEntry
from yundian.org.tests.factories import PASSWORD

URL = "/analytics/findings/buyers/"


def _client(staff) -> Client:
    client = Client()
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


@pytest.fixture
def catalogue(chain):
    return make_catalogue(chain)


def test_hq_assigns_a_buyer_and_the_categorys_findings_route_to_them(chain, catalogue):
    client = _client(chain.admin)
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and page.content.count(b"data-picker") == 2
    assert client.post(URL + "save/", {"category": catalogue.apparel.pk, "buyer": chain.east_manager.pk}).status_code == 302
    assert buyer_of(catalogue.apparel.pk) == chain.east_manager
    assert buyer_of(catalogue.tees.pk) == chain.east_manager  # inherited by the sub-category
    assert buyer_of(catalogue.household.pk) is None
    shown = client.get(URL).content.decode()
    assert f'data-buyer="{chain.east_manager.pk}"' in shown and shown.count("east") >= 2
    # a second assignment replaces the first; removing falls back to inheriting
    client.post(URL + "save/", {"category": catalogue.tees.pk, "buyer": chain.manager_a.pk})
    assert buyer_of(catalogue.tees.pk) == chain.manager_a
    client.post(URL + "save/", {"category": catalogue.tees.pk, "action": "remove"})
    assert buyer_of(catalogue.tees.pk) == chain.east_manager
    assert AuditEntry.objects.filter(action__startswith="catalog.category_buyer").count() == 3


def test_bad_or_unauthorised_assignments_change_nothing(chain, other_chain, catalogue):
    client = _client(chain.admin)
    CategoryBuyer.objects.create(enterprise_id=chain.admin.enterprise_id, category=catalogue.apparel,
                                 buyer=chain.east_manager)
    before = list(CategoryBuyer.objects.values_list("category_id", "buyer_id"))
    bad = client.post(URL + "save/", {"category": catalogue.apparel.pk, "buyer": other_chain.admin.pk},
                      HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert bad.status_code == 422 and b'data-code="invalid_buyer"' in bad.content
    assert client.post(URL + "save/", {"category": "", "buyer": chain.manager_a.pk}).status_code == 422
    assert client.post(URL + "save/", {"category": 10**9, "buyer": chain.manager_a.pk}).status_code == 404
    manager = _client(chain.manager_a)
    assert b"data-picker" not in manager.get(URL).content
    refused = manager.post(URL + "save/", {"category": catalogue.apparel.pk, "buyer": chain.manager_a.pk})
    assert refused.status_code == 403
    assert _client(chain.guide_a).get(URL).status_code == 404
    assert list(CategoryBuyer.objects.values_list("category_id", "buyer_id")) == before
