"""Nearest store: exact against a brute-force scan with an independent distance formula, fast at 2,000 stores."""
import math
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yundian.core.errors import ValidationFailed
from yundian.org.models import OrgNode
from yundian.org.roles import NodeKind
from yundian.stores import selectors
from yundian.stores.models import StoreProfile, StoreStatus

from .factories import CHENGDU, HANGZHOU, SHANGHAI, make_shop

pytestmark = pytest.mark.django_db


def cosine_law_km(lat1, lng1, lat2, lng2) -> float:
    """Distance by the spherical law of cosines (not the haversine the code uses), same mean radius."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lng2 - lng1)
    value = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371.0088 * math.acos(max(-1.0, min(1.0, value)))


def add_stores(enterprise, parent, points, prefix="S") -> list[StoreProfile]:
    """Store nodes with profiles, written in bulk (the nearest-store lookup only reads them)."""
    nodes = OrgNode.objects.bulk_create([
        OrgNode(enterprise=enterprise, parent=parent, kind=NodeKind.STORE, name=f"{prefix}{i}", code=f"{prefix}{i}",
                path="", depth=parent.depth + 1) for i in range(len(points))])
    for node in nodes:
        node.path = f"{parent.path}{node.pk}/"
    OrgNode.objects.bulk_update(nodes, ["path"])
    return StoreProfile.objects.bulk_create([
        StoreProfile(node=node, enterprise=enterprise, slug=node.code, address="-", city="-",
                     latitude=Decimal(f"{lat:.6f}"), longitude=Decimal(f"{lng:.6f}"))
        for node, (lat, lng) in zip(nodes, points)])


def brute_force(points_by_slug: dict, lat: float, lng: float, limit: int) -> list[tuple[str, float]]:
    ranked = sorted((cosine_law_km(lat, lng, p[0], p[1]), slug) for slug, p in points_by_slug.items())
    return [(slug, d) for d, slug in ranked[:limit]]


def test_known_cities_come_back_nearest_first_with_their_distances(chain):
    shop = make_shop(chain)  # Store A in Shanghai, Store B in Chengdu
    add_stores(chain.hq.enterprise, chain.east, [(float(HANGZHOU[0]), float(HANGZHOU[1]))], prefix="HZ")
    # from the Bund, about 1.3 km from People's Square
    found = selectors.store_nearest(enterprise_id=chain.hq.enterprise_id, latitude="31.240000", longitude="121.490000",
                                    limit=3)
    assert [p.slug for p in found] == [shop.profile_a.slug, "HZ0", shop.profile_b.slug]
    expected = [cosine_law_km(31.24, 121.49, float(p.latitude), float(p.longitude)) for p in found]
    assert [round(p.distance_km, 6) for p in found] == [round(d, 6) for d in expected]
    assert 1.8 < found[0].distance_km < 1.9  # People's Square is ~1.85 km from this point
    assert 165 < found[1].distance_km < 175  # Shanghai - Hangzhou
    assert 1650 < found[2].distance_km < 1670  # Shanghai - Chengdu


def test_random_stores_anywhere_match_a_brute_force_scan(chain):
    rng = random.Random(7)
    points = [(rng.uniform(-89.9, 89.9), rng.uniform(-180, 180)) for _ in range(150)]
    # dense clusters: a city, the antimeridian, near the north pole
    points += [(31.2 + rng.uniform(-0.2, 0.2), 121.5 + rng.uniform(-0.2, 0.2)) for _ in range(60)]
    points += [(rng.uniform(-10, 10), rng.choice([-1, 1]) * rng.uniform(179.0, 180.0)) for _ in range(40)]
    points += [(rng.uniform(88.0, 90.0), rng.uniform(-180, 180)) for _ in range(30)]
    points = [(round(lat, 6), round(lng, 6)) for lat, lng in points]
    add_stores(chain.hq.enterprise, chain.east, points)
    by_slug = {f"S{i}": p for i, p in enumerate(points)}
    queries = [(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(25)]
    queries += [(31.2, 121.5), (0.0, 179.99), (0.0, -179.99), (5.0, 180.0), (89.9, 0.0), (-89.9, 10.0), (31.3, 121.45)]
    for lat, lng in queries:
        for limit in (1, 5, 12):
            found = selectors.store_nearest(enterprise_id=chain.hq.enterprise_id, latitude=round(lat, 6),
                                            longitude=round(lng, 6), limit=limit)
            expected = brute_force(by_slug, round(lat, 6), round(lng, 6), limit)
            assert [p.slug for p in found] == [slug for slug, _d in expected], (lat, lng, limit)
            assert all(abs(p.distance_km - d) < 1e-6 for p, (_s, d) in zip(found, expected))


def test_a_store_just_across_the_date_line_is_found_in_the_first_small_box(chain):
    add_stores(chain.hq.enterprise, chain.east, [(0.0, 179.99), (0.0, 170.0)])
    with CaptureQueriesContext(connection) as queries:
        found = selectors.store_nearest(enterprise_id=chain.hq.enterprise_id, latitude=0, longitude=-179.99, limit=1)
    assert [p.slug for p in found] == ["S0"]
    assert abs(found[0].distance_km - cosine_law_km(0, -179.99, 0, 179.99)) < 1e-6
    assert len(queries) == 1


def test_at_2000_stores_a_city_query_reads_only_a_small_box(chain):
    rng = random.Random(11)
    # 2,000 stores over mainland China's box, 100 of them in Shanghai
    points = [(rng.uniform(20, 45), rng.uniform(100, 125)) for _ in range(1900)]
    points += [(31.23 + rng.uniform(-0.1, 0.1), 121.47 + rng.uniform(-0.1, 0.1)) for _ in range(100)]
    points = [(round(a, 6), round(b, 6)) for a, b in points]
    add_stores(chain.hq.enterprise, chain.east, points)
    by_slug = {f"S{i}": p for i, p in enumerate(points)}
    with CaptureQueriesContext(connection) as queries:
        found = selectors.store_nearest(enterprise_id=chain.hq.enterprise_id, latitude=31.23, longitude=121.47, limit=5)
    assert [p.slug for p in found] == [s for s, _d in brute_force(by_slug, 31.23, 121.47, 5)]
    assert len(queries) == 1  # the 3 km box already holds 5 stores
    sql = queries[0]["sql"]
    assert '"latitude" >=' in sql and '"longitude" <=' in sql
    rows_in_box = StoreProfile.objects.filter(selectors.bounding_box_q(31.23, 121.47, 3)).count()
    assert rows_in_box < 60  # of 2,000
    # far from everything: the box widens, still exact
    found = selectors.store_nearest(enterprise_id=chain.hq.enterprise_id, latitude=60.0, longitude=150.0, limit=3)
    assert [p.slug for p in found] == [s for s, _d in brute_force(by_slug, 60.0, 150.0, 3)]


def test_closed_stores_closed_down_nodes_and_other_enterprises_are_left_out(chain, other_chain):
    shop = make_shop(chain)
    other = make_shop(other_chain)  # the other enterprise has a store at the very same spot
    assert other.profile_a.latitude == shop.profile_a.latitude
    StoreProfile.objects.filter(pk=shop.profile_a.pk).update(status=StoreStatus.CLOSED)
    found = selectors.store_nearest(enterprise_id=chain.hq.enterprise_id, latitude=SHANGHAI[0], longitude=SHANGHAI[1])
    assert [p.slug for p in found] == [shop.profile_b.slug]
    found = selectors.store_nearest(enterprise_id=chain.hq.enterprise_id, latitude=SHANGHAI[0], longitude=SHANGHAI[1],
                                    only_open=False)
    assert [p.slug for p in found] == [shop.profile_a.slug, shop.profile_b.slug]
    OrgNode.objects.filter(pk=chain.store_b.pk).update(is_active=False)
    assert selectors.store_nearest(enterprise_id=chain.hq.enterprise_id, latitude=SHANGHAI[0],
                                   longitude=SHANGHAI[1]) == []


def test_a_search_radius_bounds_the_answer(chain):
    shop = make_shop(chain)
    found = selectors.store_nearest(enterprise_id=chain.hq.enterprise_id, latitude=CHENGDU[0], longitude=CHENGDU[1],
                                    limit=5, max_km=100)
    assert [p.slug for p in found] == [shop.profile_b.slug]
    found = selectors.store_nearest(enterprise_id=chain.hq.enterprise_id, latitude=CHENGDU[0], longitude=CHENGDU[1],
                                    limit=5, max_km=20100)
    assert [p.slug for p in found] == [shop.profile_b.slug, shop.profile_a.slug]


@pytest.mark.parametrize("lat, lng, limit, max_km, code", [
    ("91", "0", 5, None, "invalid_coordinate"),
    ("0", "-180.5", 5, None, "invalid_coordinate"),
    ("north", "0", 5, None, "invalid_coordinate"),
    (float("nan"), 0, 5, None, "invalid_coordinate"),
    (float("inf"), 0, 5, None, "invalid_coordinate"),
    ("", "0", 5, None, "invalid_coordinate"),
    (None, 0, 5, None, "invalid_coordinate"),
    (True, 0, 5, None, "invalid_coordinate"),
    (0, 0, 0, None, "invalid_number"),
    (0, 0, 51, None, "invalid_number"),
    (0, 0, 5, 0, "invalid_radius"),
    (0, 0, 5, float("nan"), "invalid_radius"),
])
def test_bad_nearest_input_is_a_422(chain, lat, lng, limit, max_km, code):
    with pytest.raises(ValidationFailed) as caught:
        selectors.store_nearest(enterprise_id=chain.hq.enterprise_id, latitude=lat, longitude=lng, limit=limit,
                                max_km=max_km)
    assert caught.value.code == code
