"""What a journey did: per node entered / passed / waiting / exited, and per journey the goal's conversion,
revenue, coupon cost and uplift against the holdout (`stats.uplift`).

Per node (summed over the journey's versions; the canvas keeps node ids across versions):
    entered  members who reached the node (stepped there, waiting there, or stopped there)
    passed   stepped through it and left by one of its ports
    waiting  in the journey and at the node now (a wait not over yet, or due and not yet stepped)
    exited   ended there: an end node, or the journey stopped while they were there

The goal is met by an enrolment when its member placed a paid order (or, for an event goal, did the event) within
the goal's days after entering. Treated: enrolments not sent to a split's holdout; control: those that were.
Revenue is the paid total of the treated members' orders within their window; coupon cost the discount given by
redeemed coupons this journey issued.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import (Count, DateTimeField, Exists, ExpressionWrapper, IntegerField, OuterRef, Q,
                              Subquery, Sum, Value)
from django.db.models.functions import Coalesce

from . import graph as graphs
from .models import Enrolment, EnrolmentStatus, Journey, StepRun, StepStatus
from .stats import Uplift, uplift

PAID = ("paid", "fulfilled", "completed", "partially_returned", "returned")


def node_counts(journey: Journey) -> dict[str, dict[str, int]]:
    """{node id: {"entered", "passed", "waiting", "exited"}} for every node that saw anyone."""
    out: dict[str, dict[str, int]] = {}

    def slot(node: str) -> dict[str, int]:
        return out.setdefault(node, {"entered": 0, "passed": 0, "waiting": 0, "exited": 0})

    steps = (StepRun.objects.filter(journey=journey, status=StepStatus.DONE)
             .values("node").annotate(passed=Count("id", filter=~Q(port="")), ended=Count("id", filter=Q(port=""))))
    for row in steps:
        s = slot(row["node"])
        s["passed"] += row["passed"]
        s["exited"] += row["ended"]
        s["entered"] += row["passed"] + row["ended"]
    here = (Enrolment.objects.filter(journey=journey, status__in=[EnrolmentStatus.ACTIVE, EnrolmentStatus.EXITED])
            .values("node", "status").annotate(n=Count("id")))
    for row in here:
        s = slot(row["node"])
        s["entered"] += row["n"]
        s["waiting" if row["status"] == EnrolmentStatus.ACTIVE else "exited"] += row["n"]
    return out


@dataclass(frozen=True)
class JourneyResults:
    enrolled: int
    active: int
    done: int
    exited: int
    goal: dict
    uplift: Uplift
    revenue: int  # fen, the treated members' paid orders within their goal window
    coupon_cost: int  # fen
    coupons_issued: int
    nodes: dict[str, dict[str, int]]
    arms: list[dict]  # [{"arm", "members", "converted", "rate"}], "" being members no split sent anywhere


def _goal_exists(journey: Journey):
    days = journey.goal.get("days", 7)
    window_end = ExpressionWrapper(OuterRef("entered_at") + Value(timedelta(days=days)), output_field=DateTimeField())
    if journey.goal.get("kind") == "event":
        from yundian.cdp.models import EventInbox

        return Exists(EventInbox.objects.filter(enterprise_id=journey.enterprise_id, member_id=OuterRef("member_id"),
                                                kind=journey.goal["event"], occurred_at__gte=OuterRef("entered_at"),
                                                occurred_at__lt=window_end))
    from yundian.sales.models import Order

    return Exists(Order.objects.filter(member_id=OuterRef("member_id"), status__in=PAID,
                                       placed_at__gte=OuterRef("entered_at"), placed_at__lt=window_end))


def _revenue(journey: Journey) -> int:
    from yundian.sales.models import Order

    days = journey.goal.get("days", 7)
    window_end = ExpressionWrapper(OuterRef("entered_at") + Value(timedelta(days=days)), output_field=DateTimeField())
    spent = (Order.objects.filter(member_id=OuterRef("member_id"), status__in=PAID,
                                  placed_at__gte=OuterRef("entered_at"), placed_at__lt=window_end)
             .order_by().values("member_id").annotate(total=Sum("paid_total")).values("total"))
    total = (Enrolment.objects.filter(journey=journey).exclude(arm=graphs.HOLDOUT)
             .annotate(spent=Coalesce(Subquery(spent, output_field=IntegerField()), 0))
             .aggregate(t=Sum("spent"))["t"])
    return int(total or 0)


def results_compute(journey: Journey, *, confidence: float = 0.95) -> JourneyResults:
    """The journey's results now (reads only; a few grouped queries)."""
    from yundian.promotions.models import Coupon, CouponRedemption

    by_status = dict(Enrolment.objects.filter(journey=journey).values("status").annotate(n=Count("id"))
                     .values_list("status", "n"))
    groups = (Enrolment.objects.filter(journey=journey)
              .annotate(converted=_goal_exists(journey))
              .values("arm")
              .annotate(n=Count("id"), conv=Count("id", filter=Q(converted=True))))
    treated = treated_conv = control = control_conv = 0
    groups = list(groups)
    arms = [{"arm": g["arm"], "members": g["n"], "converted": g["conv"], "rate": g["conv"] / g["n"] if g["n"] else None}
            for g in sorted(groups, key=lambda g: (g["arm"] == graphs.HOLDOUT, g["arm"]))]
    for g in groups:
        if g["arm"] == graphs.HOLDOUT:
            control, control_conv = control + g["n"], control_conv + g["conv"]
        else:
            treated, treated_conv = treated + g["n"], treated_conv + g["conv"]
    prefix = f"jy{journey.pk}:"
    issued = Coupon.objects.filter(source__startswith=prefix, enterprise_id=journey.enterprise_id)
    cost = (CouponRedemption.objects.filter(coupon__in=issued, status="redeemed").aggregate(t=Sum("discount"))["t"]
            or 0)
    return JourneyResults(
        enrolled=sum(by_status.values()), active=by_status.get(EnrolmentStatus.ACTIVE, 0),
        done=by_status.get(EnrolmentStatus.DONE, 0), exited=by_status.get(EnrolmentStatus.EXITED, 0),
        goal=journey.goal,
        uplift=uplift(treated=treated, treated_converted=treated_conv, control=control,
                      control_converted=control_conv, confidence=confidence),
        revenue=_revenue(journey), coupon_cost=int(cost), coupons_issued=issued.count(), nodes=node_counts(journey),
        arms=arms)


