"""The storefront's blocks, the till's suggestions and the console page, as their readers get them."""
import pytest
from django.test import Client

from yundian.members.tests.factories import register
from yundian.members.tests.storefront import open_storefront
from yundian.org.tests.factories import PASSWORD
from yundian.recommend import services
from yundian.recommend.tests.factories import make_world, train_world
from yundian.stores.tests.factories import make_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    world = make_world()
    template = make_template(world.chain, world.stock.cat, product_ids=[world.mug.pk, world.pan.pk])
    world.profile = open_storefront(world.chain, world.stock.cat, template=template)
    return world


def staff_client(staff) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


def test_the_product_page_shows_what_goes_with_it_in_stock(world):
    train_world(world)
    client = Client()
    client.cookies["django_language"] = "en"
    # when
    page = client.get(f"/s/{world.profile.slug}/p/{world.tee.pk}/").content.decode()
    # then
    assert 'data-rec-slot="goes_with" data-rec-variant="blend"' in page
    assert page.index(f'data-rec-product="{world.pan.pk}"') < page.index(f'data-rec-product="{world.mug.pk}"')
    assert f'data-rec-product="{world.apples.pk}"' not in page
    assert "Goes with 纯棉T恤" in page and f"?rec=goes_with.blend.0" in page


def test_a_storefront_without_a_model_shows_no_block(world):
    page = Client().get(f"/s/{world.profile.slug}/p/{world.tee.pk}/").content.decode()
    assert "data-rec-slot" not in page


def test_the_till_suggests_from_the_store_shelf_for_the_member(world):
    train_world(world)
    member = register(world.chain)
    client = staff_client(world.chain.manager_a)
    page = client.get(f"/recommend/till/{member.pk}/?store={world.chain.store_a.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-rec-product="{world.mug.pk}"' in html and f'data-rec-product="{world.pan.pk}"' not in html
    # a store outside the clerk's subtree, a member id that does not exist: 404, nothing shown
    assert client.get(f"/recommend/till/{member.pk}/?store={world.chain.store_b.pk}").status_code == 404
    assert client.get(f"/recommend/till/999999/?store={world.chain.store_a.pk}").status_code == 404


def test_a_guide_sees_next_best_products_for_a_member_of_their_store(world):
    train_world(world)
    member = register(world.chain)
    client = staff_client(world.chain.guide_a)
    html = client.get(f"/recommend/members/{member.pk}/next-best/").content.decode()
    assert 'data-rec-slot="guide"' in html and f'data-rec-product="{world.mug.pk}"' in html
    outsider = register(world.chain, store=world.chain.store_b)
    assert client.get(f"/recommend/members/{outsider.pk}/next-best/").status_code == 404


def test_hq_reads_the_models_and_experiments_and_a_store_manager_may_not(world):
    train_world(world)
    services.experiment_start(actor=world.chain.admin, slot="goes_with", name="Blend vs holdout",
                              variants=[{"key": "blend", "share": 90}, {"key": "holdout", "share": 10}])
    page = staff_client(world.chain.admin).get("/recommend/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="rec-serving"' in html and "Blend vs holdout" in html and 'data-variant="holdout"' in html
    assert staff_client(world.chain.manager_a).get("/recommend/").status_code == 404


def test_a_bad_experiment_from_the_page_is_refused_with_a_message(world):
    client = staff_client(world.chain.admin)
    response = client.post("/recommend/experiments/", {"name": "x", "slot": "goes_with", "share_blend": "60",
                                                       "share_holdout": "30"}, follow=True)
    assert "add up to 100" in response.content.decode()
    assert not services.Experiment.objects.exists()


def test_the_till_box_carries_what_its_view_and_click_events_need_and_the_events_api_keeps_them(world):
    from yundian.cdp.models import EventInbox

    train_world(world)
    member = register(world.chain)
    client = staff_client(world.chain.manager_a)
    html = client.get(f"/recommend/till/{member.pk}/?store={world.chain.store_a.pk}").content.decode()
    # the box names the member, the store and the till's channel; a suggestion names the SKU a pick puts in the sale
    assert (f'data-rec-member="{member.pk}" data-rec-store="{world.chain.store_a.pk}" data-rec-channel="pos"'
            in html)
    mug_sku = world.mug.skus.order_by("id").first()
    assert f'data-rec-product="{world.mug.pk}" data-rec-sku="{mug_sku.pk}"' in html
    assert "recommend/staff_track.js" in html
    # what staff_track.js sends, as the signed-in clerk (session + CSRF), is kept with the member and the store
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=world.chain.manager_a.user.username, password=PASSWORD)
    client.get("/")
    rec = {"rec_slot": "till", "rec_variant": "blend", "rec_experiment": "0"}
    common = {"member_id": member.pk, "store_id": world.chain.store_a.pk, "channel": "pos"}
    response = client.post("/api/v1/events", {"events": [
        {"event_id": "rec-t-1-v", "kind": "recommendation_view", **common, "properties": {**rec, "items": 1}},
        {"event_id": "rec-t-2-c", "kind": "recommendation_click", "sku_id": mug_sku.pk, **common, "properties": rec},
    ]}, content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert response.status_code == 200, response.content
    kept = EventInbox.objects.filter(member_id=member.pk).order_by("id")
    assert [(e.kind, e.store_id, e.channel, e.sku_id) for e in kept] == [
        ("recommendation_view", world.chain.store_a.pk, "pos", None),
        ("recommendation_click", world.chain.store_a.pk, "pos", mug_sku.pk)]


def test_the_guides_box_names_the_members_home_store(world):
    train_world(world)
    member = register(world.chain)
    html = staff_client(world.chain.guide_a).get(f"/recommend/members/{member.pk}/next-best/").content.decode()
    assert f'data-rec-member="{member.pk}" data-rec-store="{world.chain.store_a.pk}"' in html
    assert "data-rec-channel" not in html
