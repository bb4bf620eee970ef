"""Promotions test helpers: a chain with a catalogue, members, promotions built through the services."""
from datetime import timedelta

from django.utils import timezone

from yundian.catalog.tests.factories import make_catalogue
from yundian.core.ledgers import ledger_checks
from yundian.members.tests.factories import register
from yundian.promotions import services
from yundian.promotions.pricing import LineIn, price_lines

PROMOTION_LEDGERS = ("coupon_redemptions", "flash_sales", "flash_buyers", "group_buys")


def promo(chain, *, node=None, actor=None, code="P1", name="Promo", kind="percent_off", status="active", **kw):
    return services.promotion_create(actor=actor or chain.admin, node_id=(node or chain.hq).id, code=code, name=name,
                                     kind=kind, status=status, **kw)


def campaign(chain, *, node=None, actor=None, code="C1", kind="threshold_amount", tiers=None, **kw):
    return services.coupon_campaign_create(actor=actor or chain.admin, node_id=(node or chain.hq).id, code=code,
                                           name=f"Coupon {code}", kind=kind,
                                           tiers=tiers if tiers is not None else [{"min": 0, "off": 1000}], **kw)


def flash(chain, sku, *, cap=10, price=1990, limit=1, code="FS1", starts=None, hours=2, **kw):
    now = timezone.now()
    starts = starts or now - timedelta(minutes=1)
    return services.flash_sale_create(actor=chain.admin, node_id=chain.hq.id, code=code, name="秒杀", sku_id=sku.pk,
                                      price=price, cap=cap, per_member_limit=limit, starts_at=starts,
                                      ends_at=starts + timedelta(hours=hours), **kw)


def group_campaign(chain, sku, *, cap=10, code="GB1", window_minutes=60, tiers=None):
    now = timezone.now()
    return services.group_buy_create(actor=chain.admin, node_id=chain.hq.id, code=code, name="拼团", sku_id=sku.pk,
                                     price_tiers=tiers or [{"size": 2, "price": 8900}, {"size": 3, "price": 7900}],
                                     cap=cap, starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(days=2),
                                     window_minutes=window_minutes)


def line(sku, qty=1, price=None):
    price = sku.base_price if price is None else price
    return LineIn(sku=sku, quantity=qty, unit_price=price, gross=price * qty, list_price=price)


def price(chain, lines, *, store=None, member=None, codes=(), channel="pos", at=None):
    return price_lines(store=store or chain.store_a, channel=channel, lines=lines, member=member, coupon_codes=codes,
                       at=at)


def mismatches() -> list[str]:
    checks = ledger_checks()
    return [str(m) for name in PROMOTION_LEDGERS for m in checks[name]()]


__all__ = ["make_catalogue", "register"]
