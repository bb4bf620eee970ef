"""`{% load members_tags %}`: a ledger entry's source as a translated reference, linked to the order when the
person looking may open it (their order scope covers the entry's store); reasons our code writes, translated."""
from django import template
from django.urls import reverse
from django.utils.html import format_html

from yundian.members.references import reason_label, source_reference
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

register = template.Library()


@register.simple_tag(takes_context=True)
def entry_reference(context, entry) -> str:
    reference = source_reference(entry.source_type, entry.source_id)
    actor = getattr(context.get("request"), "actor", None)
    store = getattr(entry, "store", None)
    if reference.order_id is not None and actor is not None and store is not None \
            and has_perm(actor, Perm.ORDER_VIEW, store):
        return format_html('<a href="{}">{}</a>', reverse("sales:order_detail", args=[reference.order_id]),
                           reference.text)
    return format_html("{}", reference.text)


@register.filter
def reason(value: str) -> str:
    return reason_label(value or "")
