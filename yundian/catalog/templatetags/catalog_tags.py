"""Catalogue template helpers (money and moments are core's: `{% load yundian %}`)."""
from django import template

register = template.Library()


@register.filter
def attribute_label(key) -> str:
    """`{% load attribute_label from catalog_tags %}` `{{ key|attribute_label }}`: a known attribute key translated."""
    from yundian.catalog.attributes import attribute_label as label

    return label(key)
