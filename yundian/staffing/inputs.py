"""What a plan is made of, read from the OLTP side: the stores of a node, their opening hours and standards,
the people who may work there (terms, skills, availability, which stores they may travel to), the rule set and
the promotion days. Plain values out (need.Standard, rules.Person, rules.Rules); no writes."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from yundian.org.models import OrgNode, Staff
from yundian.org.roles import NodeKind
from yundian.promotions.models import Promotion
from yundian.stores.models import StoreProfile

from .models import Availability, LaborRules, ServiceStandard, Shift, StaffTerms, TimeOff
from .need import Standard, open_hours_from_profile
from .rules import CHINA_DEFAULTS, Person, PlannedShift, Rules


def stores_under(node: OrgNode) -> list[OrgNode]:
    if node.kind == NodeKind.STORE:
        return [node]
    return list(OrgNode.objects.filter(path__startswith=node.path, kind=NodeKind.STORE, is_active=True)
                .order_by("id"))


def open_hours_of(stores: list[OrgNode]) -> dict[int, dict[int, tuple[int, int]]]:
    profiles = dict(StoreProfile.objects.filter(node__in=stores).values_list("node_id", "opening_hours"))
    return {s.pk: open_hours_from_profile(profiles.get(s.pk)) for s in stores}


def standards_of(stores: list[OrgNode]) -> dict[int, Standard]:
    out = {s.pk: Standard() for s in stores}
    for row in ServiceStandard.objects.filter(store__in=stores):
        out[row.store_id] = Standard(float(row.customers_per_staff_hour), row.min_cover, row.cashiers,
                                     row.opening_staff, row.opening_hours, row.closing_staff, row.closing_hours)
    return out


def rules_of(enterprise_id: int) -> Rules:
    row = LaborRules.objects.filter(enterprise_id=enterprise_id).first()
    if row is None:
        return CHINA_DEFAULTS
    return Rules(row.max_hours_day, row.max_hours_week, row.max_days_week, row.part_time_hours_day,
                 row.part_time_hours_week, row.min_rest_hours, row.break_after_hours, row.min_shift_hours,
                 row.shortage_penalty)


def people_of(stores: list[OrgNode]) -> list[Person]:
    """Active staff whose home is one of `stores` and who have terms; a shared person may work at every store of
    their home's parent node (their region, or dealer) that is among `stores`."""
    ids = {s.pk for s in stores}
    parent = {s.pk: s.parent_id for s in stores}
    staff = list(Staff.objects.filter(home_id__in=ids, is_active=True).select_related("staffing_terms").order_by("id"))
    availability: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    for a in Availability.objects.filter(staff__in=staff):
        availability[a.staff_id][a.weekday] = (a.start_hour, a.end_hour)
    days_off: dict[int, set[date]] = defaultdict(set)
    for t in TimeOff.objects.filter(staff__in=staff):
        days_off[t.staff_id] |= {t.first_day + timedelta(days=i) for i in range((t.last_day - t.first_day).days + 1)}
    people = []
    for s in staff:
        terms = getattr(s, "staffing_terms", None)
        if terms is None:
            continue
        travel = {}
        if terms.is_shared:
            travel = {other: terms.travel_cost for other in ids
                      if other != s.home_id and parent[other] == parent[s.home_id]}
        people.append(Person(id=s.pk, name=s.display_name, home=s.home_id, rate=terms.hourly_rate,
                             skills=frozenset(terms.skills or []), part_time=terms.is_part_time,
                             availability=dict(availability[s.pk]), travel=travel,
                             days_off=frozenset(days_off[s.pk])))
    return people


def promo_days_of(stores: list[OrgNode], since: date, until: date) -> dict[int, set[date]]:
    """Days a promotion (not a coupon's benefit) ran or will run in each store, from its validity window."""
    out: dict[int, set[date]] = {s.pk: set() for s in stores}
    if not stores:
        return out
    promos = Promotion.objects.filter(enterprise_id=stores[0].enterprise_id, requires_coupon=False,
                                      valid_from__isnull=False, valid_to__isnull=False,
                                      valid_from__date__lte=until, valid_to__date__gte=since) \
        .exclude(status="draft").values_list("node__path", "valid_from", "valid_to")
    for path, start, end in promos:
        first, last = max(since, start.date()), min(until, end.date())
        span = {first + timedelta(days=i) for i in range((last - first).days + 1)}
        for s in stores:
            if s.path.startswith(path):
                out[s.pk] |= span
    return out


def previous_shifts(people: list[Person], before: date) -> list[PlannedShift]:
    rows = Shift.objects.filter(staff_id__in=[p.id for p in people], day__lt=before,
                                day__gte=before - timedelta(days=7))
    return [PlannedShift(r.staff_id, r.store_id, r.day, r.start_hour, r.end_hour, r.break_hour) for r in rows]


__all__ = ["StaffTerms", "stores_under", "open_hours_of", "standards_of", "rules_of", "people_of", "promo_days_of",
           "previous_shifts"]
