"""Helpers for members tests: register members through the services and prove the ledgers balance."""
from itertools import count

from yundian.core.ledgers import ledger_checks

from yundian.members import services
from yundian.members.models import Channel, Member, PointsBalance, PointsLot, StoredValueBalance
from yundian.members.services import EarnLine

_phones = count(13800000001)


def next_phone() -> str:
    return str(next(_phones))


def register(chain, *, phone: str | None = None, store=None, actor=None, channel=Channel.POS, **kwargs) -> Member:
    store = store or chain.store_a
    actor = actor or (chain.manager_a if store == chain.store_a else chain.manager_b)
    return services.member_register(actor=actor, store_id=store.id, channel=channel,
                                    phone=phone or next_phone(), **kwargs)


def earn(chain, member: Member, amount_fen: int, order_ref: str, *, store=None, actor=None, **kwargs):
    store = store or chain.store_a
    actor = actor or (chain.guide_a if store == chain.store_a else chain.guide_b)
    return services.points_earn_for_order(actor=actor, member_id=member.pk, order_ref=order_ref, store_id=store.id,
                                          lines=[EarnLine(amount_fen)], **kwargs)


def points(member: Member) -> int:
    return PointsBalance.objects.get(member=member).points


def stored_value(member: Member) -> tuple[int, int]:
    row = StoredValueBalance.objects.get(member=member)
    return row.principal, row.bonus


def lots(member: Member) -> list[tuple[int, object]]:
    return list(PointsLot.objects.filter(member=member, remaining__gt=0).order_by("expires_at", "id")
                .values_list("remaining", "expires_at"))


def ledger_mismatches() -> list[str]:
    checks = ledger_checks()
    assert {"points", "points_lots", "stored_value"} <= set(checks)
    return [str(m) for name in ("points", "points_lots", "stored_value") for m in checks[name]()]
