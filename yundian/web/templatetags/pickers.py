"""`{% picker "sku" "sku_ids" form.sku_ids multiple=True %}`: the picker widget in a hand-written form."""
from django import template
from django.utils.safestring import mark_safe

from yundian.web.widgets import render_picker

register = template.Library()


@register.simple_tag(takes_context=True)
def picker(context, kind: str, name: str, values=None, multiple: bool = False, required: bool = False,
           label: str = ""):
    return mark_safe(render_picker(actor=context.get("actor"), kind=kind, name=name, values=values,
                                   multiple=multiple, required=required, label=label))


@register.filter
def getlist(data, key: str) -> list:
    """Every value of `key` in a submitted form (a QueryDict), to show a multiple picker's choices again."""
    if hasattr(data, "getlist"):
        return data.getlist(key)
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else ([value] if value else [])
