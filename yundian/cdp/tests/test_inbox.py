from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.utils import timezone

from yundian.cdp import inbox
from yundian.cdp.inbox import SOURCE, inbox_flush, inbox_flush_now, inbox_purge
from yundian.cdp.models import EventInbox
from yundian.cdp.services import events_accept
from yundian.cdp.tasks import purge_event_inbox
from yundian.core.scheduler import SCHEDULE
from yundian.core.warehouse import GAP_GRACE
from yundian.core.warehouse import state_get, warehouse_read, warehouse_write
from yundian.members import services as member_services
from yundian.members.tests.factories import register

pytestmark = pytest.mark.django_db


def _accept(chain, keys, **fields):
    events = [{"event_id": k, "kind": "page_view", "anonymous_id": "dev-1", "store_id": chain.store_a.id, **fields}
              for k in keys]
    return events_accept(actor=chain.admin, store=None, sent_at=None, events=events)


def _warehouse():
    with warehouse_read() as wh:
        events = wh.table("fact_event").order_by("event_key").to_pyarrow().to_pylist()
        links = wh.table("identity_link").to_pyarrow().to_pylist()
    with warehouse_write() as con:
        state = state_get(con, SOURCE)
    return events, links, state


def test_flushing_moves_the_inbox_into_the_warehouse_and_a_second_flush_changes_nothing(chain, warehouse):
    member = register(chain)
    _accept(chain, ["a", "b"])
    _accept(chain, ["c"], member_id=member.pk)
    assert inbox_flush_now() == 3
    first = _warehouse()
    assert inbox_flush_now() == 0
    second = _warehouse()
    events, links, state = second
    assert [(e["event_key"], e["member_id"], e["org_path"]) for e in events] == [
        ("a", None, chain.store_a.path), ("b", None, chain.store_a.path), ("c", member.pk, chain.store_a.path)]
    assert [(l["anonymous_id"], l["member_id"]) for l in links] == [("dev-1", member.pk)]
    assert (state.watermark, state.gaps, state.rows) == (EventInbox.objects.order_by("id").last().id, [], 3)
    assert first[:2] == second[:2]


def test_a_flush_that_dies_mid_batch_leaves_the_warehouse_as_it_was_and_the_next_run_catches_up(chain, warehouse,
                                                                                                  monkeypatch):
    _accept(chain, ["a", "b", "c", "d", "e"])
    real_write, calls = inbox._write, []

    def dying_write(con, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real_write(con, rows)

    monkeypatch.setattr(inbox, "_write", dying_write)
    with pytest.raises(RuntimeError), warehouse_write() as con:
        con.begin()
        try:
            inbox_flush(con, chunk=2)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    assert calls == [2, 2]
    events, _links, state = _warehouse()
    assert (events, state.watermark, state.rows) == ([], 0, 0)
    monkeypatch.setattr(inbox, "_write", real_write)
    assert inbox_flush_now() == 5
    assert [e["event_key"] for e in _warehouse()[0]] == ["a", "b", "c", "d", "e"]


def test_an_id_that_commits_late_is_picked_up_from_its_gap_and_a_gap_is_given_up_after_the_grace(chain, warehouse):
    _accept(chain, ["a", "b", "c"])
    a, b, c = EventInbox.objects.order_by("id")
    held = {f.attname: getattr(b, f.attname) for f in EventInbox._meta.concrete_fields}
    b.delete()  # b's transaction has not committed yet when the flush runs
    assert inbox_flush_now() == 2
    assert _warehouse()[2].gaps[0][:2] == [held["id"], held["id"]]
    EventInbox.objects.create(**held)  # now it commits, with its old id
    assert inbox_flush_now() == 1
    events, _links, state = _warehouse()
    assert ([e["event_key"] for e in events], state.gaps, state.watermark) == (["a", "b", "c"], [], c.id)

    _accept(chain, ["d", "e"])
    d, e = EventInbox.objects.filter(event_key__in=["d", "e"]).order_by("id")
    d.delete()  # rolled back for good
    inbox_flush_now()
    later = timezone.now() + GAP_GRACE + timedelta(minutes=1)
    with warehouse_write() as con:
        con.begin()
        inbox_flush(con, now=later)
        con.commit()
    assert _warehouse()[2].gaps == []


def test_events_of_a_member_who_withdrew_tracking_after_they_were_accepted_are_not_moved(chain, warehouse):
    member = register(chain)
    _accept(chain, ["a"], member_id=member.pk)
    _accept(chain, ["b"])
    member_services.consent_set(actor=chain.manager_a, member_id=member.pk, channel="tracking", granted=False)
    assert inbox_flush_now() == 1
    events, links, _state = _warehouse()
    assert ([e["event_key"] for e in events], links) == (["b"], [])


def test_the_nightly_purge_forgets_only_old_rows_already_in_the_warehouse(chain, warehouse):
    _accept(chain, ["old", "old-late", "recent"])
    old, late, recent = EventInbox.objects.order_by("id")
    eight_days_ago = timezone.now() - timedelta(days=8)
    EventInbox.objects.filter(pk__in=[old.pk, late.pk]).update(received_at=eight_days_ago)
    held = {f.attname: getattr(late, f.attname) for f in EventInbox._meta.concrete_fields}
    late.delete()
    inbox_flush_now()  # "old-late" is an open gap now
    EventInbox.objects.create(**held)
    _accept(chain, ["unsynced"])
    EventInbox.objects.filter(event_key="unsynced").update(received_at=eight_days_ago)
    assert inbox_purge() == 1
    assert sorted(EventInbox.objects.values_list("event_key", flat=True)) == ["old-late", "recent", "unsynced"]
    assert purge_event_inbox.call() == 0
    assert ("yundian.cdp.tasks.purge_event_inbox", "daily", "04:30") in SCHEDULE


def test_occurred_and_received_times_reach_the_warehouse_in_utc(chain, warehouse):
    at = datetime(2026, 3, 1, 2, 30, tzinfo=dt_timezone.utc)
    events_accept(actor=chain.admin, store=None, sent_at=None, now=at, events=[
        {"event_id": "a", "kind": "page_view", "anonymous_id": "d", "store_id": chain.store_a.id}])
    EventInbox.objects.update(received_at=timezone.now())
    inbox_flush_now()
    event = _warehouse()[0][0]
    assert (event["occurred_at"], event["local_hour"]) == (datetime(2026, 3, 1, 2, 30), 10)


def test_withdrawing_tracking_consent_removes_what_the_warehouse_already_holds(chain, warehouse):
    member, other = register(chain), register(chain)
    _accept(chain, ["before"])                                  # anonymous browsing on the member's device
    _accept(chain, ["signed-in"], member_id=member.pk)
    _accept(chain, ["other"], member_id=other.pk, anonymous_id="dev-2")
    assert inbox_flush_now() == 3
    member_services.consent_set(actor=chain.manager_a, member_id=member.pk, channel="tracking", granted=False)
    assert inbox_flush_now() == 0
    events, links, state = _warehouse()
    assert ([e["event_key"] for e in events], [l["member_id"] for l in links]) == (["other"], [other.pk])
    assert state.ts_watermark is not None
    assert inbox_flush_now() == 0
    assert [e["event_key"] for e in _warehouse()[0]] == ["other"]
