"""Charts on console pages: a small JSON spec built here, drawn by ECharts in the browser, a table when it cannot be.

How a page draws a chart (any context; the template only needs `{% load charts %}`):

    # view / selector
    from yundian.core import charts
    spec = charts.line(_("Net sales by day"), x=["12-01", "12-02"], unit=charts.MONEY,
                       series=[charts.series(_("This month"), [120000, 98050]),
                               charts.series(_("Last month"), [110000, 101000], dashed=True)])
    # template
    {% load charts %}{% chart spec %}            {# optional: {% chart spec height=320 testid="gmv-trend" %} #}

Builders (every label is already translated: pass gettext strings; values are plain numbers, money in minor units):
    line(title, x=[...], series=[series(name, values, dashed=False)], unit=COUNT|MONEY|PERCENT, currency="CNY")
    bar(title, x=[...], series=[...], unit=..., horizontal=False, stacked=False)
    pie(title, items=[(name, value), ...], unit=...)
    heatmap(title, x=[...], y=[...], cells=[(x_index, y_index, value), ...], unit=...)
    treemap(title, root=node(name, value, children=[node(...)], url=None), unit=...)   (a treemap)
    tree(title, root=node(...), unit=...)                                          (a top-down tree diagram)

`{% chart spec %}` renders a <figure class="chart"> holding the spec in `data-chart` (JSON), a box the chart is drawn
in, and the same figures as a table (`chart_table(spec)`: money through Money.format, "¥1,234.50"). The script
`core/charts.js` (loaded by the console's base template) loads ECharts from `static/vendor/echarts/echarts.min.js`
(installed from the npm registry by scripts/_env.sh, never committed) on the first page that has a chart, draws every
`[data-chart]` figure (also those an htmx swap brings in), formats money with the currency's symbol and minor units,
uses ECharts' Chinese or English words from <html lang>, follows the window's size (a 375 px phone gets a shorter
chart, the legend scrolls) and folds the table into a "Show as table" details element. When the library is missing
or fails to load, the table simply stays visible: a page never breaks for want of a chart. A node with a `url` is a
link: clicking it in the chart opens it (the table links it too).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .money import MINOR_UNITS, SYMBOLS, Money

COUNT = "count"
MONEY = "money"
PERCENT = "percent"
UNITS = (COUNT, MONEY, PERCENT)
KINDS = ("line", "bar", "pie", "heatmap", "treemap", "tree")


def series(name: str, values: Sequence[int | float | None], *, dashed: bool = False) -> dict:
    """One named series of a line or bar chart (None: no value that day)."""
    return {"name": str(name), "data": [_number(v) for v in values], "dashed": dashed}


def node(name: str, value: int | float | None, children: Iterable[dict] = (), *, url: str | None = None) -> dict:
    """One node of a tree or treemap: a name, its figure, its children and (optional) the page it opens."""
    out = {"name": str(name), "value": _number(value)}
    kids = list(children)
    if kids:
        out["children"] = kids
    if url:
        out["url"] = url
    return out


def _number(value):
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return int(value) if float(value).is_integer() else float(value)


def _base(kind: str, title: str, unit: str, currency: str) -> dict:
    if kind not in KINDS:
        raise ValueError(f"unknown chart kind {kind!r}")
    if unit not in UNITS:
        raise ValueError(f"unknown chart unit {unit!r}")
    spec = {"type": kind, "title": str(title), "unit": unit}
    if unit == MONEY:
        spec["currency"] = {"code": currency, "symbol": SYMBOLS[currency], "minor": MINOR_UNITS[currency]}
    return spec


def line(title: str, *, x: Sequence[str], series: Sequence[dict], unit: str = COUNT, currency: str = "CNY") -> dict:
    """A line chart over the categories `x` (dates, hours): one line per series."""
    return {**_base("line", title, unit, currency), "x": [str(v) for v in x], "series": list(series)}


def bar(title: str, *, x: Sequence[str], series: Sequence[dict], unit: str = COUNT, currency: str = "CNY",
        horizontal: bool = False, stacked: bool = False) -> dict:
    """A bar chart (horizontal for rankings: the first category on top)."""
    return {**_base("bar", title, unit, currency), "x": [str(v) for v in x], "series": list(series),
            "horizontal": horizontal, "stacked": stacked}


def pie(title: str, *, items: Iterable[tuple[str, int | float]], unit: str = COUNT, currency: str = "CNY") -> dict:
    """A ring of shares: (name, value) pairs."""
    return {**_base("pie", title, unit, currency),
            "items": [{"name": str(name), "value": _number(value)} for name, value in items]}


def heatmap(title: str, *, x: Sequence[str], y: Sequence[str], cells: Iterable[tuple[int, int, int | float]],
            unit: str = COUNT, currency: str = "CNY") -> dict:
    """A grid coloured by value: cells are (x index, y index, value)."""
    return {**_base("heatmap", title, unit, currency), "x": [str(v) for v in x], "y": [str(v) for v in y],
            "cells": [[int(i), int(j), _number(v)] for i, j, v in cells]}


def treemap(title: str, *, root: dict, unit: str = COUNT, currency: str = "CNY") -> dict:
    """Nested rectangles sized by value (a node() tree); a node with a url opens it on click."""
    return {**_base("treemap", title, unit, currency), "root": root}


def tree(title: str, *, root: dict, unit: str = COUNT, currency: str = "CNY") -> dict:
    """A top-down tree diagram of node()s, each labelled with its figure (a GMV tree)."""
    return {**_base("tree", title, unit, currency), "root": root}


def format_value(spec: dict, value) -> str:
    """A figure of the chart as its table shows it: money "¥1,234.50", a percent "12.5%", a count "1,234"."""
    if value is None:
        return "–"
    unit = spec.get("unit", COUNT)
    if unit == MONEY:
        return Money(int(round(value)), spec["currency"]["code"]).format()
    if unit == PERCENT:
        return f"{value:,.1f}%"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def _walk(root: dict, depth: int = 0):
    yield depth, root
    for child in root.get("children", ()):
        yield from _walk(child, depth + 1)


def chart_table(spec: dict) -> tuple[list[str], list[list[str | dict]]]:
    """The chart's figures as a table: (header, rows), every cell already text (a linked cell is {text, url})."""
    kind = spec["type"]
    if kind in ("line", "bar"):
        head = [""] + [s["name"] for s in spec["series"]]
        rows = [[label] + [format_value(spec, s["data"][i] if i < len(s["data"]) else None) for s in spec["series"]]
                for i, label in enumerate(spec["x"])]
        return head, rows
    if kind == "pie":
        return ["", spec["title"]], [[item["name"], format_value(spec, item["value"])] for item in spec["items"]]
    if kind == "heatmap":
        grid = {(i, j): v for i, j, v in spec["cells"]}
        head = [""] + spec["x"]
        rows = [[label] + [format_value(spec, grid.get((i, j))) for i in range(len(spec["x"]))]
                for j, label in enumerate(spec["y"])]
        return head, rows
    rows = []
    for depth, item in _walk(spec["root"]):
        name = "\u2003" * depth + item["name"]
        rows.append([{"text": name, "url": item["url"]} if item.get("url") else name,
                     format_value(spec, item.get("value"))])
    return ["", spec["title"]], rows


