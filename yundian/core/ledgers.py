"""The registry behind `yundian check-ledgers`: every ledger proves sum(entries) == balance for every row.

A context registers a check at import time of its `ledgers.py` module (listed in LEDGER_MODULES):

    from yundian.core.ledgers import register_ledger_check

    @register_ledger_check("stock")
    def check_stock() -> Iterator[LedgerMismatch]:
        ...yield one LedgerMismatch per balance row whose ledger sum differs...

Checks compute the ledger sums in the database (one GROUP BY), compare with the balance table and also
report ledger groups that have no balance row.
"""
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import import_module

from django.apps import apps


@dataclass(frozen=True)
class LedgerMismatch:
    ledger: str
    key: str
    ledger_sum: int
    balance: int | None

    def __str__(self) -> str:
        return f"{self.ledger} {self.key}: ledger sum {self.ledger_sum} != balance {self.balance}"


LedgerCheck = Callable[[], Iterator[LedgerMismatch]]
_CHECKS: dict[str, LedgerCheck] = {}


def register_ledger_check(name: str) -> Callable[[LedgerCheck], LedgerCheck]:
    def decorator(fn: LedgerCheck) -> LedgerCheck:
        _CHECKS[name] = fn
        return fn

    return decorator


def ledger_checks() -> dict[str, LedgerCheck]:
    """All registered checks; importing each installed yundian app's `ledgers` module registers its checks."""
    for config in apps.get_app_configs():
        if config.name.startswith("yundian."):
            try:
                import_module(f"{config.name}.ledgers")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.ledgers":
                    raise
    return dict(sorted(_CHECKS.items()))


def compare_sums(ledger: str, sums: dict, balances: dict) -> Iterator[LedgerMismatch]:
    """Yield mismatches between {key: ledger sum} and {key: balance}; a missing side counts as 0 / None."""
    for key in sorted(set(sums) | set(balances), key=str):
        total = int(sums.get(key) or 0)
        balance = balances.get(key)
        if balance is None and total == 0:
            continue
        if balance is None or int(balance) != total:
            yield LedgerMismatch(ledger=ledger, key=str(key), ledger_sum=total, balance=None if balance is None else int(balance))
