"""Staffing step (runs after the history, so the history's sellers stay the same for a seed): every store's
service standard, each store person's terms (rate, skills) and availability, two part-timers per store, and one
guide per store who may work at the other stores under the same parent (region or dealer). `plan_demo_week`
plans this week once the warehouse holds the history (`yundian demo` calls it after its sync).

Shape at scale s (exact; S = 5 s + 1 stores):

    staffing_standards      S         standard stores 2 customers per staff hour (fitting rooms, advice),
                                      community stores 3 (a quick fresh-food till); minimum cover 1
    staffing_part_timers    2 S       role guide, part-time (4 h a day, 24 a week), evenings and weekends
    staffing_terms          5 S       managers ¥35 an hour, guides ¥26-29, part-timers ¥22
    staffing_availability   35 S      a row per person and weekday
"""
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import SeedContext, Step

PART_TIMERS_PER_STORE = 2
LABELS = {"staffing_standards": _("service standards"), "staffing_part_timers": _("part-time staff"),
          "staffing_terms": _("staff terms"), "staffing_availability": _("availability rows")}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "小晓雨欣佳子涵一梓浩宇思文静婷磊洋"


def shape(scale: int) -> dict[str, int]:
    stores = 5 * scale + 1
    return {"staffing_standards": stores, "staffing_part_timers": PART_TIMERS_PER_STORE * stores,
            "staffing_terms": (3 + PART_TIMERS_PER_STORE) * stores,
            "staffing_availability": 7 * (3 + PART_TIMERS_PER_STORE) * stores}


def run(ctx: SeedContext) -> None:
    from yundian.org.models import RoleAssignment, Staff
    from yundian.org.roles import Role
    from yundian.staffing.models import Availability, ServiceStandard, StaffTerms
    from yundian.stores.models import StoreAssortment

    rng = ctx.rng
    stores = list(ctx.created["stores"])
    community = set(StoreAssortment.objects.filter(store__node__in=stores, category__code="FRS")
                    .values_list("store__node_id", flat=True))
    ServiceStandard.objects.bulk_create([
        ServiceStandard(store=s, customers_per_staff_hour=3 if s.pk in community else 2, min_cover=1, cashiers=1,
                        opening_staff=1, opening_hours=1, closing_staff=1, closing_hours=1) for s in stores])
    User = get_user_model()
    now = timezone.now()
    users, homes = [], []
    for index, store in enumerate(stores):
        for n in range(PART_TIMERS_PER_STORE):
            users.append(User(username=f"{ctx.code}-pt-{index + 1}-{n + 1}", password=ctx.password_hash,
                              is_active=True, date_joined=now))
            homes.append(store)
    User.objects.bulk_create(users, batch_size=1000)
    part_timers = [Staff(user=u, enterprise=ctx.enterprise, home=h, employee_no=f"P{i:06d}",
                         display_name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(2)))
                   for i, (u, h) in enumerate(zip(users, homes), start=1)]
    Staff.objects.bulk_create(part_timers, batch_size=1000)
    RoleAssignment.objects.bulk_create([RoleAssignment(staff=s, role=Role.GUIDE, node=s.home) for s in part_timers],
                                       batch_size=1000)
    # the org step's store people and the part-timers (not a guide another step added for its own story)
    ours = {s.pk for s in ctx.created.get("staff", [])} | {s.pk for s in part_timers}
    crew = list(RoleAssignment.objects.filter(node__in=stores, role__in=[Role.STORE_MANAGER, Role.GUIDE],
                                              staff_id__in=ours)
                .order_by("node_id", "staff_id").values_list("staff_id", "role", "node_id"))
    pt_ids = {s.pk for s in part_timers}
    terms, availability = [], []
    seen_guides: dict[int, int] = {}
    for staff_id, role, node_id in crew:
        part = staff_id in pt_ids
        if role == Role.STORE_MANAGER:
            rate, skills, shared = 3500, ["cashier", "floor", "stock"], False
        elif part:
            rate, skills, shared = 2200, ["cashier", "floor"], False
        else:
            seen_guides[node_id] = seen_guides.get(node_id, 0) + 1
            first = seen_guides[node_id] == 1
            rate = 2600 + 100 * rng.randrange(4)
            skills = ["cashier", "floor", "stock"] if first else ["floor", "stock"] if rng.random() < 0.3 \
                else ["cashier", "floor"]
            shared = first
        terms.append(StaffTerms(staff_id=staff_id, hourly_rate=rate, skills=skills, is_part_time=part,
                                is_shared=shared, travel_cost=1500 if shared else 0))
        for weekday in range(7):
            if part:
                span = (9, 23) if weekday >= 5 else (16, 23)  # students: evenings and weekends
            else:
                span = (6, 23)
            availability.append(Availability(staff_id=staff_id, weekday=weekday, start_hour=span[0],
                                             end_hour=span[1]))
    StaffTerms.objects.bulk_create(terms, batch_size=1000)
    Availability.objects.bulk_create(availability, batch_size=1000)
    ctx.counts.update({"staffing_standards": len(stores), "staffing_part_timers": len(part_timers),
                       "staffing_terms": len(terms), "staffing_availability": len(availability)})


step = Step(name="staffing", shape=shape, run=run, labels=LABELS, after_history=True)


def plan_demo_week(code: str = "demo", time_limit: float = 5.0) -> int:
    """Plan this week for every region of the demo chain (once the warehouse holds its history); the plans made."""
    from yundian.org.models import OrgNode
    from yundian.org.roles import NodeKind
    from yundian.staffing.models import ShiftPlan
    from yundian.staffing.services import plan_week, week_of

    monday = week_of(timezone.localdate())  # this week: the shifts show on today's phone pages
    parents = set(OrgNode.objects.filter(enterprise__code=code, kind=NodeKind.STORE, is_active=True)
                  .values_list("parent_id", flat=True))
    made = 0
    for node in OrgNode.objects.filter(pk__in=parents).order_by("path"):
        if not ShiftPlan.objects.filter(node=node, week_start=monday).exists():
            plan_week(actor=None, node=node, week_start=monday, time_limit=time_limit)
            made += 1
    return made
