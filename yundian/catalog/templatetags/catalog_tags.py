"""Template helpers for catalogue pages: integer fen shown as money."""
from django import template

from yundian.core.money import Money

register = template.Library()


@register.filter
def fen(value, currency: str = "CNY") -> str:
    """1290 -> "¥12.90" (the enterprise's currency when given)."""
    if value is None or value == "":
        return ""
    return Money(int(value), currency or "CNY").format()


@register.filter
def yuan(value, currency: str = "CNY") -> str:
    """1290 -> "12.90": the plain number a price input field shows."""
    if value is None or value == "":
        return ""
    from yundian.core.money import MINOR_UNITS

    places = MINOR_UNITS.get(currency or "CNY", 2)
    whole, part = divmod(int(value), 10**places) if places else (int(value), 0)
    return f"{whole}.{part:0{places}d}" if places else str(whole)
