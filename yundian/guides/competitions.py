"""Competitions (竞赛PK) and leaderboards: guides (or stores) under a node compete on a metric over a period.

A metric is a function (enterprise id, node path, competitor kind, start, end) -> {guide or store id: value}:
sales (paid order lines net of returns; for stores the orders' paid less refunded), new members (registered by
the guide or at the store, plus members who signed up through the guide's share links), shares (materials shared)
and tasks done (the guide tasks marked done in the period; another metric can be added with `metric_register`). The leaderboard is computed live;
closing a finished competition records each place and the prizes (the top `prize_top_n` places) once.
`my_competitions` and `month_board` feed the phone's "my ranking" (the guide's place, their row highlighted);
`my_ranking` is the API's summary of both.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.tasks import task
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.members.models import Member
from yundian.org.models import OrgNode, RoleAssignment, Staff
from yundian.org.roles import NodeKind, Perm, Role
from yundian.org.selectors import require, scope_paths, scope_q
from yundian.promotions.models import ShareLinkSignup
from yundian.sales.models import Order, OrderLine, OrderStatus, ReturnLine

from .materials import _when
from .models import Competition, CompetitionMetric, CompetitionResult, CompetitorKind, MaterialShare

MetricFn = Callable[[int, str, str, datetime, datetime], dict[int, int]]


def _sales(enterprise_id: int, path: str, competitor: str, starts: datetime, ends: datetime) -> dict[int, int]:
    if competitor == CompetitorKind.STORE:
        rows = (Order.objects.filter(enterprise_id=enterprise_id, store__path__startswith=path, paid_at__gte=starts,
                                     paid_at__lt=ends).exclude(status=OrderStatus.CANCELLED)
                .values("store_id").annotate(v=Sum(F("paid_total") - F("refunded_total"))).values_list("store_id", "v"))
        return {k: v or 0 for k, v in rows}
    lines = OrderLine.objects.filter(order__enterprise_id=enterprise_id, order__store__path__startswith=path,
                                     order__paid_at__gte=starts, order__paid_at__lt=ends, guide__isnull=False) \
        .exclude(order__status=OrderStatus.CANCELLED)
    out = {k: v or 0 for k, v in lines.values("guide_id").annotate(v=Sum("line_total")).values_list("guide_id", "v")}
    returned = (ReturnLine.objects.filter(order_line__in=lines).values("order_line__guide_id")
                .annotate(v=Sum("amount")).values_list("order_line__guide_id", "v"))
    for guide_id, amount in returned:
        out[guide_id] = out.get(guide_id, 0) - (amount or 0)
    return out


def _new_members(enterprise_id: int, path: str, competitor: str, starts: datetime, ends: datetime) -> dict[int, int]:
    members = Member.objects.filter(enterprise_id=enterprise_id, home__path__startswith=path, created_at__gte=starts,
                                    created_at__lt=ends)
    if competitor == CompetitorKind.STORE:
        return dict(members.values("home_id").annotate(v=Count("id")).values_list("home_id", "v"))
    by_guide: dict[int, set[int]] = {}
    for member_id, guide_id in members.filter(registered_by__isnull=False).values_list("pk", "registered_by_id"):
        by_guide.setdefault(guide_id, set()).add(member_id)
    for member_id, guide_id in (ShareLinkSignup.objects.filter(member__in=members, link__sharer_staff__isnull=False)
                                .values_list("member_id", "link__sharer_staff_id")):
        by_guide.setdefault(guide_id, set()).add(member_id)
    return {guide_id: len(ids) for guide_id, ids in by_guide.items()}


def _shares(enterprise_id: int, path: str, competitor: str, starts: datetime, ends: datetime) -> dict[int, int]:
    shares = MaterialShare.objects.filter(store__enterprise_id=enterprise_id, store__path__startswith=path,
                                          created_at__gte=starts, created_at__lt=ends)
    key = "store_id" if competitor == CompetitorKind.STORE else "guide_id"
    return dict(shares.values(key).annotate(v=Count("id")).values_list(key, "v"))


def _tasks(enterprise_id: int, path: str, competitor: str, starts: datetime, ends: datetime) -> dict[int, int]:
    from .models import GuideTask, TaskStatus

    done = GuideTask.objects.filter(enterprise_id=enterprise_id, store__path__startswith=path,
                                    status=TaskStatus.DONE, done_at__gte=starts, done_at__lt=ends)
    key = "store_id" if competitor == CompetitorKind.STORE else "guide_id"
    return dict(done.values(key).annotate(v=Count("id")).values_list(key, "v"))


_METRICS: dict[str, MetricFn] = {CompetitionMetric.SALES: _sales, CompetitionMetric.NEW_MEMBERS: _new_members,
                                 CompetitionMetric.SHARES: _shares, CompetitionMetric.TASKS: _tasks}


def metric_register(name: str, fn: MetricFn) -> MetricFn:
    """Provide a metric (the tasks module registers "tasks": tasks done per guide or store in the window)."""
    _METRICS[name] = fn
    return fn


def metric_values(metric: str, *, enterprise_id: int, path: str, competitor: str, starts: datetime,
                  ends: datetime) -> dict[int, int]:
    fn = _METRICS.get(metric)
    return fn(enterprise_id, path, competitor, starts, ends) if fn else {}


# --- competitions -------------------------------------------------------------------------------------------

@transaction.atomic
def competition_create(*, actor: Staff, node_id: int, name: str, competitor: str, metric: str, starts_at: Any,
                       ends_at: Any, prize_top_n: int = 3, prize: str = "") -> Competition:
    """A competition among the guides (or stores) under `node` (competition.manage there). Audited."""
    node = OrgNode.objects.filter(pk=node_id, enterprise_id=actor.enterprise_id).first() \
        if isinstance(node_id, int) and not isinstance(node_id, bool) else None
    if node is None:
        raise NotFound(_("Org node not found."), code="org_node_not_found")
    require(actor, Perm.COMPETITION_MANAGE, node)
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 120 or not name.isprintable():
        raise ValidationFailed(_("A name of 1 to 120 characters is required."), code="invalid_name",
                               details={"field": "name"})
    if competitor not in CompetitorKind.values:
        raise ValidationFailed(_("Guides or stores compete."), code="invalid_competitor", details={"field": "competitor"})
    if metric not in CompetitionMetric.values:
        raise ValidationFailed(_("Unknown metric."), code="invalid_metric", details={"field": "metric"})
    if competitor == CompetitorKind.STORE and node.kind == NodeKind.STORE:
        raise ValidationFailed(_("Stores compete under a region or HQ."), code="invalid_node",
                               details={"field": "node_id"})
    starts, ends = _when(starts_at, "starts_at"), _when(ends_at, "ends_at")
    if starts is None or ends is None or ends <= starts or ends - starts > timedelta(days=366):
        raise ValidationFailed(_("Give a start and an end after it, within a year."), code="invalid_window",
                               details={"field": "ends_at"})
    if isinstance(prize_top_n, bool) or not isinstance(prize_top_n, int) or not 0 <= prize_top_n <= 100:
        raise ValidationFailed(_("Prizes go to the top 0 to 100."), code="invalid_prize",
                               details={"field": "prize_top_n"})
    prize = prize.strip() if isinstance(prize, str) else ""
    if len(prize) > 200:
        raise ValidationFailed(_("The prize is at most 200 characters."), code="invalid_prize",
                               details={"field": "prize"})
    competition = Competition.objects.create(enterprise_id=actor.enterprise_id, node=node, name=name,
                                             competitor=competitor, metric=metric, starts_at=starts, ends_at=ends,
                                             prize_top_n=prize_top_n, prize=prize, created_by=actor)
    audit_record(actor=actor, action="competition.create", target=competition, scope_path=node.path,
                 after={"name": name, "metric": metric, "competitor": competitor, "node_id": node.pk,
                        "starts_at": starts.isoformat(), "ends_at": ends.isoformat(), "prize_top_n": prize_top_n,
                        "prize": prize})
    return competition


def competition_list(*, actor: Staff) -> Any:
    """Competitions the actor sees: those over a node of their subtree, and those over an ancestor of their
    stores (a guide sees the competitions they are in)."""
    own = scope_q(actor, Perm.ORG_VIEW, "node__path")
    ancestors = {int(p) for path in scope_paths(actor, Perm.ORG_VIEW) for p in path.strip("/").split("/") if p}
    return (Competition.objects.filter(own | Q(node_id__in=ancestors), enterprise_id=actor.enterprise_id)
            .select_related("node"))


def competition_get(*, actor: Staff, competition_id: Any) -> Competition:
    competition = (competition_list(actor=actor).filter(pk=competition_id).first()
                   if isinstance(competition_id, int) and not isinstance(competition_id, bool) else None)
    if competition is None:
        raise NotFound(_("Competition not found."), code="competition_not_found")
    return competition


@dataclass
class Standing:
    rank: int
    key: int
    name: str
    value: int
    prize: str = ""


def _competitors(competition: Competition) -> dict[int, str]:
    path = competition.node.path
    if competition.competitor == CompetitorKind.STORE:
        return dict(OrgNode.objects.filter(enterprise_id=competition.enterprise_id, path__startswith=path,
                                           kind=NodeKind.STORE, is_active=True).values_list("pk", "name"))
    return dict(RoleAssignment.objects.filter(role=Role.GUIDE, node__path__startswith=path,
                                              node__enterprise_id=competition.enterprise_id, staff__is_active=True)
                .values_list("staff_id", "staff__display_name"))


def leaderboard(competition: Competition, *, now: datetime | None = None) -> list[Standing]:
    """Every competitor's value so far (up to now, or the end), best first; equal values share a place."""
    now = now or timezone.now()
    if competition.closed_at is not None:
        names = _competitors(competition)
        return [Standing(r.rank, r.guide_id or r.store_id, names.get(r.guide_id or r.store_id) or
                         str((r.guide or r.store)), r.value, r.prize)
                for r in competition.results.select_related("guide", "store")]
    names = _competitors(competition)
    values = metric_values(competition.metric, enterprise_id=competition.enterprise_id, path=competition.node.path,
                           competitor=competition.competitor, starts=competition.starts_at,
                           ends=min(now, competition.ends_at))
    ordered = sorted(names, key=lambda k: (-values.get(k, 0), names[k], k))
    standings, rank, last = [], 0, None
    for position, key in enumerate(ordered, start=1):
        value = values.get(key, 0)
        if value != last:
            rank, last = position, value
        standings.append(Standing(rank, key, names[key], value))
    return standings


