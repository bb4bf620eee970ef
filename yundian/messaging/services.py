"""Writes of the messaging context: enqueue a message (idempotent on its key), templates, the sending policy,
unsubscribe, delivery receipts and the member's inbox.

`message_enqueue` never sends: it writes the message in the caller's transaction and, once that commits, asks the
task worker to send what is due (`sending.send_due`). Rendering happens here, so the stored body is exactly what
the member will read.
"""
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import NotFound, ValidationFailed
from yundian.core.text import clean_text
from yundian.members.models import Channel as MemberChannel, Member
from yundian.members.services import consent_set
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import require

from . import rendering
from .outbox import CONSENT_CHANNEL, UNSUBSCRIBE_SALT, event_add, policy_get, unsubscribe_url
from .models import (
    MessageChannel, MessageStatus, MessageTemplate, MessagingPolicy, OutboundMessage, Purpose, Reason,
    TemplateBody,
)

KEY_MAX = 200
VALUE_MAX = 500
LANGUAGES = [code for code, _name in settings.LANGUAGES]


# --- enqueue ------------------------------------------------------------------------------------------

def _clean_key(key) -> str:
    if not isinstance(key, str) or not key or len(key) > KEY_MAX or not key.isprintable():
        raise ValidationFailed(_("A message key is 1 to 200 printable characters."), code="invalid_key",
                               details={"field": "key"})
    return key


def _clean_variables(variables) -> dict[str, str]:
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise ValidationFailed(_("Variables are names with text values."), code="invalid_variables",
                               details={"field": "variables"})
    clean = {}
    for name, value in variables.items():
        if not isinstance(name, str) or not rendering.IDENTIFIER.match(name) or isinstance(value, bool) \
                or not isinstance(value, (str, int, Decimal, float)) or len(str(value)) > VALUE_MAX:
            raise ValidationFailed(_("Variables are names with text values."), code="invalid_variables",
                                   details={"field": "variables", "name": str(name)[:40]})
        clean[name] = str(value)
    return clean


def _template(template, enterprise_id: int) -> MessageTemplate:
    template_id = template.pk if isinstance(template, MessageTemplate) else template
    found = (MessageTemplate.objects.filter(pk=template_id, enterprise_id=enterprise_id).first()
             if isinstance(template_id, int) and not isinstance(template_id, bool) else None)
    if found is None:
        raise NotFound(_("Message template not found."), code="template_not_found")
    if not found.is_active:
        raise ValidationFailed(_("This message template is switched off."), code="template_inactive")
    return found


def body_for(template: MessageTemplate, channel: str, language: str) -> TemplateBody:
    bodies = [b for b in template.bodies.all() if b.channel == channel]
    if not bodies:
        raise ValidationFailed(_("The template has no text for this channel."), code="no_body_for_channel",
                               details={"channel": channel})
    for wanted in (language, settings.LANGUAGE_CODE):
        for body in bodies:
            if body.language == wanted:
                return body
    return bodies[0]


def standard_values(member: Member, store: OrgNode | None) -> dict[str, str]:
    from yundian.stores.models import StoreProfile

    node = store or member.home
    phone = StoreProfile.objects.filter(node_id=node.pk).values_list("phone", flat=True).first() or ""
    return {"member_name": member.name or gettext("member"), "store_name": node.name, "store_phone": phone}


def render_message(*, body: TemplateBody, values: dict[str, str], purpose: str, language: str,
                   member_id: int, channel: str) -> tuple[str, str, str]:
    """(subject, text, unsubscribe url) in the message's language. A marketing message always carries the
    unsubscribe link: where the body does not place `$unsubscribe_url` itself, a line is added at its end."""
    link = unsubscribe_url(member_id, channel) if purpose == Purpose.MARKETING else ""
    values = {**values, "unsubscribe_url": link}
    text = rendering.render(body.body, values).strip()
    subject = rendering.render(body.subject, values).strip()
    if link and "unsubscribe_url" not in rendering.used_variables(body.body):
        with translation.override(language):
            footer = gettext("Unsubscribe: %(url)s") % {"url": link}
        text = text + "\n" + footer
    return subject, text, link


def _kick() -> None:
    """Enqueue the sending worker unless one is already waiting to start (it will see what just committed)."""
    from .tasks import messages_send_due

    try:
        from django_tasks_db.models import DBTaskResult

        if DBTaskResult.objects.ready().filter(task_path=messages_send_due.module_path).exists():
            return
    except Exception:  # another task backend: just enqueue
        pass
    try:
        messages_send_due.enqueue()
    except Exception:  # the minute schedule picks the message up anyway
        import logging

        logging.getLogger(__name__).warning("could not enqueue the message worker", exc_info=True)