def _cell(tag: str, value, numeric: bool = False) -> SafeString:
    attrs = mark_safe(' class="num"' if numeric else "")
    if isinstance(value, dict):
        return format_html('<{0}{1}><a href="{2}">{3}</a></{0}>', mark_safe(tag), attrs, value["url"], value["text"])
    return format_html("<{0}{1}>{2}</{0}>", mark_safe(tag), attrs, value)


def render_chart(spec: dict, *, height: int | None = None, testid: str = "") -> SafeString:
    """The figure `{% chart %}` renders: the spec as JSON, the drawing box and the table. data-chart-state is
    "pending" until the script draws it ("drawn") or gives up ("table"); the table shows unless drawn."""
    head, rows = chart_table(spec)
    header = format_html_join("", "{}", ((_cell("th", h, n > 0),) for n, h in enumerate(head)))
    body = format_html_join("", "<tr>{}</tr>", ((mark_safe("".join(
        _cell("th" if n == 0 else "td", value, n > 0) for n, value in enumerate(row))),) for row in rows))
    return format_html(
        '<figure class="chart" data-chart="{spec}" data-chart-state="pending"{height}{testid}>'
        '<figcaption>{title}</figcaption><div class="chart-box" role="img" aria-label="{title}"></div>'
        '<details class="chart-table" open><summary>{show}</summary><div class="table-wrap">'
        '<table class="table"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div></details></figure>',
        spec=json.dumps(spec, ensure_ascii=False, separators=(",", ":")),
        height=format_html(' data-chart-height="{}"', int(height)) if height else "",
        testid=format_html(' data-testid="{}"', testid) if testid else "",
        title=spec["title"], show=_("Show as table"), header=header, body=body)