@transaction.atomic
def competition_close(*, actor: Staff, competition_id: int, now: datetime | None = None) -> list[CompetitionResult]:
    """Record the final places and prizes of a finished competition, once (a second call returns the same rows).
    409 `competition_running` before its end. Locks: the competition row. Audited."""
    competition = competition_get(actor=actor, competition_id=competition_id)
    require(actor, Perm.COMPETITION_MANAGE, competition.node)
    now = now or timezone.now()
    competition = Competition.objects.select_for_update().select_related("node").get(pk=competition.pk)
    if competition.closed_at is not None:
        return list(competition.results.all())
    if now < competition.ends_at:
        raise Conflict(_("The competition has not ended yet."), code="competition_running")
    standings = leaderboard(competition, now=competition.ends_at)
    field = "store_id" if competition.competitor == CompetitorKind.STORE else "guide_id"
    results = CompetitionResult.objects.bulk_create([
        CompetitionResult(competition=competition, rank=s.rank, value=s.value, **{field: s.key},
                          prize=competition.prize if s.rank <= competition.prize_top_n and s.value > 0 else "")
        for s in standings])
    Competition.objects.filter(pk=competition.pk).update(closed_at=now, updated_at=now)
    audit_record(actor=actor, action="competition.close", target=competition, scope_path=competition.node.path,
                 after={"winners": [{"rank": r.rank, field: getattr(r, field), "value": r.value, "prize": r.prize}
                                    for r in results if r.prize]})
    return results


