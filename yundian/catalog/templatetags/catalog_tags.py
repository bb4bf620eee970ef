"""Older names for the core formatting filters (`{% load yundian %}` is the one path; new templates load that).

`fen` is `yuan` (shown with the currency sign) and `yuan` here is `yuan_input` (the plain number of an input)."""
from django import template

from yundian.core.templatetags import yundian as core

register = template.Library()
register.filter("fen", core.yuan)
register.filter("yuan", core.yuan_input)


@register.filter
def attribute_label(key) -> str:
    """`{% load attribute_label from catalog_tags %}` `{{ key|attribute_label }}`: a known attribute key translated."""
    from yundian.catalog.attributes import attribute_label as label

    return label(key)
