"""The journey pages without a browser: the list, new from a template, the side panel's fields with names for
chosen ids, saving and checking a draft (issues on their node), publishing from the page, and the scoping of each."""
import json

import pytest
from django.test import Client
from django.utils import translation

from yundian.journeys import graph as graphs, palette, starters
from yundian.journeys.models import Journey, JourneyStatus
from yundian.journeys.services import journey_create
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.promotions.tests.factories import campaign

pytestmark = pytest.mark.django_db

CART = {"nodes": [{"id": "n1", "kind": "entry", "config": {"trigger": "cart_abandoned", "hours": 2, "reentry": "never"},
                   "x": 40, "y": 160},
                  {"id": "n2", "kind": "coupon", "config": {"campaign_id": None}, "x": 290, "y": 160},
                  {"id": "n3", "kind": "end", "config": {}, "x": 540, "y": 160}],
        "edges": [{"source": "n1", "port": "out", "target": "n2"}, {"source": "n2", "port": "out", "target": "n3"}]}


def _client(staff) -> Client:
    client = Client(headers={"accept-language": "en"})
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


def _post_json(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_new_from_template_fills_a_draft_whose_only_issues_are_the_choices_left_to_the_marketer():
    chain = make_chain()
    client = _client(chain.admin)

    response = client.post("/journeys/new/", {"template": "cart_abandonment"})

    journey = Journey.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/journeys/{journey.pk}/"
    assert (journey.name, journey.status, journey.goal) == ("Cart abandonment", "draft", {"kind": "order", "days": 3})
    assert [(n["id"], n["kind"]) for n in journey.draft["nodes"]] == [
        ("n1", "entry"), ("n2", "coupon"), ("n3", "message"), ("n4", "end")]
    assert journey.draft["nodes"][0]["config"] == {"trigger": "cart_abandoned", "hours": 2, "reentry": "after_days",
                                                   "reentry_days": 7}
    assert sorted((i["node"], i["code"]) for i in graphs.validate(journey.draft, journey.enterprise_id)) == [
        ("n2", "coupon_campaign"), ("n3", "message_template")]


@pytest.mark.parametrize("key", sorted(starters.STARTERS))
def test_every_template_is_wired_and_configured_but_for_campaigns_and_message_templates(key):
    issues = graphs.validate(starters.graph_of(key))

    assert {i["code"] for i in issues} <= {"coupon_campaign", "message_template"}
    assert issues  # each template leaves at least one choice to the marketer


def test_the_list_shows_status_in_words_and_an_auditor_sees_no_new_button():
    chain = make_chain()
    journey_create(actor=chain.admin, name="春节焕新", graph=starters.graph_of(""))

    page = _client(chain.admin).get("/journeys/").content.decode()
    assert "春节焕新" in page and ">Draft</span>" in page and 'data-template="birthday"' in page
    auditor_page = _client(chain.auditor).get("/journeys/").content.decode()
    assert "春节焕新" in auditor_page and 'data-template="birthday"' not in auditor_page
    assert "春节焕新" not in _client(chain.manager_a).get("/journeys/").content.decode()  # an HQ journey


def test_the_panel_shows_a_coupon_nodes_campaign_by_name_and_only_the_fields_its_settings_use():
    chain = make_chain()
    coupon = campaign(chain, code="CART10")
    client = _client(chain.admin)

    html = _post_json(client, "/journeys/panel/", {"kind": "coupon", "config": {"campaign_id": coupon.pk},
                                                    "id": "n2"}).content.decode()
    assert "Coupon CART10" in html and f'value="{coupon.pk}"' in html
    entry = _post_json(client, "/journeys/panel/", {"kind": "entry", "config": {"trigger": "cart_abandoned", "hours": 5}})
    text = entry.content.decode()
    assert 'data-key="hours" data-type="int"' in text and 'value="5"' in text
    assert 'data-key="days_before" data-type="int" data-when-key="trigger" data-when-values="birthday" hidden' in text
    assert _post_json(client, "/journeys/panel/", {"kind": "nope"}).status_code == 400


def test_saving_a_draft_keeps_the_graph_and_answers_with_its_issues_on_their_nodes():
    chain = make_chain()
    journey = journey_create(actor=chain.admin, name="Cart", graph=starters.graph_of(""))
    client = _client(chain.admin)

    response = _post_json(client, f"/journeys/{journey.pk}/save/", {"graph": CART})

    assert response.status_code == 200
    assert response.json()["errors"] == [{"node": "n2", "code": "coupon_campaign",
                                          "message": "Choose a coupon campaign."}]
    journey.refresh_from_db()
    assert journey.draft == CART
    checked = _post_json(client, f"/journeys/{journey.pk}/validate/", {"graph": {"nodes": CART["nodes"], "edges": []}})
    assert sorted(i["node"] for i in checked.json()["errors"] if i["code"] == "port_unconnected") == ["n1", "n2"]


def test_a_bad_body_or_an_actor_without_journey_manage_changes_nothing():
    chain = make_chain()
    journey = journey_create(actor=chain.admin, name="Cart", graph=CART)
    admin = _client(chain.admin)

    bad = admin.post(f"/journeys/{journey.pk}/save/", data=b"{nope", content_type="application/json")
    assert (bad.status_code, bad.json()["code"]) == (400, "bad_json")
    assert _post_json(_client(chain.manager_a), f"/journeys/{journey.pk}/save/", {"graph": {"nodes": [], "edges": []}}
                      ).status_code == 404  # console_view: no journey.manage anywhere
    west = journey_create(actor=chain.west_manager, name="West only", graph=CART)
    assert _post_json(_client(chain.east_manager), f"/journeys/{west.pk}/save/", {"graph": CART}).status_code == 404
    journey.refresh_from_db()
    west.refresh_from_db()
    assert journey.draft == CART and west.draft == CART


def test_publishing_from_the_page_makes_version_1_and_the_canvas_opens_it_read_only():
    chain = make_chain()
    coupon = campaign(chain, code="CART10")
    graph = json.loads(json.dumps(CART))
    graph["nodes"][1]["config"]["campaign_id"] = coupon.pk
    journey = journey_create(actor=chain.admin, name="Cart", graph=graph)
    client = _client(chain.admin)

    response = client.post(f"/journeys/{journey.pk}/publish/")

    assert response.status_code == 302
    journey.refresh_from_db()
    assert (journey.status, journey.live_version.number) == (JourneyStatus.LIVE, 1)
    page = client.get(f"/journeys/{journey.pk}/").content.decode()
    assert "data-readonly" in page and "Edit → new version" in page and 'data-palette-kind' not in page
    editing = client.get(f"/journeys/{journey.pk}/?edit=1").content.decode()
    assert "data-readonly" not in editing and 'data-palette-kind="coupon"' in editing


def test_publishing_an_unfinished_draft_lists_its_issues_and_publishes_nothing():
    chain = make_chain()
    journey = journey_create(actor=chain.admin, name="Cart", graph=CART)
    client = _client(chain.admin)

    response = client.post(f"/journeys/{journey.pk}/publish/", follow=True)

    assert "Choose a coupon campaign." in response.content.decode()
    journey.refresh_from_db()
    assert (journey.status, journey.live_version_id, journey.versions.count()) == ("draft", None, 0)


def test_node_summaries_name_the_chosen_campaign():
    chain = make_chain()
    coupon = campaign(chain, code="CART10")
    graph = json.loads(json.dumps(CART))
    graph["nodes"][1]["config"]["campaign_id"] = coupon.pk

    with translation.override("en"):
        summaries = palette.summaries(chain.admin, graph)

    assert summaries == {"n1": "Cart abandoned · Cart left for (hours) 2 · Never again",
                                                     "n2": "Coupon CART10", "n3": ""}


def test_pause_resume_and_stop_from_the_canvas_page_and_a_wrong_order_changes_nothing():
    chain = make_chain()
    coupon = campaign(chain, code="CART10")
    graph = json.loads(json.dumps(CART))
    graph["nodes"][1]["config"]["campaign_id"] = coupon.pk
    journey = journey_create(actor=chain.admin, name="Cart", graph=graph)
    client = _client(chain.admin)
    client.post(f"/journeys/{journey.pk}/publish/")

    statuses = []
    for action in ("pause", "resume", "resume", "stop"):
        client.post(f"/journeys/{journey.pk}/{action}/")
        journey.refresh_from_db()
        statuses.append(journey.status)

    assert statuses == ["paused", "live", "live", "stopped"]
    page = client.get(f"/journeys/{journey.pk}/").content.decode()
    assert ">Stopped</span>" in page and "Edit → new version" not in page and 'action="/journeys/' not in page


def _split_journey(chain, members, buyers, stock):
    """A live journey (API entry -> split 50/50 + 20 % holdout -> points / points / end) with `members` stepped
    through, of whom `buyers` bought afterwards."""
    from yundian.journeys.runner import enrol, step_all
    from yundian.journeys.services import journey_publish
    from yundian.sales.tests.factories import sell

    graph = {"nodes": [{"id": "n1", "kind": "entry", "config": {"trigger": "api", "reentry": "never"}, "x": 40, "y": 160},
                       {"id": "n2", "kind": "split", "config": {"weights": [50, 50], "holdout": 20}, "x": 290, "y": 160},
                       {"id": "n3", "kind": "points", "config": {"points": 50}, "x": 540, "y": 60},
                       {"id": "n4", "kind": "points", "config": {"points": 200}, "x": 540, "y": 220},
                       {"id": "n5", "kind": "end", "config": {}, "x": 790, "y": 160}],
             "edges": [{"source": "n1", "port": "out", "target": "n2"}, {"source": "n2", "port": "a", "target": "n3"},
                       {"source": "n2", "port": "b", "target": "n4"}, {"source": "n2", "port": "holdout", "target": "n5"},
                       {"source": "n3", "port": "out", "target": "n5"}, {"source": "n4", "port": "out", "target": "n5"}]}
    journey = journey_create(actor=chain.admin, name="Points test", graph=graph)
    journey_publish(actor=chain.admin, journey_id=journey.pk)
    journey.refresh_from_db()
    enrol(journey=journey, candidates=[(m.pk, f"k{m.pk}", {}) for m in members])
    step_all()
    for member in buyers:
        sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=member.id)
    return journey


