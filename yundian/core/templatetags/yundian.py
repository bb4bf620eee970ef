"""The one formatting path for pages, exports and receipts: `{% load yundian %}`.

- `{{ order.total|yuan }}` -> "¥1,234.50" (integer fen or a Money; `|yuan:currency` for another currency),
  negative amounts "-¥12.30"; nothing for None.
- `{{ sku.base_price|yuan_input }}` -> "1234.50": the plain number a price input field shows.
- `{{ order.placed_at|when }}` -> "2026-12-07 09:30" in the active time zone, `|when:"seconds"` with seconds,
  `|when:"date"` the day only; `|when:zone` in another zone (a zone name or an object with `time_zone`).
- `{{ cell|cell }}` -> a report cell: a Money as "¥…", None as "–", anything else as itself.
"""
from django import template

from yundian.core.money import Money, as_money
from yundian.core.when import FORMATS, format_when

register = template.Library()

@register.filter
def yuan(value, currency: str = "CNY") -> str:
    """1290 -> "¥12.90"; Money(-1230) -> "-¥12.30"; None -> ""."""
    money = as_money(value, currency)
    return "" if money is None else money.format()


@register.filter
def yuan_input(value, currency: str = "CNY") -> str:
    """1290 -> "12.90": the value of a price input field."""
    money = as_money(value, currency)
    return "" if money is None else money.plain()


@register.filter
def when(value, arg=None) -> str:
    """`|when`, `|when:"seconds"`, `|when:"date"`, `|when:"time"` or `|when:store_profile` (its time zone)."""
    if isinstance(arg, str) and arg in FORMATS:
        return format_when(value, arg)
    return format_when(value, "minutes", arg)


@register.filter
def cell(value) -> str:
    """One cell of a report table: money as "¥…", nothing as "–"."""
    if value is None:
        return "–"
    if isinstance(value, Money):
        return value.format()
    return value


@register.filter
def audit_action(action: str) -> str:
    """An audit action code as words ("Approved")."""
    from yundian.core.audit_display import action_label

    return action_label(action or "")


@register.filter
def audit_record(target_type: str) -> str:
    """An audit target type as the model's translated name."""
    from yundian.core.audit_display import record_label

    return record_label(target_type or "")


@register.filter
def audit_changes(entry) -> list:
    """An audit entry's before/after as rows of field label / before / after."""
    from yundian.core.audit_display import change_rows

    return change_rows(entry.target_type, entry.before, entry.after)