def _kick_on_commit() -> None:
    """Wake the worker once per transaction, after it commits (never inside the caller's transaction)."""
    if getattr(settings, "MESSAGING_KICK_WORKER", True) is False:
        return
    if connection.in_atomic_block and any(entry[1] is _kick for entry in connection.run_on_commit):
        return
    transaction.on_commit(_kick)


def message_enqueue(*, member, channel: str, template, variables: dict, key: str, store=None,
                    purpose: str = "marketing") -> OutboundMessage:
    """Queue one message to a member; the same (enterprise, key) returns the first message and queues nothing.
    Takes no locks; the unique key decides races. Sends nothing: the worker does, after the caller commits.
    A message is a service message only if both the caller and the template say so."""
    key = _clean_key(key)
    if not isinstance(member, Member):
        raise NotFound(_("Member not found."), code="member_not_found")
    existing = OutboundMessage.objects.filter(enterprise_id=member.enterprise_id, key=key).first()
    if existing is not None:
        return existing
    if channel not in MessageChannel.values:
        raise ValidationFailed(_("Unknown message channel."), code="invalid_channel", details={"field": "channel"})
    if purpose not in Purpose.values:
        raise ValidationFailed(_("Unknown message purpose."), code="invalid_purpose", details={"field": "purpose"})
    if variables is not None and not isinstance(variables, dict):
        raise ValidationFailed(_("Variables are names with text values."), code="invalid_variables",
                               details={"field": "variables"})
    template = _template(template, member.enterprise_id)
    # only what the template may use is kept (a journey passes its whole context); those must be text
    allowed = rendering.allowed_variables(template.variables)
    values = _clean_variables({k: v for k, v in (variables or {}).items() if k in allowed})
    if store is not None and (not isinstance(store, OrgNode) or store.enterprise_id != member.enterprise_id):
        raise NotFound(_("Store not found."), code="store_not_found")
    if purpose == Purpose.SERVICE and template.purpose != Purpose.SERVICE:
        purpose = Purpose.MARKETING
    policy = policy_get(member.enterprise_id)
    body = body_for(template, channel, policy.language)
    home = member.home
    subject, text, _link = render_message(body=body, values={**values, **standard_values(member, store)},
                                          purpose=purpose, language=body.language, member_id=member.pk,
                                          channel=channel)
    now = timezone.now()
    try:
        with transaction.atomic():
            message = OutboundMessage.objects.create(
                enterprise_id=member.enterprise_id, member=member, store=store, scope_path=home.path, key=key,
                source=key.split(":", 1)[0][:32] if ":" in key else "", channel=channel, purpose=purpose,
                template=template, language=body.language, variables=values, subject=subject[:200], body=text,
                provider_template=body.provider_template, due_at=now)
            event_add(message, at=now)
    except IntegrityError:
        existing = OutboundMessage.objects.filter(enterprise_id=member.enterprise_id, key=key).first()
        if existing is None:
            raise
        return existing
    _kick_on_commit()
    return message


# --- templates (console / API) ------------------------------------------------------------------------

def _clean_bodies(bodies, extra: list[str]) -> list[dict]:
    if not isinstance(bodies, list) or not bodies:
        raise ValidationFailed(_("A template needs at least one text."), code="required", details={"field": "bodies"})
    clean, seen = [], set()
    for i, item in enumerate(bodies):
        if not isinstance(item, dict):
            raise ValidationFailed(_("Some fields are not valid."), code="invalid", details={"field": f"bodies.{i}"})
        channel, language = item.get("channel"), item.get("language") or settings.LANGUAGE_CODE
        if channel not in MessageChannel.values:
            raise ValidationFailed(_("Unknown message channel."), code="invalid_channel",
                                   details={"field": f"bodies.{i}.channel"})
        if language not in LANGUAGES:
            raise ValidationFailed(_("Unknown language."), code="invalid_language",
                                   details={"field": f"bodies.{i}.language"})
        if (channel, language) in seen:
            raise ValidationFailed(_("Each channel and language has one text."), code="duplicate_body",
                                   details={"field": f"bodies.{i}"})
        seen.add((channel, language))
        subject = clean_text(item.get("subject", ""), f"bodies.{i}.subject", 200, required=False)
        body = clean_text(item.get("body", ""), f"bodies.{i}.body", 2000, required=True, multiline=True)
        if channel == MessageChannel.EMAIL and not subject:
            raise ValidationFailed(_("An email needs a subject."), code="required",
                                   details={"field": f"bodies.{i}.subject"})
        rendering.body_check(subject, extra=extra, field=f"bodies.{i}.subject")
        rendering.body_check(body, extra=extra, field=f"bodies.{i}.body")
        provider_template = clean_text(item.get("provider_template", ""), f"bodies.{i}.provider_template", 64,
                                       required=False)
        clean.append({"channel": channel, "language": language, "subject": subject, "body": body,
                      "provider_template": provider_template})
    return clean