def test_a_live_journey_shows_each_nodes_counts_and_its_uplift_on_the_canvas():
    from yundian.journeys.models import Enrolment
    from yundian.members.tests.factories import register
    from yundian.sales.tests.factories import stocked

    chain = make_chain()
    stock = stocked(chain, units=50)
    members = [register(chain, name=f"会员{i}") for i in range(10)]
    journey = _split_journey(chain, members, members[:4], stock)
    arms = dict(Enrolment.objects.filter(journey=journey).values_list("member_id", "arm"))
    held = sum(1 for a in arms.values() if a == "holdout")

    page = _client(chain.admin).get(f"/journeys/{journey.pk}/")

    results = page.context["results"]
    assert results["canvas"]["nodes"]["n1"] == {"entered": 10, "passed": 10, "waiting": 0, "exited": 0}
    assert results["canvas"]["nodes"]["n5"] == {"entered": 10, "passed": 0, "waiting": 0, "exited": 10}
    assert results["canvas"]["nodes"]["n2"]["passed"] == 10
    tiles = {t["key"]: t for t in results["tiles"]}
    assert (tiles["entered"]["value"], tiles["converted"]["value"]) == ("10", "4")
    assert ("uplift" in tiles) == (held > 0)
    html = page.content.decode()
    assert 'id="journey-results"' in html and 'data-testid="journey-results"' in html
    listed = _client(chain.admin).get("/journeys/").content.decode()
    assert f'<tr data-journey="{journey.pk}">' in listed
    assert '<td class="num" data-testid="entered">10</td><td class="num" data-testid="converted">4</td>' in listed
