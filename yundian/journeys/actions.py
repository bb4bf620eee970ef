"""What each step does, for a group of enrolments at one node at once. Every side effect carries the step's key
(`Row.key`: journey, enrolment and step), unique where it lands, so running a step again changes nothing.

An action that cannot be done for a member (the campaign ended, no bound guide, the webhook failed) is recorded
in the step's `detail` and the member goes on: one member's problem never holds the rest of the batch.
"""
from __future__ import annotations

import logging
import time as clock
from datetime import datetime, timedelta

log = logging.getLogger(__name__)

SUGGESTIONS = 3  # products named in a message's $recommendations
PAID = ("paid", "fulfilled", "completed", "partially_returned", "returned")


def _since(r) -> datetime:
    return r.waited_from or r.entered_at


# --- branch ---------------------------------------------------------------------------------------------------

def branch_yes(journey, config: dict, rows, now: datetime) -> set[int]:
    """The enrolment ids for which the branch holds."""
    test = config.get("test")
    if test == "order":
        from yundian.sales.models import Order

        earliest = min(_since(r) for r in rows)
        placed: dict[int, list] = {}
        for member_id, at in (Order.objects.filter(enterprise_id=journey.enterprise_id, status__in=PAID,
                                                   member_id__in={r.member_id for r in rows}, placed_at__gte=earliest)
                              .values_list("member_id", "placed_at")):
            placed.setdefault(member_id, []).append(at)
        return {r.id for r in rows if any(at >= _since(r) for at in placed.get(r.member_id, ()))}
    if test == "event":
        from yundian.cdp.models import EventInbox

        earliest = min(_since(r) for r in rows)
        seen: dict[int, list] = {}
        for member_id, at in (EventInbox.objects.filter(enterprise_id=journey.enterprise_id, kind=config["event"],
                                                        member_id__in={r.member_id for r in rows},
                                                        occurred_at__gte=earliest)
                              .values_list("member_id", "occurred_at")):
            seen.setdefault(member_id, []).append(at)
        return {r.id for r in rows if any(at >= _since(r) for at in seen.get(r.member_id, ()))}
    # a cdp condition tree over the warehouse, for these members only
    from django.utils import timezone

    from yundian.cdp.conditions import members_matching
    from yundian.core.warehouse import warehouse_read

    ids = sorted({r.member_id for r in rows})
    with warehouse_read() as wh:
        table = members_matching(wh, config["condition"], enterprise_id=journey.enterprise_id, paths=None,
                                 today=timezone.localdate(now))
        table = table.filter(table.member_id.isin(ids))
        matched = {int(v) for v in table.to_pyarrow().column("member_id").to_pylist()}
    return {r.id for r in rows if r.member_id in matched}


# --- actions --------------------------------------------------------------------------------------------------

def act_coupon(journey, config: dict, rows, now: datetime) -> None:
    """One code of the campaign per enrolment and step (the coupon's source is the step key)."""
    from yundian.promotions.services.keyed_coupons import coupon_issue_keyed

    got = coupon_issue_keyed(enterprise_id=journey.enterprise_id, campaign_id=config["campaign_id"],
                             grants=[(r.member_id, r.key) for r in rows])
    for r in rows:
        result = got.get(r.key)
        r.detail = {"coupon_id": result.pk} if hasattr(result, "pk") else {"skipped": str(result)}


def act_points(journey, config: dict, rows, now: datetime) -> None:
    """Points to each member once per enrolment and step (the points entry's source id is the step key)."""
    from yundian.members.services.points import points_grant_keyed

    done = points_grant_keyed(enterprise_id=journey.enterprise_id, source_type="journey",
                              grants=[(r.member_id, config["points"], r.key) for r in rows],
                              reason=f"journey {journey.name}")
    for r in rows:
        r.detail = {"points_entry_id": done[r.key]} if r.key in done else {"skipped": "member_inactive"}


def act_tag(journey, config: dict, rows, now: datetime) -> None:
    """Add or remove a tag (cdp's bulk tag write: only differences are written, each kept in the tag history
    with the journey as the reason)."""
    from yundian.cdp.models import TagSource
    from yundian.cdp.tags import member_tags_apply

    tag_id = config["tag_id"]
    add = config.get("action", "add") == "add"
    result = member_tags_apply(enterprise_id=journey.enterprise_id,
                               tag_id_by_member={r.member_id: tag_id if add else None for r in rows},
                               source=TagSource.BULK, reason=f"journey {journey.name}"[:255], family={tag_id},
                               now=now)
    for r in rows:
        r.detail = {"tag_id": tag_id, "add": add}
    if rows:
        rows[0].detail["batch_changed"] = result.gained + result.lost


