"""Findings over the API: each caller lists what the inbox shows them, acknowledges and resolves their own or their
subtree's findings, and another store's (or enterprise's) finding id is 404 and changes nothing."""
from datetime import date

import pytest

from yundian.analytics.models import Finding, OwnerRole
from yundian.org.tests.utils import assert_error, call, client_for

DAY = date(2026, 11, 30)


def _finding(node, owner, kpi="conversion"):
    return Finding.objects.create(enterprise_id=node.enterprise_id, node=node, kpi=kpi, driver="conversion",
                                  window_start=DAY, window_end=DAY, actual=0.1, expected=0.2, lower=0.15, upper=0.25,
                                  owner_role=OwnerRole.STORE_MANAGER, owner=owner,
                                  numbers={"split": {"traffic": 0, "conversion": -5000, "aov": 0}},
                                  key=f"deviation:{node.pk}:{kpi}:{DAY}")


@pytest.fixture
def findings(chain, other_chain):
    return (_finding(chain.store_a, chain.manager_a), _finding(chain.store_b, chain.manager_b),
            _finding(other_chain.store_a, other_chain.manager_a))


def test_each_caller_lists_only_the_findings_of_their_scope(chain, findings):
    ours, theirs, _elsewhere = findings
    page = call(client_for(chain.manager_a), "GET", "/api/v1/analytics/findings").json()
    assert [f["id"] for f in page["items"]] == [ours.pk]
    assert page["items"][0]["kpi"] == "conversion" and page["items"][0]["headline"]
    everything = call(client_for(chain.admin), "GET", "/api/v1/analytics/findings").json()
    assert sorted(f["id"] for f in everything["items"]) == sorted([ours.pk, theirs.pk])
    assert call(client_for(chain.manager_a), "GET", "/api/v1/analytics/findings?status=resolved").json()["count"] == 0


def test_the_owner_acknowledges_then_resolves_once(chain, findings):
    ours = findings[0]
    client = client_for(chain.manager_a)
    seen = call(client, "POST", f"/api/v1/analytics/findings/{ours.pk}/acknowledge")
    assert seen.status_code == 200 and seen.json()["acknowledged_by_id"] == chain.manager_a.pk
    first_seen = seen.json()["acknowledged_at"]
    again = call(client, "POST", f"/api/v1/analytics/findings/{ours.pk}/acknowledge")
    assert again.json()["acknowledged_at"] == first_seen
    assert_error(call(client, "POST", f"/api/v1/analytics/findings/{ours.pk}/resolve", {"resolution": " "}), 422,
                 "invalid_resolution")
    done = call(client, "POST", f"/api/v1/analytics/findings/{ours.pk}/resolve", {"resolution": "加派一名导购"})
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert_error(call(client, "POST", f"/api/v1/analytics/findings/{ours.pk}/resolve", {"resolution": "again"}), 409,
                 "finding_closed")
    assert_error(call(client, "POST", f"/api/v1/analytics/findings/{ours.pk}/acknowledge"), 409, "finding_closed")


def test_another_stores_or_enterprises_finding_is_404_and_unchanged(chain, other_chain, findings):
    _ours, theirs, elsewhere = findings
    cases = [(chain.manager_a, theirs), (chain.guide_a, theirs), (chain.west_manager, findings[0]),
             (chain.admin, elsewhere), (other_chain.admin, findings[0])]
    for actor, finding in cases:
        client = client_for(actor)
        assert_error(call(client, "GET", f"/api/v1/analytics/findings/{finding.pk}"), 404, "finding_not_found")
        assert_error(call(client, "POST", f"/api/v1/analytics/findings/{finding.pk}/acknowledge"), 404,
                     "finding_not_found")
        assert_error(call(client, "POST", f"/api/v1/analytics/findings/{finding.pk}/resolve",
                          {"resolution": "x"}), 404, "finding_not_found")
    assert list(Finding.objects.order_by("id").values_list("status", "acknowledged_at")) == [("open", None)] * 3
