"""The browse-abandonment journey: a member who viewed a product and put nothing in a cart for N hours enters, and
the message step names the product and what goes with it (recommend's serving model, in stock at their store)."""
from datetime import timedelta

import pytest

from yundian.cdp.models import EventInbox
from yundian.core import when
from yundian.journeys import graph as graphs, runner, services, starters, triggers
from yundian.members.tests.factories import register
from yundian.messaging.models import OutboundMessage
from yundian.messaging.services import template_create
from yundian.recommend.tests.factories import make_world, train_world

from .factories import line, node

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    when.travel_reset()
    yield
    when.travel_reset()


def test_a_viewer_who_leaves_without_a_cart_gets_the_product_and_what_goes_with_it(db):
    # given a trained model (a tee goes with the pan, then the mug), a template using the suggestions, and the journey
    world = make_world()
    chain = world.chain
    train_world(world)
    template = template_create(actor=chain.admin, name="看过未买", bodies=[
        {"channel": "inapp", "subject": "还在考虑吗", "body": "$member_name，你看过的$product_name；搭配：$recommendations"}])
    graph = line(node("entry", "entry", trigger="browse_abandoned", hours=24, reentry="never"),
                 node("m", "message", channel="inapp", template_id=template.pk, recommend=True))
    assert graphs.validate(graph, enterprise_id=chain.admin.enterprise_id) == []
    journey = services.journey_create(actor=chain.admin, name="浏览挽回", graph=graph)
    services.journey_publish(actor=chain.admin, journey_id=journey.pk)
    member = register(chain, name="李梅")
    now = when.now()
    EventInbox.objects.create(enterprise_id=chain.admin.enterprise_id, event_key="v1", kind="product_view",
                              occurred_at=now, received_at=now, member_id=member.pk, channel="storefront",
                              sku_id=world.stock.cat.tee_s.pk)
    # when a day passes and the worker runs
    when.travel(timedelta(hours=25))
    assert triggers.scan(journey.pk) == 1
    runner.step_all()
    # then the message names the tee and the goods that go with it, best first
    message = OutboundMessage.objects.get(member=member)
    assert message.key.startswith(f"jy{journey.pk}:")
    assert message.variables["product_name"] == world.tee.name
    assert message.variables["recommendations"] == f"{world.pan.name}、{world.mug.name}"
    assert message.body.startswith(f"李梅，你看过的{world.tee.name}；搭配：{world.pan.name}、{world.mug.name}\n")


def test_the_browse_abandonment_starter_asks_only_for_its_campaign_and_templates():
    graph = starters.graph_of("browse_abandonment")
    entry = graphs.entry_of(graph)
    assert (entry["config"]["trigger"], entry["config"]["hours"]) == ("browse_abandoned", 24)
    assert [n["config"].get("recommend") for n in graph["nodes"] if n["kind"] == "message"] == [True, True]
    assert sorted(i["code"] for i in graphs.validate(graph)) == ["coupon_campaign", "message_template",
                                                                 "message_template"]