def competitions_due(*, now: datetime | None = None) -> list[Competition]:
    """Finished competitions whose results are not recorded yet (the scheduler closes them)."""
    return list(Competition.objects.filter(closed_at__isnull=True, ends_at__lte=now or timezone.now()))


def competition_close_due(*, now: datetime | None = None) -> int:
    """Close every finished competition as the one who set it up; returns how many were closed."""
    closed = 0
    for competition in competitions_due(now=now):
        try:
            competition_close(actor=competition.created_by, competition_id=competition.pk, now=now)
            closed += 1
        except (NotFound, Conflict):
            continue
    return closed


@task()
def close_finished_competitions() -> int:
    """Hourly (core.scheduler.SCHEDULE): record the results and prizes of every competition that has ended."""
    return competition_close_due()


# --- a guide's own ranking (the phone's "my ranking") -------------------------------------------------------

@dataclass
class MyStanding:
    competition: Competition | None
    metric: str
    rank: int | None
    of: int
    value: int
    gap_to_next: int | None  # what it takes to pass the one ahead (None: first)


BOARD_METRICS = (CompetitionMetric.SALES, CompetitionMetric.NEW_MEMBERS, CompetitionMetric.TASKS,
                 CompetitionMetric.SHARES)


def my_competitions(*, actor: Staff, now: datetime | None = None) -> list[MyStanding]:
    """The guide's place in each running guide-vs-guide competition they are in."""
    now = now or timezone.now()
    running = competition_list(actor=actor).filter(starts_at__lte=now, ends_at__gt=now,
                                                   competitor=CompetitorKind.GUIDE)
    return [_mine(leaderboard(c, now=now), actor.pk, c, c.metric) for c in running]


