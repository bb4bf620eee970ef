"""Reads of the outbox and the templates, scoped to the acting staff member (or, for the inbox, to the member).

Messages are scoped by their member's home (`scope_path`, like every member record); templates by their owner
node: an actor sees the templates of their subtree and of the nodes above it (a store manager reads HQ's
templates), and edits only those of their subtree (message_template.manage).
"""
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import NotFound
from yundian.members.models import IdentityKind, Member
from yundian.members.normalize import mask_identity
from yundian.members.selectors import may_see_personal_data
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_paths, scope_q

from .models import MessageChannel, MessageStatus, MessageTemplate, OutboundMessage

INBOX_ROWS = 50


def _ancestor_paths(paths: list[str]) -> set[str]:
    found = set()
    for path in paths:
        parts = [p for p in path.strip("/").split("/") if p]
        for i in range(1, len(parts) + 1):
            found.add("/" + "/".join(parts[:i]) + "/")
    return found


def template_list(*, actor: Staff, include_inactive: bool = True, channel: str | None = None,
                  search: str | None = None) -> QuerySet[MessageTemplate]:
    paths = scope_paths(actor, Perm.MEMBER_VIEW)
    if not paths:
        return MessageTemplate.objects.none()
    visible = scope_q(actor, Perm.MEMBER_VIEW, "node__path") | Q(node__path__in=_ancestor_paths(paths))
    qs = (MessageTemplate.objects.filter(visible, enterprise_id=actor.enterprise_id)
          .select_related("node").prefetch_related("bodies"))
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if channel:
        qs = qs.filter(bodies__channel=channel).distinct()
    if search:
        qs = qs.filter(name__icontains=search.strip()[:60])
    return qs.order_by("name", "id")


def template_get(*, actor: Staff, template_id: int) -> MessageTemplate:
    template = template_list(actor=actor).filter(pk=template_id).first() if isinstance(template_id, int) else None
    if template is None:
        raise NotFound(_("Message template not found."), code="template_not_found")
    return template


def may_edit_template(actor: Staff, template: MessageTemplate) -> bool:
    return has_perm(actor, Perm.MESSAGE_TEMPLATE_MANAGE, template.node)


def message_list(*, actor: Staff, channel: str | None = None, status: str | None = None, source: str | None = None,
                 search: str | None = None, member_id: int | None = None,
                 perm: str = Perm.MESSAGE_VIEW) -> QuerySet[OutboundMessage]:
    """The outbox as the actor may see it: messages to members whose home lies in their subtree."""
    paths = scope_paths(actor, perm)
    if not paths:
        return OutboundMessage.objects.none()
    qs = OutboundMessage.objects.filter(reduce(or_, (Q(scope_path__startswith=p) for p in paths)),
                                        enterprise_id=actor.enterprise_id)
    if channel:
        qs = qs.filter(channel=channel)
    if status:
        qs = qs.filter(status=status)
    if source:
        qs = qs.filter(source=source)
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    if search:
        qs = qs.filter(member__name__icontains=search.strip()[:60])
    return qs.select_related("member", "template", "store").order_by("-id")


def message_get(*, actor: Staff, message_id: int) -> OutboundMessage:
    message = message_list(actor=actor).filter(pk=message_id).first()
    if message is None:
        raise NotFound(_("Message not found."), code="message_not_found")
    return message


def message_sources(*, actor: Staff) -> list[str]:
    return sorted(set(message_list(actor=actor).exclude(source="").values_list("source", flat=True)
                      .order_by().distinct()[:50]))


def masked_phones(actor: Staff, members: list[Member]) -> dict[int, str]:
    """Each member's first phone, masked unless the actor may see personal data of that member."""
    from yundian.members.models import MemberIdentity

    phones: dict[int, str] = {}
    for member_id, value in (MemberIdentity.objects.filter(member__in=members, kind=IdentityKind.PHONE)
                             .order_by("-id").values_list("member_id", "value")):
        phones[member_id] = value
    by_id = {m.pk: m for m in members}
    return {mid: value if may_see_personal_data(actor, by_id[mid]) else mask_identity(IdentityKind.PHONE, value)
            for mid, value in phones.items()}


# --- the member's own inbox ---------------------------------------------------------------------------

def inbox_list(member: Member) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(member=member, channel=MessageChannel.INAPP,
                                               status=MessageStatus.DELIVERED)
                .select_related("store").order_by("-id")[:INBOX_ROWS])


def inbox_unread(member: Member) -> int:
    return OutboundMessage.objects.filter(member=member, channel=MessageChannel.INAPP,
                                          status=MessageStatus.DELIVERED, read_at__isnull=True).count()
