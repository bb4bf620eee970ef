"""The message history panel of the staff 360° profile and the unread count of the storefront inbox, registered
with members' hooks when messaging is ready (members sits below messaging and never imports it)."""
from django.urls import reverse

from yundian.members.hooks import register_member_section, register_profile_section

from .models import OutboundMessage
from .selectors import inbox_unread

HISTORY_ROWS = 30


@register_profile_section("messages")
def member_messages_section(actor, member) -> dict:
    """Where the 360° page loads the member's message history from (messaging's own panel, scoped there too)."""
    return {"url": reverse("messaging:member_panel", args=[member.pk])}


def member_message_rows(member) -> tuple[list[OutboundMessage], int]:
    """The member's messages, newest first, with each decision (the caller checked the member is visible)."""
    messages = OutboundMessage.objects.filter(member=member)
    return list(messages.select_related("template", "store").order_by("-id")[:HISTORY_ROWS]), messages.count()


@register_member_section("inbox_unread")
def member_inbox_unread(member) -> list[dict]:
    return [{"unread": inbox_unread(member)}]
