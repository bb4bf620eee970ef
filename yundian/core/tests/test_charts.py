"""The chart helper: specs from the builders, the table every chart carries (money as ¥, links kept), escaping."""
import json
import re

import pytest
from django.template import Context, Template
from django.utils import translation

from yundian.core import charts


def _spec_of(html: str) -> dict:
    import html as html_lib

    return json.loads(html_lib.unescape(re.search(r'data-chart="([^"]*)"', html).group(1)))


def test_a_money_line_chart_carries_its_currency_and_tabulates_in_yuan():
    spec = charts.line("Net sales", x=["12-01", "12-02"], unit=charts.MONEY,
                       series=[charts.series("This week", [123450, None]), charts.series("Last week", [100, 5], dashed=True)])
    assert spec["currency"] == {"code": "CNY", "symbol": "¥", "minor": 2}
    assert spec["series"][1] == {"name": "Last week", "data": [100, 5], "dashed": True}
    head, rows = charts.chart_table(spec)
    assert head == ["", "This week", "Last week"]
    assert rows == [["12-01", "¥1,234.50", "¥1.00"], ["12-02", "–", "¥0.05"]]


def test_pie_heatmap_and_tree_tables():
    pie = charts.pie("Channels", items=[("POS", 3), ("Storefront", 1)])
    assert charts.chart_table(pie) == (["", "Channels"], [["POS", "3"], ["Storefront", "1"]])
    heat = charts.heatmap("Orders by hour", x=["9", "10"], y=["Mon", "Tue"], cells=[(0, 0, 2), (1, 1, 5)])
    assert charts.chart_table(heat) == (["", "9", "10"], [["Mon", "2", "–"], ["Tue", "–", "5"]])
    root = charts.node("Chain", 300, [charts.node("East", 200, url="/r/1/"), charts.node("West", 100)])
    head, rows = charts.chart_table(charts.tree("GMV", root=root, unit=charts.MONEY))
    assert rows == [["Chain", "¥3.00"], [{"text": "\u2003East", "url": "/r/1/"}, "¥2.00"], ["\u2003West", "¥1.00"]]
    assert charts.treemap("GMV", root=root)["type"] == "treemap"
    assert charts.format_value(charts.bar("x", x=[], series=[], unit=charts.PERCENT), 12.345) == "12.3%"


def test_unknown_kind_or_unit_is_refused():
    with pytest.raises(ValueError):
        charts.line("x", x=[], series=[], unit="kg")
    with pytest.raises(ValueError):
        charts._base("radar", "x", charts.COUNT, "CNY")


def test_the_template_tag_renders_spec_box_and_table_escaped():
    spec = charts.bar('<script>alert("x")</script>', x=["a&b"], series=[charts.series("s", [7])], horizontal=True)
    with translation.override("zh-hans"):
        html = Template("{% load charts %}{% chart spec height=320 testid='t' %}").render(Context({"spec": spec}))
    assert "<script>" not in html
    assert 'data-chart-height="320"' in html and 'data-testid="t"' in html
    assert 'data-chart-state="pending"' in html and "以表格查看" in html
    assert "<th>a&amp;b</th><td class=\"num\">7</td>" in html
    assert _spec_of(html) == spec
    assert Template("{% load charts %}{% chart spec %}").render(Context({"spec": None})) == ""
