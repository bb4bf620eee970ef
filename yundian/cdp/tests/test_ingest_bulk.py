from datetime import datetime

import pyarrow as pa
import pytest

from yundian.cdp.ingest import events_load_bulk
from yundian.cdp.warehouse_tables import EVENT_INPUT_COLUMNS
from yundian.core.warehouse import warehouse_read

pytestmark = pytest.mark.django_db


def _batch(chain, keys, *, member=None, device="dev-1", at=datetime(2026, 3, 1, 2, 30)):
    store = chain.store_a
    n = len(keys)
    return pa.table({
        "enterprise_id": [chain.hq.enterprise_id] * n, "event_key": keys, "kind": ["page_view"] * n, "name": [""] * n,
        "occurred_at": [at] * n, "received_at": [at] * n, "anonymous_id": [device] * n, "member_id": [member] * n,
        "store_id": [store.id] * n, "channel": ["storefront"] * n, "sku_id": [None] * n,
        "order_id": [None] * n, "amount": [None] * n, "properties": ["{}"] * n,
    })


def test_loading_the_same_events_twice_keeps_them_once(chain, warehouse):
    assert events_load_bulk(_batch(chain, ["a", "b", "b"])) == 2
    assert events_load_bulk(_batch(chain, ["a", "b", "c"])) == 1
    with warehouse_read() as wh:
        events = wh.table("fact_event").to_pyarrow()
    assert sorted(events["event_key"].to_pylist()) == ["a", "b", "c"]
    assert set(events["local_hour"].to_pylist()) == {10}  # 02:30 UTC is 10:30 in Asia/Shanghai
    assert set(events["org_path"].to_pylist()) == {chain.store_a.path}
    assert list(EVENT_INPUT_COLUMNS)[:2] == ["enterprise_id", "event_key"]


def test_a_device_seen_signed_in_is_linked_from_its_earliest_time(chain, warehouse):
    member_id = 4242
    events_load_bulk(_batch(chain, ["x"], member=member_id, at=datetime(2026, 3, 2)))
    events_load_bulk(_batch(chain, ["y"], member=member_id, at=datetime(2026, 3, 1)))
    with warehouse_read() as wh:
        links = wh.table("identity_link").to_pyarrow().to_pylist()
    assert [(l["anonymous_id"], l["member_id"], l["linked_at"]) for l in links] == [
        ("dev-1", member_id, datetime(2026, 3, 1))]
