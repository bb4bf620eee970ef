"""Messaging step: the enterprise's message templates and six weeks of sent messages, as the outbox would have
recorded them (every decision on each message, with its history).

Shape at scale s (A members messaged; exact):
    A = min(M, 300 s)               the first A members by id (M: members_for(s))
    message_templates   5           New Year coupon, birthday wishes, pickup reminder (service), points expiry,
                                    new arrivals
    messages            6 A + A//3  six weekly campaigns to all A members (channels in turn: SMS, storefront inbox,
                                    WeChat, SMS, inbox, SMS) and a pickup reminder (service SMS) to every third
Decisions follow the rules the worker applies: no SMS/WeChat consent -> suppressed (no consent); a member without a
WeChat OpenID -> suppressed (no address); one in 37 -> failed by the gateway's receipt; one campaign fell in the
quiet hours of the evening and went out at 09:00 the next morning (deferred, then sent); the rest delivered, inbox
messages mostly read. Rows are bulk-inserted (dates in the past), events too.
"""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import SeedContext, Step
from .members import members_for

BATCH = 5000
LABELS = {"message_templates": _("message templates"), "messages": _("messages in the outbox")}
TEMPLATES = [
    ("新年礼券", "marketing", [
        ("sms", "zh-hans", "", "$member_name，新年快乐！送您一张 $coupon_value 礼券，券码 $coupon_code，$store_name 期待您的光临。"),
        ("sms", "en", "", "Happy New Year, $member_name! A $coupon_value coupon for you: $coupon_code. See you at $store_name."),
        ("wechat", "zh-hans", "新年礼券已到账", "券码 $coupon_code，面额 $coupon_value，到 $store_name 使用。"),
        ("email", "zh-hans", "$member_name，您的新年礼券", "您好 $member_name：\n新年礼券 $coupon_code（$coupon_value）已放入您的账户。\n退订：$unsubscribe_url"),
        ("inapp", "zh-hans", "新年礼券已到账", "券码 $coupon_code，面额 $coupon_value，$store_name 全场可用。"),
    ]),
    ("生日祝福", "marketing", [
        ("sms", "zh-hans", "", "$member_name，生日快乐！$store_name 为您准备了 $points 积分生日礼。"),
        ("inapp", "zh-hans", "生日快乐", "$points 积分生日礼已到账。"),
    ]),
    ("到店自提提醒", "service", [
        ("sms", "zh-hans", "", "$member_name，您的订单 $order_number 已可在 $store_name 自提，门店电话 $store_phone。"),
        ("wechat", "zh-hans", "订单可自提", "订单 $order_number 已备好，请到 $store_name 自提。"),
        ("inapp", "zh-hans", "订单可自提", "订单 $order_number 已备好，请到 $store_name 自提。"),
    ]),
    ("积分到期提醒", "marketing", [
        ("sms", "zh-hans", "", "$member_name，您有 $points 积分将于 $date 到期，来 $store_name 兑换好礼吧。"),
        ("inapp", "zh-hans", "积分即将到期", "$points 积分将于 $date 到期。"),
    ]),
    ("新品上市", "marketing", [
        ("wechat", "zh-hans", "冬季新品上市", "$store_name 冬季新品已到店，会员专享 9 折：$link"),
        ("inapp", "zh-hans", "冬季新品上市", "冬季新品已到店，会员专享 9 折。"),
    ]),
]
# (days ago, local hour, template index, channel, variables)
CAMPAIGNS = [
    (41, (10, 30), 4, "wechat", {"link": "https://example.com/new"}),
    (34, (11, 0), 3, "sms", {"points": "800", "date": "12-31"}),
    (27, (21, 30), 0, "sms", {"coupon_code": "NY{n}", "coupon_value": "¥30.00"}),  # in the quiet hours
    (20, (10, 0), 0, "inapp", {"coupon_code": "NY{n}", "coupon_value": "¥30.00"}),
    (13, (15, 0), 1, "inapp", {"points": "200"}),
    (6, (10, 0), 3, "sms", {"points": "500", "date": "01-31"}),
]