def _template_fields(actor: Staff, *, name, purpose, variables, node_id) -> tuple[str, str, list[str], OrgNode]:
    name = clean_text(name, "name", 120, required=True)
    if purpose not in Purpose.values:
        raise ValidationFailed(_("Unknown message purpose."), code="invalid_purpose", details={"field": "purpose"})
    extra = rendering.variables_check(variables if variables is not None else [])
    node = OrgNode.objects.filter(pk=node_id if isinstance(node_id, int) else -1,
                                  enterprise_id=actor.enterprise_id).first() if node_id else actor.home
    if node is None:
        raise NotFound(_("Org node not found."), code="org_node_not_found")
    require(actor, Perm.MESSAGE_TEMPLATE_MANAGE, node)
    return name, purpose, extra, node


def _may_edit(actor: Staff, template: MessageTemplate) -> None:
    """A template the actor can read (theirs or from above) but not manage where it is owned: 403."""
    from yundian.core.errors import Forbidden
    from yundian.org.selectors import has_perm

    if not has_perm(actor, Perm.MESSAGE_TEMPLATE_MANAGE, template.node):
        raise Forbidden()


def _name_taken(actor: Staff, name: str, exclude: int | None = None) -> None:
    qs = MessageTemplate.objects.filter(enterprise_id=actor.enterprise_id, name=name)
    if exclude:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        from yundian.core.errors import Conflict

        raise Conflict(_("A template with this name exists."), code="template_name_taken",
                       details={"field": "name"})


def _snapshot(template: MessageTemplate) -> dict:
    return {"name": template.name, "purpose": template.purpose, "variables": template.variables,
            "is_active": template.is_active, "node": template.node_id,
            "bodies": [{"channel": b.channel, "language": b.language, "subject": b.subject, "body": b.body}
                       for b in template.bodies.order_by("channel", "language")]}


@transaction.atomic
def template_create(*, actor: Staff, name: str, purpose: str = Purpose.MARKETING, bodies: list[dict],
                    variables: list[str] | None = None, node_id: int | None = None) -> MessageTemplate:
    """A new template owned by `node` (default: the actor's home), which the actor must manage."""
    name, purpose, extra, node = _template_fields(actor, name=name, purpose=purpose, variables=variables,
                                                  node_id=node_id)
    clean = _clean_bodies(bodies, extra)
    _name_taken(actor, name)
    template = MessageTemplate.objects.create(enterprise_id=actor.enterprise_id, node=node, name=name,
                                              purpose=purpose, variables=extra)
    TemplateBody.objects.bulk_create([TemplateBody(template=template, **b) for b in clean])
    audit_record(actor=actor, action="message_template.create", target=template, after=_snapshot(template),
                 scope_path=node.path)
    return template


@transaction.atomic
def template_update(*, actor: Staff, template_id: int, name: str, purpose: str, bodies: list[dict],
                    variables: list[str] | None = None, is_active: bool = True) -> MessageTemplate:
    """Replace a template's fields and texts (messages already queued keep the text they were rendered with)."""
    from .selectors import template_get

    template = template_get(actor=actor, template_id=template_id)
    _may_edit(actor, template)
    name, purpose, extra, node = _template_fields(actor, name=name, purpose=purpose, variables=variables,
                                                  node_id=template.node_id)
    if not isinstance(is_active, bool):
        raise ValidationFailed(_("Some fields are not valid."), code="invalid", details={"field": "is_active"})
    clean = _clean_bodies(bodies, extra)
    _name_taken(actor, name, exclude=template.pk)
    template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    before = _snapshot(template)
    template.name, template.purpose, template.variables, template.is_active = name, purpose, extra, is_active
    template.save()
    template.bodies.all().delete()
    TemplateBody.objects.bulk_create([TemplateBody(template=template, **b) for b in clean])
    audit_record(actor=actor, action="message_template.update", target=template, before=before,
                 after=_snapshot(template), scope_path=node.path)
    return template


@transaction.atomic
def template_delete(*, actor: Staff, template_id: int) -> None:
    """Delete a template nobody has sent yet; one already used is switched off instead (history keeps it)."""
    from .selectors import template_get

    template = template_get(actor=actor, template_id=template_id)
    _may_edit(actor, template)
    before = _snapshot(template)
    if OutboundMessage.objects.filter(template=template).exists():
        MessageTemplate.objects.filter(pk=template.pk).update(is_active=False, updated_at=timezone.now())
    else:
        template.delete()
    audit_record(actor=actor, action="message_template.delete", target=template, before=before,
                 scope_path=template.node.path, enterprise=actor.enterprise)


