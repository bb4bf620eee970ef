"""No template prints an amount of money as raw minor units: every money-named value goes through the core
formatting filters (`{% load yundian %}` `|yuan`, `|yuan_input` for an input's value).

Static: every `{{ … }}` and `{% blocktranslate with … %}` expression of every project template whose
variable is named like money (total, amount, price, discount, balance, commission, cost, *_fen …) must carry a money
filter (an attribute no person reads, `data-…`, `name`, `id`, may hold the minor units). The rendered-page half of the check is tests/i18n/test_money_on_pages.py."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "yundian"
TEMPLATES = sorted(p for p in ROOT.glob("*/templates/**/*.html"))

MONEY_NAMES = {
    "total", "subtotal", "amount", "price", "discount", "balance", "commission", "cost", "change", "gmv",
    "paid", "due", "refund", "value",
}
MONEY_SUFFIXES = ("_fen", "_total", "_price", "_amount", "_commission", "_cost", "_discount", "_balance", "_gmv",
                  "_paid", "_due", "_sales")
# names that look like money but count things or hold text (the name is the last part of the variable)
NOT_MONEY = {"total_rows", "total_limit", "total_stock", "low_total", "per_member_limit", "discount_rate",
             "expiring_total"}
MONEY_FILTERS = {"yuan", "yuan_input"}
# (template, expression) pairs that are not money although named so: each says why
NOT_MONEY_HERE = {
    ("inventory/partials/pager.html", "total"): "rows in the list",
    ("inventory/report.html", "total"): "rows in the report",
    ("inventory/purchase_orders.html", "total"): "rows in the list",
    ("catalog/import_detail.html", "total"): "rows in the import",
    ("web/inbox.html", "total"): "things waiting for the person",
    ("members/member_detail.html", "i.value"): "an identity (a phone number, an OpenID)",
    ("inventory/partials/line_cost.html", "row.cost"): "the unit cost in yuan as typed, echoed into its input",
    ("members/member_detail.html", "c.value"): "a coupon's worth as a sentence from promotions.member_pages",
    ("members/account/coupons.html", "coupon.value"): "a sentence ('¥10.00 off') from promotions.member_pages",
    ("guides/partials/leaderboard.html", "r.value"): "text from workbench_views._value_text (¥ for sales)",
    ("guides/share_home.html", "r.price"): "text from workbench_views._price_text (formatted yuan or a range)",
    ("journeys/partials/panel.html", "row.value"): "a step setting as typed (days, a time, a text, a URL)",
    ("journeys/partials/panel.html", "row.value|default_if_none:''"): "a step setting as typed",
    ("journeys/partials/results.html", "tile.value"): "text from journeys.palette (Money.format for revenue/cost)",
}

VARIABLE = re.compile(r"\{\{(.*?)\}\}", re.S)
# attributes no person reads (for scripts, forms and links); `value`, `title`, `placeholder`, `aria-label` are read
HIDDEN_ATTRIBUTE = re.compile(r"\s(?:data-[\w-]+|name|id|class|href|for|action)=\"(?:[^\"{]|\{[{%].*?[}%]\}|\{)*?\"", re.S)
ASSIGNING_TAG = re.compile(r"\{%\s*(?:blocktranslate|blocktrans)\b(.*?)%\}", re.S)
ASSIGNMENT = re.compile(r"(\w+)=((?:\"[^\"]*\"|'[^']*'|[^\s\"'])+)")
FORM_VALUE = re.compile(r"^\w*form\.\w+(\.value)?$")


def _split_filters(expression: str) -> tuple[str, list[str]]:
    parts = re.split(r"\|(?=(?:[^\"']|\"[^\"]*\"|'[^']*')*$)", expression.strip())
    return parts[0].strip(), [p.split(":", 1)[0].strip() for p in parts[1:]]


def is_money_name(variable: str) -> bool:
    if not re.fullmatch(r"[\w.]+", variable) or FORM_VALUE.match(variable):
        return False  # a literal, or what a person typed into a form, echoed back
    name = variable.split(".")[-1]
    if name in NOT_MONEY:
        return False
    if name == "value":  # `value` alone is a loop variable everywhere; `adjustment.value` is money
        return "." in variable and not variable.endswith(".value.value")
    return name in MONEY_NAMES or name.endswith(MONEY_SUFFIXES)


BLOCK = re.compile(r"\{%\s*(blocktranslate|blocktrans)\b(.*?)%\}(.*?)\{%\s*end\1\s*%\}", re.S)


def expressions(text: str) -> list[str]:
    """What the template prints to a person: `{{ x }}` (not inside a `data-…` attribute), blocktranslate's `with`
    assignments, and its placeholders that are not assigned by its `with` (those print context variables as
    they are)."""
    text = HIDDEN_ATTRIBUTE.sub("", text)
    found = []
    for block in BLOCK.finditer(text):
        assigned = {m.group(1) for m in ASSIGNMENT.finditer(block.group(2))}
        found += [m.group(1) for m in VARIABLE.finditer(block.group(3)) if m.group(1).strip() not in assigned]
    found += [m.group(1) for m in VARIABLE.finditer(BLOCK.sub("", text))]
    for tag in ASSIGNING_TAG.finditer(text):
        found += [m.group(2) for m in ASSIGNMENT.finditer(tag.group(1))]
    return found


def raw_money(text: str, template: str) -> list[str]:
    """The money-named expressions of `text` printed without a money filter."""
    bad = []
    for expression in expressions(text):
        variable, filters = _split_filters(expression)
        if not is_money_name(variable) or (template, variable) in NOT_MONEY_HERE:
            continue
        if not MONEY_FILTERS & set(filters):
            bad.append(expression.strip())
    return bad


def _name(path: Path) -> str:
    return str(path.relative_to(path.parents[len(path.relative_to(ROOT).parts) - 3]))


def test_the_scan_sees_every_template_and_catches_raw_amounts():
    assert len(TEMPLATES) > 80
    assert raw_money("{{ order.total }} {{ o.total|floatformat:0 }} {{ p.change }} {{ row.paid_fen|default:0 }}", "x") == [
        "order.total", "o.total|floatformat:0", "p.change", "row.paid_fen|default:0"]
    assert raw_money("{% blocktranslate with total=cart.total n=count %}{{ total }}{% endblocktranslate %}", "x") == [
        "cart.total"]
    assert raw_money("{% blocktranslate %}due {{ due }}{% endblocktranslate %}", "x") == ["due"]
    assert raw_money('<p data-fen="{{ sale.price }}" title="{{ sale.price }}">{{ sale.price|yuan }}</p>', "x") == [
        "sale.price"]
    assert raw_money('<input name="n_{{ d.value }}" value="{{ d.value }}">', "x") == ["d.value"]
    assert raw_money("{{ order.total|yuan }} {{ l.unit_cost|yuan:currency }} {{ s.price|yuan_input }} {{ value }}"
                     "{{ form.price.value }} {{ page.total_rows }} {{ p.discount_rate }}", "x") == []


@pytest.mark.parametrize("path", TEMPLATES, ids=_name)
def test_no_template_prints_a_raw_minor_unit_amount(path):
    assert raw_money(path.read_text(encoding="utf-8"), _name(path)) == []