def audience_for(scale: int) -> int:
    return min(members_for(scale), 300 * scale)


def counts_for(scale: int) -> dict[str, int]:
    a = audience_for(scale)
    return {"message_templates": len(TEMPLATES), "messages": len(CAMPAIGNS) * a + a // 3}


def run(ctx: SeedContext) -> None:
    from yundian.members.models import ConsentState, IdentityKind, Member, MemberIdentity
    from yundian.messaging.models import (
        MessageEvent, MessageStatus, MessageTemplate, OutboundMessage, Reason, TemplateBody,
    )
    from yundian.messaging.rendering import render
    from yundian.messaging.outbox import policy_get, unsubscribe_url

    rng, enterprise = ctx.rng, ctx.enterprise
    hq = ctx.created["hq"]
    zone = ZoneInfo(settings.TIME_ZONE)
    policy = policy_get(enterprise.pk)
    templates = []
    for name, purpose, bodies in TEMPLATES:
        template = MessageTemplate.objects.create(enterprise=enterprise, node=hq, name=name, purpose=purpose)
        TemplateBody.objects.bulk_create([TemplateBody(template=template, channel=c, language=lang, subject=s, body=b)
                                          for c, lang, s, b in bodies])
        templates.append((template, {(c, lang): (s, b) for c, lang, s, b in bodies}))
    a = audience_for(ctx.scale)
    members = list(Member.objects.filter(enterprise=enterprise).select_related("home").order_by("id")[:a])
    ids = [m.pk for m in members]
    sms_ok = set(ConsentState.objects.filter(member_id__in=ids, channel="sms", granted=True)
                 .values_list("member_id", flat=True))
    sms_refused = set(ConsentState.objects.filter(member_id__in=ids, channel="sms", granted=False)
                      .values_list("member_id", flat=True))
    openids = set(MemberIdentity.objects.filter(member_id__in=ids, kind=IdentityKind.WECHAT_OPENID)
                  .values_list("member_id", flat=True))
    today = timezone.localdate()
    counter = [0]

    def provider_id(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}-{enterprise.pk:04d}{counter[0]:08d}"

    messages, plans = [], []

    def add(member, template_index, channel, variables, at, key, purpose):
        template, bodies = templates[template_index]
        subject, body = bodies.get((channel, "zh-hans"), ("", ""))
        values = {"member_name": member.name, "store_name": member.home.name, "store_phone": "",
                  **{k: v.format(n=member.pk) for k, v in variables.items()}}
        link = unsubscribe_url(member.pk, channel) if purpose == "marketing" else ""
        values["unsubscribe_url"] = link
        text = render(body, values)
        if link and "$unsubscribe_url" not in body:
            text += "\n退订：" + link
        # the decision the worker would take
        local = at.astimezone(zone)
        sent_at, status, reason, deferred = at, MessageStatus.DELIVERED, Reason.DELIVERED, None
        if purpose == "marketing" and channel in ("sms", "wechat"):
            if channel == "sms" and member.pk not in sms_ok:
                status = MessageStatus.SUPPRESSED
                reason = Reason.UNSUBSCRIBED if member.pk in sms_refused else Reason.NO_CONSENT
            elif channel == "wechat" and member.pk not in openids:
                status, reason = MessageStatus.SUPPRESSED, Reason.NO_ADDRESS
            elif local.time() >= policy.quiet_start or local.time() < policy.quiet_end:
                day = local.date() + timedelta(days=1) if local.time() >= policy.quiet_end else local.date()
                deferred = datetime.combine(day, policy.quiet_end, tzinfo=zone)
                sent_at = deferred + timedelta(seconds=rng.randrange(0, 900))
        if status == MessageStatus.DELIVERED and channel != "inapp" and member.pk % 37 == 0:
            status, reason = MessageStatus.FAILED, Reason.RECEIPT_FAILED
        prefix = {"sms": "SMS", "wechat": "WX", "inapp": "ydm"}[channel]
        message = OutboundMessage(
            enterprise=enterprise, member=member, scope_path=member.home.path, key=key, source=key.split(":")[0],
            channel=channel, purpose=purpose, template=template, language="zh-hans", variables=variables,
            subject=render(subject, values), body=text, status=status, reason=reason,
            detail="absent subscriber" if status == MessageStatus.FAILED else "",
            due_at=deferred or at, attempts=0 if status == MessageStatus.SUPPRESSED else 1,
            provider="" if status == MessageStatus.SUPPRESSED else {"sms": "fake_sms", "wechat": "fake_wechat",
                                                                   "inapp": "inbox"}[channel],
            provider_message_id="" if status == MessageStatus.SUPPRESSED else provider_id(prefix),
            sent_at=None if status == MessageStatus.SUPPRESSED else sent_at,
            delivered_at=sent_at + timedelta(seconds=rng.randrange(2, 40)) if status == MessageStatus.DELIVERED
            else None,
            read_at=(sent_at + timedelta(hours=rng.randrange(1, 72))
                     if channel == "inapp" and rng.random() < 0.6 else None))
        messages.append(message)
        plans.append((at, deferred, sent_at))

    for days_ago, (hour, minute), template_index, channel, variables in CAMPAIGNS:
        at = datetime.combine(today - timedelta(days=days_ago), time(hour, minute), tzinfo=zone)
        for member in members:
            add(member, template_index, channel, variables, at + timedelta(seconds=member.pk % 300),
                f"campaign:{days_ago}:{member.pk}", "marketing")
    for member in members[::3]:
        at = datetime.combine(today - timedelta(days=1 + member.pk % 40), time(9 + member.pk % 10, member.pk % 60),
                              tzinfo=zone)
        add(member, 2, "sms", {"order_number": f"SO{member.pk:010d}"}, at, f"order:{member.pk}:pickup", "service")
    OutboundMessage.objects.bulk_create(messages, batch_size=BATCH)
    # auto_now_add stamped every row "now": put each back at the time it was queued, one UPDATE per campaign minute
    by_time: dict[datetime, list[int]] = {}
    for message, (at, _deferred, _sent) in zip(messages, plans):
        by_time.setdefault(at.replace(second=0, microsecond=0), []).append(message.pk)
    for at, pks in by_time.items():
        for start in range(0, len(pks), 900):
            OutboundMessage.objects.filter(pk__in=pks[start:start + 900]).update(created_at=at, updated_at=at)
    events = []
    for message, (at, deferred, sent_at) in zip(messages, plans):
        events.append(MessageEvent(message=message, status=MessageStatus.QUEUED, reason=Reason.ENQUEUED, at=at))
        if message.status == MessageStatus.SUPPRESSED:
            events.append(MessageEvent(message=message, status=message.status, reason=message.reason, at=at))
            continue
        if deferred:
            events.append(MessageEvent(message=message, status=MessageStatus.DEFERRED, reason=Reason.QUIET_HOURS,
                                       detail=str(zone), at=at))
        events.append(MessageEvent(message=message, status=MessageStatus.SENDING, reason=Reason.ENQUEUED, at=sent_at))
        if message.channel == "inapp":
            events.append(MessageEvent(message=message, status=MessageStatus.DELIVERED, reason=Reason.DELIVERED,
                                       at=sent_at))
            continue
        events.append(MessageEvent(message=message, status=MessageStatus.SENT, reason=Reason.ACCEPTED, at=sent_at))
        events.append(MessageEvent(message=message, status=message.status, reason=message.reason,
                                   detail=message.detail, at=message.delivered_at or sent_at))
    MessageEvent.objects.bulk_create(events, batch_size=BATCH)
    ctx.counts.update({"message_templates": len(TEMPLATES), "messages": len(messages)})


step = Step(name="messaging", shape=counts_for, run=run, labels=LABELS)
