"""Ledger checks for `yundian check-ledgers`: points and stored value sum to their balances; points lots agree."""
from collections.abc import Iterator

from django.db.models import Sum

from yundian.core.ledgers import LedgerMismatch, compare_sums, register_ledger_check

from .models import PointsBalance, PointsEntry, PointsLot, StoredValueBalance, StoredValueEntry


@register_ledger_check("points")
def check_points() -> Iterator[LedgerMismatch]:
    """sum(PointsEntry.points) == PointsBalance.points for every member."""
    sums = dict(PointsEntry.objects.values("member_id").annotate(s=Sum("points")).values_list("member_id", "s"))
    balances = dict(PointsBalance.objects.values_list("member_id", "points"))
    yield from compare_sums("points", sums, balances)


@register_ledger_check("points_lots")
def check_points_lots() -> Iterator[LedgerMismatch]:
    """sum(PointsLot.remaining) == PointsBalance.points for every member (FIFO lots cover the balance exactly)."""
    sums = dict(PointsLot.objects.values("member_id").annotate(s=Sum("remaining")).values_list("member_id", "s"))
    balances = dict(PointsBalance.objects.values_list("member_id", "points"))
    yield from compare_sums("points_lots", sums, balances)


@register_ledger_check("stored_value")
def check_stored_value() -> Iterator[LedgerMismatch]:
    """Principal and bonus each sum to their balance column, for every member (keys "<member>:principal|bonus")."""
    rows = StoredValueEntry.objects.values("member_id").annotate(p=Sum("principal"), b=Sum("bonus"))
    sums = {}
    for row in rows:
        sums[f"{row['member_id']}:principal"] = row["p"]
        sums[f"{row['member_id']}:bonus"] = row["b"]
    balances = {}
    for member_id, principal, bonus in StoredValueBalance.objects.values_list("member_id", "principal", "bonus"):
        balances[f"{member_id}:principal"] = principal
        balances[f"{member_id}:bonus"] = bonus
    yield from compare_sums("stored_value", sums, balances)