def month_board(*, actor: Staff, metric: str, node: OrgNode | None = None,
                now: datetime | None = None) -> tuple[list[Standing], MyStanding]:
    """This month's board of the guides under `node` (the actor's home when not given) on a metric (sales, new
    members, tasks done, shares), best first, and the actor's own place in it."""
    now = now or timezone.now()
    node = node or actor.home
    start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    board = leaderboard(Competition(enterprise_id=actor.enterprise_id, node=node, metric=metric,
                                    competitor=CompetitorKind.GUIDE, starts_at=start,
                                    ends_at=now + timedelta(seconds=1)), now=now)
    return board, _mine(board, actor.pk, None, metric)


def my_ranking(*, actor: Staff, now: datetime | None = None) -> list[MyStanding]:
    """The guide's place in each running competition they are in (guide vs guide), then in this month's board
    of their store's region for sales, new members and shares."""
    now = now or timezone.now()
    out = my_competitions(actor=actor, now=now)
    store = actor.home
    for metric in (CompetitionMetric.SALES, CompetitionMetric.NEW_MEMBERS, CompetitionMetric.SHARES):
        out.append(month_board(actor=actor, metric=metric, node=store.parent or store, now=now)[1])
    return out


def _mine(board: list[Standing], me: int, competition: Competition | None, metric: str) -> MyStanding:
    for i, standing in enumerate(board):
        if standing.key == me:
            ahead = next((s for s in reversed(board[:i]) if s.value > standing.value), None)
            return MyStanding(competition, metric, standing.rank, len(board), standing.value,
                              None if ahead is None else ahead.value - standing.value + 1)
    return MyStanding(competition, metric, None, len(board), 0, None)


__all__ = ["BOARD_METRICS", "MyStanding", "Standing", "competition_close", "competition_close_due", "competition_create",
           "competition_get", "competition_list", "leaderboard", "metric_register", "metric_values", "month_board", "my_competitions",
           "my_ranking"]
