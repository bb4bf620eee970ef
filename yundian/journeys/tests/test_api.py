"""Journeys through HTTP: a region's journeys only, publish with the graph's issues, enrol with a client key
(replayed, and 409 for another member), pause / resume / stop, results; bad input changes nothing."""
import pytest

from yundian.journeys.models import Enrolment, Journey, JourneyVersion
from yundian.members.tests.factories import register
from yundian.org.tests.utils import assert_error, call, client_for

from .factories import api_entry, line, node

pytestmark = pytest.mark.django_db
URL = "/api/v1/journeys"
GRAPH = line(api_entry(), node("p", "points", points=5))


def test_a_region_builds_publishes_enrols_and_reads_results_of_its_own_journey(chain):
    east, west = client_for(chain.east_manager), client_for(chain.west_manager)
    created = call(east, "post", URL, {"name": "欢迎", "graph": GRAPH})
    assert created.status_code == 201, created.content
    jid = created.json()["id"]
    assert call(east, "post", f"{URL}/{jid}/publish").json()["number"] == 1
    assert [j["name"] for j in call(east, "get", URL).json()["items"]] == ["欢迎"]
    assert_error(call(west, "get", f"{URL}/{jid}"), 404, "journey_not_found")

    ann = register(chain)
    first = call(east, "post", f"{URL}/{jid}/enrol", {"member_id": ann.pk}, Idempotency_Key="crm-1")
    assert (first.status_code, first.json()["enrolled"]) == (201, True)
    again = call(east, "post", f"{URL}/{jid}/enrol", {"member_id": ann.pk}, Idempotency_Key="crm-1")
    assert (again.status_code, again.json()) == (201, first.json())
    bob = register(chain)
    assert_error(call(east, "post", f"{URL}/{jid}/enrol", {"member_id": bob.pk, "key": "crm-1"}), 409,
                 "idempotency_key_reused")
    assert list(Enrolment.objects.values_list("member_id", flat=True)) == [ann.pk]

    results = call(east, "get", f"{URL}/{jid}/results").json()
    assert (results["enrolled"], results["nodes"]["entry"]["waiting"], results["uplift"]["control"]) == (1, 1, 0)
    assert call(east, "post", f"{URL}/{jid}/pause").json()["status"] == "paused"
    assert call(east, "post", f"{URL}/{jid}/resume").json()["status"] == "live"
    assert call(east, "post", f"{URL}/{jid}/stop").json()["status"] == "stopped"
    assert Enrolment.objects.get().status == "exited"


def test_an_invalid_graph_answers_422_with_its_issues_and_publishes_nothing(chain):
    hq = client_for(chain.admin)
    jid = call(hq, "post", URL, {"name": "坏", "graph": {"nodes": [node("p", "points", points=1)], "edges": []}}
               ).json()["id"]
    error = assert_error(call(hq, "post", f"{URL}/{jid}/publish"), 422, "journey_invalid")
    assert {i["code"] for i in error["details"]["issues"]} == {"entry_count", "port_unconnected"}
    assert_error(call(hq, "post", f"{URL}/{jid}/pause"), 409, "journey_state")
    assert_error(call(hq, "patch", f"{URL}/{jid}", {"goal": {"kind": "order", "days": 0}}), 422,
                 "journey_goal_invalid")
    assert (JourneyVersion.objects.count(), Journey.objects.get().goal) == (0, {"kind": "order", "days": 7})


def test_a_store_manager_reads_but_cannot_change_or_enrol(chain):
    journey_id = call(client_for(chain.admin), "post", URL, {"name": "x", "graph": GRAPH,
                                                             "node_id": chain.store_a.id}).json()["id"]
    call(client_for(chain.admin), "post", f"{URL}/{journey_id}/publish")
    store = client_for(chain.manager_a)
    assert call(store, "get", f"{URL}/{journey_id}").status_code == 200
    assert_error(call(store, "post", f"{URL}/{journey_id}/pause"), 403, "journey_forbidden")
    assert_error(call(store, "post", f"{URL}/{journey_id}/enrol", {"member_id": register(chain).pk, "key": "k"}),
                 403, "journey_forbidden")
    assert Enrolment.objects.count() == 0
