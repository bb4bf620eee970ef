"""Helpers for messaging tests: a template with a body per channel, members with consent, store time zones."""
from decimal import Decimal

from yundian.members import services as member_services
from yundian.members.models import ConsentChannel, IdentityKind
from yundian.members.tests.factories import register
from yundian.messaging import services
from yundian.messaging.models import MessageChannel, OutboundMessage
from yundian.messaging.providers import fake_gateways
from yundian.stores.models import StoreProfile

BODIES = [
    {"channel": "sms", "language": "zh-hans", "body": "$member_name，新年快乐！券码 $coupon_code，$store_name 见。"},
    {"channel": "sms", "language": "en", "body": "Happy New Year $member_name! Code $coupon_code at $store_name."},
    {"channel": "wechat", "language": "zh-hans", "subject": "新年礼券", "body": "券码 $coupon_code",
     "provider_template": "TPL-NY"},
    {"channel": "email", "language": "zh-hans", "subject": "$member_name，您的新年礼券",
     "body": "券码 $coupon_code。\n退订：$unsubscribe_url"},
    {"channel": "inapp", "language": "zh-hans", "subject": "新年礼券", "body": "券码 $coupon_code，$store_name 见。"},
]


def make_template(chain, *, name="新年礼券", purpose="marketing", bodies=None, actor=None):
    return services.template_create(actor=actor or chain.admin, name=name, purpose=purpose,
                                    bodies=bodies or BODIES, variables=[])


def consenting_member(chain, *, channels=(ConsentChannel.SMS, ConsentChannel.WECHAT, ConsentChannel.EMAIL),
                      store=None, email: str | None = "mei@example.com", openid: str | None = "oWX3a9fK2mLq8ZpR7tYbN1cD4eFg", **kwargs):
    member = register(chain, store=store, name=kwargs.pop("name", "李梅"),
                      consents={c: True for c in channels}, **kwargs)
    actor = chain.manager_a if (store or chain.store_a) == chain.store_a else chain.manager_b
    if email:
        member_services.identity_add(actor=actor, member_id=member.pk, kind=IdentityKind.EMAIL, value=email)
    if openid:
        member_services.identity_add(actor=actor, member_id=member.pk, kind=IdentityKind.WECHAT_OPENID, value=openid)
    return member


def store_zone(chain, node, zone: str) -> StoreProfile:
    return StoreProfile.objects.create(node=node, enterprise=chain.hq.enterprise, slug=f"{node.code}".lower(),
                                       address="1 Road", city="City", latitude=Decimal("31.2"),
                                       longitude=Decimal("121.4"), time_zone=zone)


def enqueue(member, template, key, *, channel=MessageChannel.SMS, purpose="marketing", store=None, **variables):
    return services.message_enqueue(member=member, channel=channel, template=template,
                                    variables={"coupon_code": "NY-1", **variables}, key=key, store=store,
                                    purpose=purpose)


def reset_gateways() -> None:
    for gateway in fake_gateways():
        gateway.reset()


def statuses(*messages) -> list[tuple[str, str]]:
    rows = OutboundMessage.objects.filter(pk__in=[m.pk for m in messages]).order_by("id")
    return [(m.status, m.reason) for m in rows]
