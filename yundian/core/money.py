"""Money as integer minor units (fen) plus an ISO currency. Never floats."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from .errors import ValidationFailed

MINOR_UNITS = {"CNY": 2, "HKD": 2, "USD": 2, "EUR": 2, "JPY": 0, "KRW": 0}
SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "JPY": "¥", "KRW": "₩"}
_AMOUNT_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # ASCII digits only; used with fullmatch
MAX_AMOUNT_TEXT = 40


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units
    currency: str = "CNY"

    def __post_init__(self):
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        if self.currency not in MINOR_UNITS:
            raise ValidationFailed(_("Unknown currency."), code="unknown_currency", details={"currency": self.currency})

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ValidationFailed(_("Currencies differ."), code="currency_mismatch")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int):
            raise TypeError("multiply Money by an int; use .scale() for rates")
        return Money(self.amount * factor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def scale(self, rate: Decimal | str) -> Money:
        """Multiply by a decimal rate (e.g. a discount of 0.85), rounding half up to a minor unit."""
        if isinstance(rate, float):
            raise TypeError("pass rates as Decimal or str, never float")
        try:
            factor = Decimal(rate)
        except (InvalidOperation, TypeError, ValueError):
            raise ValidationFailed(_("Not a valid rate."), code="invalid_rate")
        if not factor.is_finite():
            raise ValidationFailed(_("Not a valid rate."), code="invalid_rate")
        value = (Decimal(self.amount) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return Money(int(value), self.currency)

    def allocate(self, weights: list[int]) -> list[Money]:
        """Split into parts proportional to weights; the parts always add up to the whole (largest remainder)."""
        if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
            raise ValidationFailed(_("Allocation weights must be non-negative and not all zero."), code="bad_weights")
        total = sum(weights)
        shares = [self.amount * w // total for w in weights]
        remainders = sorted(range(len(weights)), key=lambda i: -(self.amount * weights[i] % total))
        for i in remainders[: self.amount - sum(shares)]:
            shares[i] += 1
        return [Money(s, self.currency) for s in shares]

    @classmethod
    def parse(cls, text: str | int | Decimal, currency: str = "CNY") -> Money:
        """'12.30' -> Money(1230). Rejects more decimals than the currency has and anything not a number."""
        raw = str(text).strip()
        if len(raw) > MAX_AMOUNT_TEXT or not _AMOUNT_RE.fullmatch(raw):
            raise ValidationFailed(_("Not an amount of money."), code="invalid_amount", details={"value": raw[:40]})
        places = MINOR_UNITS.get(currency)
        if places is None:
            raise ValidationFailed(_("Unknown currency."), code="unknown_currency", details={"currency": currency})
        try:
            value = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - guarded by the regex
            raise ValidationFailed(_("Not an amount of money."), code="invalid_amount")
        scaled = value * (10**places)
        if scaled != scaled.to_integral_value():
            raise ValidationFailed(_("Too many decimal places for this currency."), code="too_many_decimals")
        return cls(int(scaled), currency)

    def format(self) -> str:
        """The one way an amount is shown to a person: "¥1,234.50", "-¥12.30" (sign before the currency symbol)."""
        places = MINOR_UNITS[self.currency]
        sign = "-" if self.amount < 0 else ""
        whole, part = divmod(abs(self.amount), 10**places) if places else (abs(self.amount), 0)
        return f"{sign}{SYMBOLS[self.currency]}{whole:,}" + (f".{part:0{places}d}" if places else "")

    def decimal(self) -> Decimal:
        """The amount in major units as an exact Decimal (1234.50), for exports and spreadsheets."""
        return Decimal(self.amount).scaleb(-MINOR_UNITS[self.currency]).quantize(
            Decimal(1).scaleb(-MINOR_UNITS[self.currency]))

    def plain(self) -> str:
        """The amount as a form field shows it: "1234.50", no symbol, no separators."""
        return str(self.decimal())

    def __str__(self) -> str:
        return self.format()


def as_money(value, currency: str | None = "CNY") -> Money | None:
    """What a page, export or receipt holds (integer minor units, a Money, or nothing) as a Money; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, Money):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise TypeError(f"not an amount of minor units: {value!r}")
    return Money(int(value), currency or "CNY")
