"""`{% load charts %}{% chart spec %}`: a chart built with `yundian.core.charts` (see its docstring), drawn by
ECharts in the browser, its table shown when it cannot be. Options: `height=320` (px on a wide screen),
`testid="gmv-trend"` (a data-testid for tests)."""
from django import template

from yundian.core.charts import render_chart

register = template.Library()


@register.simple_tag
def chart(spec, height=None, testid=""):
    return "" if not spec else render_chart(spec, height=height, testid=testid)
