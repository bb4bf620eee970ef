"""The commission ledger check: for every guide, sum(CommissionEntry.amount) == CommissionBalance.amount."""
from collections.abc import Iterator

from django.db.models import Sum

from yundian.core.ledgers import LedgerMismatch, compare_sums, register_ledger_check

from .models import CommissionBalance, CommissionEntry


@register_ledger_check("commission")
def check_commission() -> Iterator[LedgerMismatch]:
    sums = dict(CommissionEntry.objects.values("guide_id").annotate(s=Sum("amount")).values_list("guide_id", "s"))
    balances = dict(CommissionBalance.objects.values_list("guide_id", "amount"))
    yield from compare_sums("commission", sums, balances)
