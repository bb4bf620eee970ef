"""Share funnels: for each material (or guide, or community group), what its links brought in — opens (one per
browser, promotions.ShareLinkVisit), sign-ups (ShareLinkSignup), orders paid through them (Order.share_code, not
cancelled) and their GMV (paid less refunded). Scoped: a manager sees the links of the stores in their subtree, a
guide only their own."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, F, Sum
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import ValidationFailed
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_q
from yundian.promotions.models import ShareLink, ShareLinkSignup, ShareLinkVisit
from yundian.sales.models import Order, OrderStatus

from .models import CommunityGroup, Material

CHUNK = 500


@dataclass
class FunnelRow:
    key: int
    label: str
    links: int = 0
    opens: int = 0
    signups: int = 0
    orders: int = 0
    gmv: int = 0
    codes: list[str] = field(default_factory=list, repr=False)

    @property
    def conversion(self) -> float:
        """Orders per open, in percent (0 without opens)."""
        return round(self.orders * 100 / self.opens, 1) if self.opens else 0.0


def _links(actor: Staff, prefix: str):
    qs = ShareLink.objects.filter(enterprise_id=actor.enterprise_id, source__startswith=prefix,
                                  sharer_staff__isnull=False)
    if has_perm(actor, Perm.COMMISSION_VIEW_ALL):
        return qs.filter(scope_q(actor, Perm.COMMISSION_VIEW_ALL, "store__path"))
    return qs.filter(sharer_staff=actor)


def link_counts(codes: list[str], link_ids: list[int], since: datetime | None = None,
                until: datetime | None = None) -> dict[str, dict]:
    """{code: {opens, signups, orders, gmv}} for the given links (their ids and codes, in the same order)."""
    by_code = {code: {"opens": 0, "signups": 0, "orders": 0, "gmv": 0} for code in codes}
    code_of = dict(zip(link_ids, codes))
    for start in range(0, len(codes), CHUNK):
        ids, chunk = link_ids[start:start + CHUNK], codes[start:start + CHUNK]
        opens = ShareLinkVisit.objects.filter(link_id__in=ids)
        signups = ShareLinkSignup.objects.filter(link_id__in=ids)
        orders = Order.objects.filter(share_code__in=chunk, paid_at__isnull=False).exclude(status=OrderStatus.CANCELLED)
        if since is not None:
            opens, signups, orders = (opens.filter(first_at__gte=since), signups.filter(joined_at__gte=since),
                                      orders.filter(paid_at__gte=since))
        if until is not None:
            opens, signups, orders = (opens.filter(first_at__lt=until), signups.filter(joined_at__lt=until),
                                      orders.filter(paid_at__lt=until))
        for link_id, n in opens.values("link_id").annotate(n=Count("id")).values_list("link_id", "n"):
            by_code[code_of[link_id]]["opens"] = n
        for link_id, n in signups.values("link_id").annotate(n=Count("id")).values_list("link_id", "n"):
            by_code[code_of[link_id]]["signups"] = n
        for code, n, gmv in (orders.values("share_code").annotate(n=Count("id"), gmv=Sum(F("paid_total") - F("refunded_total")))
                             .values_list("share_code", "n", "gmv")):
            by_code[code]["orders"], by_code[code]["gmv"] = n, gmv or 0
    return by_code


def share_funnel(*, actor: Staff, by: str = "material", since: datetime | None = None,
                 until: datetime | None = None) -> list[FunnelRow]:
    """One row per material (by="material"), per guide (by="guide") or per group (by="group"), most GMV first."""
    if by not in ("material", "guide", "group"):
        raise ValidationFailed(_("Group the funnel by material, guide or group."), code="invalid_group_by",
                               details={"field": "by"})
    prefix = "group:" if by == "group" else "material:"
    links = list(_links(actor, prefix).values_list("pk", "code", "source", "sharer_staff_id",
                                                   "sharer_staff__display_name"))
    counts = link_counts([l[1] for l in links], [l[0] for l in links], since, until)
    rows: dict[int, FunnelRow] = {}
    if by == "material":
        ids = {int(l[2].split(":", 1)[1]) for l in links if l[2].split(":", 1)[1].isdigit()}
        names = dict(Material.objects.filter(pk__in=ids).values_list("pk", "title"))
    elif by == "group":
        ids = {int(l[2].split(":", 1)[1]) for l in links if l[2].split(":", 1)[1].isdigit()}
        names = dict(CommunityGroup.objects.filter(pk__in=ids).values_list("pk", "name"))
    else:
        names = {}
    for pk, code, source, guide_id, guide_name in links:
        if by == "guide":
            key, label = guide_id, guide_name
        else:
            tail = source.split(":", 1)[1]
            if not tail.isdigit() or int(tail) not in names:
                continue
            key, label = int(tail), names[int(tail)]
        row = rows.setdefault(key, FunnelRow(key=key, label=label))
        row.links += 1
        row.codes.append(code)
        for name, value in counts[code].items():
            setattr(row, name, getattr(row, name) + value)
    return sorted(rows.values(), key=lambda r: (-r.gmv, -r.orders, -r.opens, r.key))


def funnel_totals(rows: list[FunnelRow]) -> dict:
    totals = defaultdict(int)
    for row in rows:
        for name in ("links", "opens", "signups", "orders", "gmv"):
            totals[name] += getattr(row, name)
    return dict(totals)


__all__ = ["FunnelRow", "funnel_totals", "link_counts", "share_funnel"]
