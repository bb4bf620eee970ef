"""`{% load inventory_tags %}`: notes our own code writes on documents, shown translated (a person's note as typed)."""
from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

SYSTEM_NOTES = {"auto-replenishment": _("Created by automatic replenishment")}


@register.filter
def note(value: str) -> str:
    return str(SYSTEM_NOTES.get(value, value or ""))
