"""Journey services: create, draft, publish (versions), pause, resume, stop; scoped and audited."""
import pytest

from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.journeys import services
from yundian.journeys.models import Journey, JourneyStatus, JourneyVersion

from .factories import api_entry, line, make_tag, node

GRAPH = line(api_entry(), node("p", "points", points=10))


def test_publish_freezes_the_draft_as_version_one_then_two(chain):
    journey = services.journey_create(actor=chain.admin, name="欢迎", graph=GRAPH)
    first = services.journey_publish(actor=chain.admin, journey_id=journey.pk)
    changed = line(api_entry(), node("p", "points", points=20))
    services.journey_draft_save(actor=chain.admin, journey_id=journey.pk, graph=changed)
    second = services.journey_publish(actor=chain.admin, journey_id=journey.pk)
    journey.refresh_from_db()
    assert (first.number, second.number) == (1, 2)
    assert first.graph["nodes"][1]["config"] == {"points": 10}
    assert (journey.status, journey.live_version_id, journey.trigger) == (JourneyStatus.LIVE, second.pk, "api")
    assert list(AuditEntry.objects.filter(target_type="journeys.journey", target_id=str(journey.pk)).values_list("action", flat=True)
                .order_by("id")) == ["journey.create", "journey.publish", "journey.publish"]


def test_an_invalid_draft_is_not_published_and_nothing_changes(chain):
    journey = services.journey_create(actor=chain.admin, name="坏的", graph={"nodes": [node("p", "points", points=0)],
                                                                          "edges": []})
    with pytest.raises(ValidationFailed) as e:
        services.journey_publish(actor=chain.admin, journey_id=journey.pk)
    assert e.value.code == "journey_invalid"
    assert {i["code"] for i in e.value.details["issues"]} == {"entry_count", "points_amount", "port_unconnected"}
    assert JourneyVersion.objects.count() == 0
    assert Journey.objects.get(pk=journey.pk).status == JourneyStatus.DRAFT


def test_a_config_naming_another_enterprises_tag_is_refused(chain, other_chain):
    tag = make_tag(other_chain)
    journey = services.journey_create(actor=chain.admin, name="tag",
                                      graph=line(api_entry(), node("t", "tag", tag_id=tag.pk, action="add")))
    with pytest.raises(ValidationFailed) as e:
        services.journey_publish(actor=chain.admin, journey_id=journey.pk)
    assert [(i["node"], i["code"]) for i in e.value.details["issues"]] == [("t", "unknown_id")]


def test_pause_resume_stop_follow_the_states(chain):
    journey = services.journey_create(actor=chain.admin, name="j", graph=GRAPH)
    with pytest.raises(Conflict):
        services.journey_pause(actor=chain.admin, journey_id=journey.pk)
    services.journey_publish(actor=chain.admin, journey_id=journey.pk)
    assert services.journey_pause(actor=chain.admin, journey_id=journey.pk).status == JourneyStatus.PAUSED
    assert services.journey_resume(actor=chain.admin, journey_id=journey.pk).status == JourneyStatus.LIVE
    assert services.journey_stop(actor=chain.admin, journey_id=journey.pk).status == JourneyStatus.STOPPED
    with pytest.raises(Conflict) as e:
        services.journey_publish(actor=chain.admin, journey_id=journey.pk)
    assert e.value.code == "journey_stopped"


def test_a_region_sees_its_own_journeys_and_neither_hqs_nor_another_regions(chain):
    east = services.journey_create(actor=chain.east_manager, name="east", graph=GRAPH)
    hq = services.journey_create(actor=chain.admin, name="hq", graph=GRAPH)
    assert [j.name for j in services.journey_list(actor=chain.east_manager)] == ["east"]
    assert [j.name for j in services.journey_list(actor=chain.admin)] == ["hq", "east"]
    with pytest.raises(NotFound):
        services.journey_get(actor=chain.west_manager, journey_id=east.pk)
    with pytest.raises(NotFound):
        services.journey_get(actor=chain.east_manager, journey_id=hq.pk)
    with pytest.raises(NotFound):
        services.journey_publish(actor=chain.manager_a, journey_id=east.pk)
    with pytest.raises(Forbidden):
        services.journey_publish(actor=chain.auditor, journey_id=east.pk)
    assert JourneyVersion.objects.count() == 0
