"""Identity stitching (One-ID) over the warehouse: who each behaviour event belongs to.

Events are never rewritten to stitch them. `events_resolved` works out the person at read time from three tables:
- the event's own member (signed in, or identified at the till), else
- the member its device (anonymous_id) was linked to: the last link at or before the event, else the first link
  after it, so a shopper's anonymous browsing before signing in is attributed to them retroactively, and a member
  using two devices gets the events of both;
- then mapped through dim_member.canonical_member_id (the surviving member after a merge, the member itself
  otherwise), so a merge re-attributes the loser's events to the survivor and an unmerge undoes it, by the sync
  updating one dim_member row.
It is a pure Ibis function (no SQL text, nothing engine-specific): the same expression runs on DuckDB and Spark.

`members_erased` is the writing side, for the sync: an erased member's events and links are deleted.
"""
from __future__ import annotations

import ibis
import pyarrow as pa

from yundian.core.warehouse import run


def events_resolved(events: ibis.Table, links: ibis.Table, members: ibis.Table) -> ibis.Table:
    """`events` (fact_event) with `person_id` added: the canonical member the event belongs to, or null."""
    anonymous = events.filter(events.member_id.isnull() & (events.anonymous_id != "")).select(
        "enterprise_id", "event_key", "anonymous_id", "occurred_at")
    candidates = anonymous.join(
        links.select("enterprise_id", "anonymous_id", link_member=links.member_id, linked_at=links.linked_at),
        ["enterprise_id", "anonymous_id"])
    after = (candidates.linked_at > candidates.occurred_at).cast("int8")
    before_at = ibis.ifelse(candidates.linked_at > candidates.occurred_at, ibis.null("timestamp"),
                            candidates.linked_at)
    ranked = candidates.mutate(_after=after, _before_at=before_at)
    order = ibis.window(group_by=[ranked.enterprise_id, ranked.event_key],
                        order_by=[ranked._after, ibis.desc(ranked._before_at), ranked.linked_at, ranked.link_member])
    chosen = (ranked.mutate(_rank=ibis.row_number().over(order))
              .filter(lambda t: t._rank == 0)
              .select("enterprise_id", "event_key", "link_member"))
    columns = list(events.columns)
    joined = events.left_join(chosen, ["enterprise_id", "event_key"]).select(
        *columns, "link_member")
    joined = joined.mutate(_resolved=joined.member_id.fill_null(joined.link_member))
    canonical = members.select(_member=members.member_id, _canonical=members.canonical_member_id)
    out = joined.left_join(canonical, joined._resolved == canonical._member)
    return out.select(*columns, person_id=out._canonical.fill_null(out._resolved))


def members_erased(con, member_ids: list[int]) -> int:
    """Inside the caller's open DuckDB transaction: delete everything behavioural about these members: their own
    events, the anonymous events of devices linked to them, and the links. Also right for a member who withdrew
    tracking consent. Returns the events deleted."""
    if not member_ids:
        return 0
    con.register("_erased", pa.table({"member_id": pa.array(member_ids, type=pa.int64())}))
    try:
        before = run(con, "SELECT count(*) FROM fact_event")[0][0]
        run(con, "DELETE FROM fact_event WHERE member_id IN (SELECT member_id FROM _erased)")
        run(con, "DELETE FROM fact_event e WHERE e.member_id IS NULL AND EXISTS (SELECT 1 FROM identity_link l "
                 "WHERE l.enterprise_id = e.enterprise_id AND l.anonymous_id = e.anonymous_id "
                 "AND l.member_id IN (SELECT member_id FROM _erased))")
        run(con, "DELETE FROM identity_link WHERE member_id IN (SELECT member_id FROM _erased)")
        return before - run(con, "SELECT count(*) FROM fact_event")[0][0]
    finally:
        con.unregister("_erased")