def journey_results(*, actor, journey_id: int) -> dict:
    """The results of a journey the actor may see (404 otherwise), as the canvas draws them: node counts, entered,
    converted and the conversion rate, revenue and coupon cost (fen, with the currency), and the uplift against
    the holdout with its interval and conversion by arm."""
    from django.utils.translation import gettext as _

    from .services import journey_get

    journey = journey_get(actor=actor, journey_id=journey_id)
    r = results_compute(journey)
    u = r.uplift
    converted = u.treated_converted + u.control_converted
    labels = {graphs.HOLDOUT: _("Holdout"), "": _("Everyone")}
    return {
        "nodes": r.nodes, "goal": r.goal, "currency": journey.enterprise.currency, "entered": r.enrolled,
        "active": r.active, "done": r.done, "exited": r.exited, "converted": converted,
        "conversion_rate": converted / r.enrolled if r.enrolled else None, "revenue": r.revenue,
        "coupon_cost": r.coupon_cost, "coupons_issued": r.coupons_issued,
        "uplift": {**u.__dict__, "holdout_members": u.control, "uplift": u.difference,
                   "arms": [{**a, "label": labels.get(a["arm"], _("Arm %(arm)s") % {"arm": a["arm"].upper()})}
                            for a in r.arms]},
    }


def converted_counts(journey_ids) -> dict[int, int]:
    """{journey id: enrolments that reached their journey's goal} (the journey list's column)."""
    out = {}
    for journey in Journey.objects.filter(pk__in=list(journey_ids)):
        out[journey.pk] = Enrolment.objects.filter(journey=journey).filter(_goal_exists(journey)).count()
    return out


__all__ = ["node_counts", "results_compute", "journey_results", "converted_counts", "JourneyResults"]
