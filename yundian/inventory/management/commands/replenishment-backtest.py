"""`yundian replenishment-backtest` (the hyphenated name of replenishment_backtest)."""
from .replenishment_backtest import Command  # noqa: F401