@transaction.atomic
def policy_update(*, actor: Staff, daily_cap: int, weekly_cap: int, quiet_start, quiet_end,
                  language: str) -> MessagingPolicy:
    """HQ sets the enterprise's caps, quiet hours and default language (audited)."""
    require(actor, Perm.MESSAGE_TEMPLATE_MANAGE, actor.home)
    if actor.home.parent_id is not None:
        from yundian.core.errors import Forbidden

        raise Forbidden()
    for field, value in (("daily_cap", daily_cap), ("weekly_cap", weekly_cap)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
            raise ValidationFailed(_("A limit is a whole number from 0 to 100."), code="invalid_number",
                                   details={"field": field})
    if weekly_cap < daily_cap:
        raise ValidationFailed(_("The weekly limit cannot be below the daily one."), code="invalid_caps",
                               details={"field": "weekly_cap"})
    if language not in LANGUAGES:
        raise ValidationFailed(_("Unknown language."), code="invalid_language", details={"field": "language"})
    policy = policy_get(actor.enterprise_id)
    before = {"daily_cap": policy.daily_cap, "weekly_cap": policy.weekly_cap, "quiet_start": policy.quiet_start,
              "quiet_end": policy.quiet_end, "language": policy.language}
    policy.daily_cap, policy.weekly_cap, policy.language = daily_cap, weekly_cap, language
    policy.quiet_start, policy.quiet_end = quiet_start, quiet_end
    policy.save()
    audit_record(actor=actor, action="messaging_policy.update", target=policy, before=before,
                 after={"daily_cap": daily_cap, "weekly_cap": weekly_cap, "quiet_start": quiet_start,
                        "quiet_end": quiet_end, "language": language}, scope_path=actor.home.path)
    return policy


# --- the member's side: unsubscribe and inbox ---------------------------------------------------------

def unsubscribe_read(token: str) -> tuple[Member, str]:
    """The member and channel an unsubscribe link names; 404 for a forged or broken link."""
    try:
        data = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
        member = Member.objects.select_related("enterprise").get(pk=int(data["m"]))
        channel = data["c"]
    except (signing.BadSignature, KeyError, TypeError, ValueError, Member.DoesNotExist):
        raise NotFound(_("This unsubscribe link is not valid."), code="invalid_unsubscribe_link")
    if channel not in CONSENT_CHANNEL:
        raise NotFound(_("This unsubscribe link is not valid."), code="invalid_unsubscribe_link")
    return member, channel


def unsubscribe(token: str) -> tuple[Member, str]:
    """Withdraw the member's marketing consent on the link's channel (a consent event, kept as history)."""
    member, channel = unsubscribe_read(token)
    consent_set(actor=None, member_id=member.pk, channel=CONSENT_CHANNEL[channel], granted=False,
                source=MemberChannel.STOREFRONT, note="unsubscribe link", enterprise_id=member.enterprise_id)
    return member, channel


def inbox_mark_read(*, member: Member, message_id: int | None = None) -> int:
    """Mark one of the member's inbox messages (or all of them) read; returns how many changed."""
    qs = OutboundMessage.objects.filter(member=member, channel=MessageChannel.INAPP,
                                        status=MessageStatus.DELIVERED, read_at__isnull=True)
    if message_id is not None:
        qs = qs.filter(pk=message_id)
    return qs.update(read_at=timezone.now())


# --- delivery receipts -------------------------------------------------------------------------------

RECEIPT_STATUSES = {"delivered", "failed"}


def receipts_apply(*, provider: str, receipts: list[dict]) -> dict[str, int]:
    """Apply a provider's delivery receipts: sent -> delivered or failed. Repeats change nothing (conditional
    updates); unknown ids are counted, not errors. Returns {"applied", "repeated", "unknown"}."""
    counts = {"applied": 0, "repeated": 0, "unknown": 0}
    now = timezone.now()
    for receipt in receipts:
        provider_id, status = receipt["id"], receipt["status"]
        message = OutboundMessage.objects.filter(provider=provider, provider_message_id=provider_id).first()
        if message is None:
            counts["unknown"] += 1
            continue
        with transaction.atomic():
            if status == "delivered":
                changed = OutboundMessage.objects.filter(
                    pk=message.pk, status__in=[MessageStatus.SENT, MessageStatus.SENDING]).update(
                    status=MessageStatus.DELIVERED, reason=Reason.DELIVERED, delivered_at=now, updated_at=now)
            else:
                changed = OutboundMessage.objects.filter(
                    pk=message.pk, status__in=[MessageStatus.SENT, MessageStatus.SENDING]).update(
                    status=MessageStatus.FAILED, reason=Reason.RECEIPT_FAILED,
                    detail=str(receipt.get("error") or "")[:255], updated_at=now)
            if changed:
                message.refresh_from_db()
                event_add(message, at=now)
                counts["applied"] += 1
            else:
                counts["repeated"] += 1
    return counts
