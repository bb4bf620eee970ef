"""Who holds which tag, in the warehouse (`dim_member_tag`), kept from the TagChange history.

The analytics sync reads TagChange rows by id (insert-only, so an id watermark sees every change) and calls
`member_tags_write` with them: the (member, tag) pairs they name are deleted from dim_member_tag and the pairs
still held in MemberTag are inserted again, so reading a change twice, or out of order, leaves the same rows.
"""
from __future__ import annotations

import pyarrow as pa

from yundian.core.warehouse import naive_utc, run

from .models import MemberTag, TagChange
from .warehouse_tables import DIM_MEMBER_TAG


def member_tags_write(con, change_ids: list[int]) -> int:
    """Replace the warehouse rows of the (member, tag) pairs the changes name with what MemberTag holds now."""
    pairs = sorted(set(TagChange.objects.filter(id__in=change_ids).values_list("member_id", "tag_id")))
    if not pairs:
        return 0
    members = sorted({m for m, _ in pairs})
    tags = sorted({t for _, t in pairs})
    wanted = set(pairs)
    held = [row for row in MemberTag.objects.filter(member_id__in=members, tag_id__in=tags).values_list(
        "enterprise_id", "member_id", "tag_id", "since") if (row[1], row[2]) in wanted]
    con.register("_pairs", pa.table({"member_id": pa.array([m for m, _ in pairs], pa.int64()),
                                     "tag_id": pa.array([t for _, t in pairs], pa.int64())}))
    try:
        run(con, 'DELETE FROM "dim_member_tag" t WHERE EXISTS (SELECT 1 FROM _pairs p '
                 'WHERE p.member_id = t.member_id AND p.tag_id = t.tag_id)')
    finally:
        con.unregister("_pairs")
    batch = DIM_MEMBER_TAG.arrow({"enterprise_id": [r[0] for r in held], "member_id": [r[1] for r in held],
                                  "tag_id": [r[2] for r in held], "since": [naive_utc(r[3]) for r in held]})
    if batch.num_rows:
        con.register("_batch", batch)
        try:
            run(con, 'INSERT INTO "dim_member_tag" SELECT * FROM _batch')
        finally:
            con.unregister("_batch")
    return len(change_ids)


def member_tags_erase(con, member_ids: list[int]) -> None:
    """Inside the caller's DuckDB transaction: an erased member's tags leave the warehouse too (their OLTP tag rows
    and history are deleted by cdp.tags.member_profiles_erase, so no tag change would ever name them again)."""
    if not member_ids:
        return
    con.register("_erased_tags", pa.table({"member_id": pa.array(member_ids, type=pa.int64())}))
    try:
        run(con, 'DELETE FROM "dim_member_tag" WHERE member_id IN (SELECT member_id FROM _erased_tags)')
    finally:
        con.unregister("_erased_tags")
