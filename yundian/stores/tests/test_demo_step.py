"""The demo generator's stores step: exactly its shape, and a seeded store's storefront works."""
import re

import pytest
from django.test import Client

from yundian.demo.generators import run_seed
from yundian.demo.generators.stores import PALETTE, counts_for
from yundian.stores import selectors
from yundian.stores.models import StoreAssortment, StorefrontTheme, StoreProfile, StoreTemplate

# the demo always runs on its embedded SQLite: its seed is proven once, in the SQLite run of the suite
pytestmark = [pytest.mark.django_db, pytest.mark.once]


def test_the_stores_step_writes_its_shape_and_every_store_gets_a_working_storefront():
    ctx = run_seed(scale=2, seed=4, code="shop")
    expected = counts_for(2)
    assert expected == {"store_templates": 2, "storefront_policies": 1, "store_profiles": 11, "storefront_themes": 11,
                        "assortment_rules": 4 * 9 + 3 * 2}
    assert {k: ctx.counts[k] for k in expected} == expected
    assert StoreTemplate.objects.filter(enterprise=ctx.enterprise).count() == 2
    profiles = StoreProfile.objects.filter(enterprise=ctx.enterprise)
    assert profiles.count() == 11 and StorefrontTheme.objects.filter(store__in=profiles).count() == 11
    assert StoreAssortment.objects.filter(store__in=profiles).count() == expected["assortment_rules"]
    assert all(t.primary_color in PALETTE and t.accent_color in PALETTE and t.primary_color != t.accent_color
               for t in StorefrontTheme.objects.filter(store__in=profiles))

    first = profiles.order_by("id").first()
    html = Client().get(f"/s/{first.slug}/").content.decode()
    assert len(re.findall(r'class="sf-card"', html)) >= 20  # featured plus a full first page
    assert re.search(r'class="sf-price">¥[0-9,]+\.[0-9]{2}', html)
    # every store lies near its city: the nearest store to its own position is itself
    for profile in profiles:
        nearest = selectors.store_nearest(enterprise_id=ctx.enterprise.id, latitude=profile.latitude,
                                          longitude=profile.longitude, limit=1)
        assert [p.pk for p in nearest] == [profile.pk]


def test_a_second_enterprise_with_the_same_store_codes_gets_prefixed_storefront_addresses():
    run_seed(scale=1, seed=1, code="one")
    two = run_seed(scale=1, seed=1, code="two")
    slugs = list(StoreProfile.objects.filter(enterprise=two.enterprise).values_list("slug", flat=True))
    assert slugs and all(s.startswith("two-") for s in slugs)