def _members(rows) -> dict:
    from yundian.members.models import Member

    return Member.objects.select_related("home", "guide").in_bulk({r.member_id for r in rows})


def act_message(journey, config: dict, rows, now: datetime) -> None:
    """A message through the outbox (messaging's `message_enqueue`, idempotent on the step key); caps, quiet
    hours and consent are the outbox's."""
    try:
        from yundian.messaging import services as messaging
    except ImportError:
        for r in rows:
            r.detail = {"skipped": "messaging_unavailable"}
        return
    members = _members(rows)
    template = _template(config)
    for r in rows:
        member = members.get(r.member_id)
        if member is None:
            r.detail = {"skipped": "member_missing"}
            continue
        variables = {**{k: str(v) for k, v in (config.get("variables") or {}).items()},
                     **{k: str(v) for k, v in (r.context or {}).items() if isinstance(v, str | int)}}
        if config.get("recommend"):
            variables.update(_suggestions(member, r.context or {}))
        message = messaging.message_enqueue(member=member, channel=config["channel"], template=template,
                                            variables=variables, key=r.key, store=member.home,
                                            purpose="marketing")
        r.detail = {"message_id": getattr(message, "pk", None)}


def _suggestions(member, context: dict) -> dict[str, str]:
    """$product_name (the product the trigger names: a viewed or carted SKU's) and $recommendations (what goes with
    it, in stock at the member's store; recommend's `browse_suggestions`), for a message step that asks for them."""
    from yundian.catalog.models import Product, Sku

    product_id = context.get("product_id")
    if not isinstance(product_id, int) and isinstance(context.get("sku_id"), int):
        product_id = Sku.objects.filter(pk=context["sku_id"]).values_list("product_id", flat=True).first()
    name = Product.objects.filter(pk=product_id).values_list("name", flat=True).first() if product_id else None
    try:
        from yundian.recommend.rescue import browse_suggestions
    except ImportError:
        return {"product_name": name or ""}
    suggested = browse_suggestions(member, product_id if name else None, k=SUGGESTIONS)
    names = [p.name for p in suggested]
    chinese = any("\u4e00" <= ch <= "\u9fff" for n in names for ch in n)
    return {"product_name": name or "", "recommendations": ("、" if chinese else ", ").join(names)}


def _template(config: dict):
    try:
        from yundian.messaging.models import MessageTemplate
    except ImportError:
        return config["template_id"]
    return MessageTemplate.objects.filter(pk=config["template_id"]).first() or config["template_id"]


def act_guide_task(journey, config: dict, rows, now: datetime) -> None:
    """A follow-up task for the member's bound guide, else their store's manager (guides'
    `guide_follow_up_create`, idempotent on the step key); a member nobody can follow up is recorded and goes on."""
    from yundian.guides.guide_tasks import guide_follow_up_create

    members = _members(rows)
    due = now + timedelta(days=config.get("due_days", 1))
    for r in rows:
        member = members.get(r.member_id)
        task = (guide_follow_up_create(member=member, title=config["title"], note=config.get("note", ""),
                                       due_at=due, key=r.key, actor=None) if member is not None else None)
        r.detail = {"task_id": task.pk} if task is not None else {"skipped": "nobody_to_follow_up"}


def act_webhook(journey, config: dict, rows, now: datetime) -> None:
    """POST {journey, enrolment, member, node, key} to the address with a timeout, once per key: a call with an
    answer recorded is not made again (the receiver also gets the key as Idempotency-Key)."""
    import requests
    from django.db import IntegrityError, transaction

    from .models import WebhookCall

    done = dict(WebhookCall.objects.filter(key__in=[r.key for r in rows]).values_list("key", "status_code"))
    session = requests.Session()
    for r in rows:
        if r.key in done:
            r.detail = {"status": done[r.key], "replayed": True}
            continue
        body = {"journey": journey.pk, "enrolment": r.id, "member": r.member_id, "node": r.node, "key": r.key,
                "context": r.context}
        started = clock.monotonic()
        status, error = None, ""
        try:
            answer = session.post(config["url"], json=body, timeout=config.get("timeout", 5),
                                  headers={"Idempotency-Key": r.key})
            status = answer.status_code
        except requests.RequestException as e:
            error = type(e).__name__
        elapsed = int((clock.monotonic() - started) * 1000)
        try:
            with transaction.atomic():
                WebhookCall.objects.create(journey=journey, key=r.key, url=config["url"][:500], status_code=status,
                                           error=error[:255], elapsed_ms=elapsed, at=now)
        except IntegrityError:
            pass
        r.detail = {"status": status, **({"error": error} if error else {})}
