from datetime import datetime

import pyarrow as pa
import pytest

from yundian.analytics.warehouse_tables import DIM_MEMBER
from yundian.cdp.identity import events_resolved, members_erased
from yundian.cdp.ingest import events_load_bulk
from yundian.cdp.warehouse_tables import EVENT_INPUT_COLUMNS
from yundian.core.warehouse import rows_replace, warehouse_read, warehouse_write

pytestmark = pytest.mark.django_db
ANNA, BEN = 501, 502


def _events(chain, rows):
    """rows: (key, device, member or None, day of March 2026)"""
    n = len(rows)
    return pa.table({
        "enterprise_id": [chain.hq.enterprise_id] * n, "event_key": [r[0] for r in rows],
        "kind": ["page_view"] * n, "name": [""] * n,
        "occurred_at": [datetime(2026, 3, r[3], 12) for r in rows], "received_at": [datetime(2026, 3, 20)] * n,
        "anonymous_id": [r[1] for r in rows], "member_id": [r[2] for r in rows],
        "store_id": [chain.store_a.id] * n, "channel": ["storefront"] * n, "sku_id": [None] * n,
        "order_id": [None] * n, "amount": [None] * n, "properties": ["{}"] * n,
    }).select(list(EVENT_INPUT_COLUMNS))


def _members(chain, canonical: dict[int, int]):
    with warehouse_write() as con:
        rows_replace(con, DIM_MEMBER, DIM_MEMBER.arrow({
            "member_id": list(canonical), "enterprise_id": [chain.hq.enterprise_id] * len(canonical),
            "canonical_member_id": list(canonical.values()), "is_erased": [False] * len(canonical)}))


def _people() -> dict[str, int | None]:
    with warehouse_read() as wh:
        resolved = events_resolved(wh.table("fact_event"), wh.table("identity_link"), wh.table("dim_member"))
        rows = resolved.select("event_key", "person_id").to_pyarrow().to_pylist()
    return {r["event_key"]: r["person_id"] for r in sorted(rows, key=lambda r: r["event_key"])}


def test_anonymous_browsing_before_sign_in_is_attributed_retroactively_and_across_two_devices(chain, warehouse):
    events_load_bulk(_events(chain, [
        ("phone-1", "phone", None, 1),      # browsing before Anna signs in on her phone
        ("phone-2", "phone", ANNA, 2),      # signed in
        ("phone-3", "phone", None, 3),      # later, signed out
        ("laptop-1", "laptop", None, 4),
        ("laptop-2", "laptop", ANNA, 5),    # Anna signs in on her laptop too
        ("tablet-1", "tablet", None, 6),    # never signed in
        ("ben-1", "ben-phone", BEN, 6),
    ]))
    _members(chain, {ANNA: ANNA, BEN: BEN})
    assert _people() == {"ben-1": BEN, "laptop-1": ANNA, "laptop-2": ANNA, "phone-1": ANNA, "phone-2": ANNA,
                         "phone-3": ANNA, "tablet-1": None}


def test_a_shared_device_goes_to_the_member_signed_in_last_before_each_event(chain, warehouse):
    events_load_bulk(_events(chain, [
        ("k1", "kiosk", None, 1), ("k2", "kiosk", ANNA, 2), ("k3", "kiosk", None, 3), ("k4", "kiosk", BEN, 4),
        ("k5", "kiosk", None, 5)]))
    _members(chain, {ANNA: ANNA, BEN: BEN})
    assert _people() == {"k1": ANNA, "k2": ANNA, "k3": ANNA, "k4": BEN, "k5": BEN}


def test_a_merge_re_attributes_through_dim_member_and_an_unmerge_undoes_it_without_rewriting_events(chain, warehouse):
    events_load_bulk(_events(chain, [("a1", "anna-phone", None, 1), ("a2", "anna-phone", ANNA, 2),
                                     ("b1", "ben-phone", BEN, 3)]))
    _members(chain, {ANNA: ANNA, BEN: BEN})
    assert _people() == {"a1": ANNA, "a2": ANNA, "b1": BEN}
    _members(chain, {ANNA: BEN, BEN: BEN})  # Anna merged into Ben
    assert _people() == {"a1": BEN, "a2": BEN, "b1": BEN}
    _members(chain, {ANNA: ANNA, BEN: BEN})  # unmerged
    assert _people() == {"a1": ANNA, "a2": ANNA, "b1": BEN}
    with warehouse_read() as wh:
        assert wh.table("fact_event").filter(lambda t: t.event_key == "a2").member_id.to_pyarrow().to_pylist() == [ANNA]


def test_erasure_removes_the_members_events_links_and_devices_events(chain, warehouse):
    events_load_bulk(_events(chain, [("a1", "anna-phone", None, 1), ("a2", "anna-phone", ANNA, 2),
                                     ("b1", "ben-phone", BEN, 3), ("x1", "stranger", None, 3)]))
    with warehouse_write() as con:
        con.begin()
        assert members_erased(con, [ANNA]) == 2
        con.commit()
    with warehouse_read() as wh:
        keys = sorted(wh.table("fact_event").event_key.to_pyarrow().to_pylist())
        links = wh.table("identity_link").member_id.to_pyarrow().to_pylist()
    assert (keys, links) == (["b1", "x1"], [BEN])


def test_an_erasure_rolled_back_with_the_callers_transaction_deletes_nothing(chain, warehouse):
    events_load_bulk(_events(chain, [("a2", "anna-phone", ANNA, 2)]))
    with warehouse_write() as con:
        con.begin()
        members_erased(con, [ANNA])
        con.rollback()
    with warehouse_read() as wh:
        assert wh.table("fact_event").count().to_pyarrow().as_py() == 1
