"""Running journeys: enrolling members and stepping enrolments, each step exactly once.

How exactly-once is kept (several workers, retries, kill -9 at any point):

1. **Claim** (one short transaction per batch): up to BATCH due enrolments of live journeys are leased to this
   worker (`lease_token`, `lease_until`), rows another worker holds being skipped (SKIP LOCKED on PostgreSQL, the
   lease condition in the UPDATE on both databases). A lease that outlived a dead worker is taken over.
2. **Step claim** (one transaction per hop): one StepRun (enrolment, seq = the enrolment's step counter) is
   inserted per enrolment, unique, before anything acts. A StepRun already there and still running is the mark of
   a step that crashed mid-way: it is run again (`attempts` + 1).
3. **Act** (no transaction held across network calls): every side effect carries a key made of the enrolment
   and the step, unique where it lands — a coupon's `source` (`jy<journey>:<enrolment>:<seq>`), a points entry's
   source id, a message's key, a guide task's key, a webhook call's key; a tag change writes only a difference. So
   running a step again (after a crash, or by a worker whose lease was taken over) does nothing twice.
4. **Advance** (one transaction per hop): the StepRuns are marked done with the port they left by and the
   enrolments move to the next node, only where this worker still holds the lease and the enrolment is still
   active (a stop in between wins). Steps whose next node is due at once (not a wait) run in the same batch, up to
   MAX_HOPS.

All writes are set-based ORM statements: per batch one locking SELECT and one UPDATE to lease; per hop one INSERT
of StepRuns, one UPDATE of StepRuns per (seq, port) and one UPDATE of enrolments per distinct new state (node,
step, due time...), so a batch of 1,000 costs a handful of statements whatever its size, not 1,000 of anything.
"""
from __future__ import annotations

import hashlib
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Func, Q, TextField, Value
from django.db.models.functions import Cast, Concat

from yundian.core import when

from . import graph as graphs
from .models import Enrolment, EnrolmentStatus, Journey, JourneyStatus, JourneyVersion, StepRun, StepStatus

log = logging.getLogger(__name__)

BATCH = 1_000
LEASE = timedelta(minutes=5)
MAX_HOPS = 10
ENROL_CHUNK = 2_000
CHUNK = 1_000  # rows per bulk statement


# --- enrolling ------------------------------------------------------------------------------------------------

def enrol(*, journey: Journey, candidates: list[tuple[int, str, dict]], now: datetime | None = None) -> int:
    """Enrol members in the journey's live version: candidates are (member_id, trigger key, context). Members
    outside the journey's subtree, not active or not of its enterprise are left out; the entry's re-entry rule
    holds ("never": once ever, the key being the member; "after_days": again once N days passed since they last
    entered, the key being the trigger's). Unique (journey, key): a trigger seen twice enrols once. Returns the
    number enrolled. Runs in the caller's transaction when there is one."""
    from yundian.members.models import Member, MemberStatus

    if not candidates or journey.live_version_id is None:
        return 0
    now = now or when.now()
    version = journey.live_version
    entry = graphs.entry_of(version.graph)
    reentry = entry["config"].get("reentry", "never")
    days = entry["config"].get("reentry_days", 0)
    path = journey.node.path
    added = 0
    for start in range(0, len(candidates), ENROL_CHUNK):
        chunk = candidates[start:start + ENROL_CHUNK]
        ids = {m for m, _k, _c in chunk}
        ok = set(Member.objects.filter(pk__in=ids, enterprise_id=journey.enterprise_id, status=MemberStatus.ACTIVE,
                                       home__path__startswith=path).values_list("pk", flat=True))
        recent: set[int] = set()
        if reentry == "after_days":
            recent = set(Enrolment.objects.filter(journey=journey, member_id__in=ok,
                                                  entered_at__gt=now - timedelta(days=days))
                         .values_list("member_id", flat=True))
        rows: dict[str, Enrolment] = {}
        for member_id, trigger_key, context in chunk:
            if member_id not in ok or member_id in recent:
                continue
            key = f"m{member_id}" if reentry == "never" else f"m{member_id}:{trigger_key}"[:96]
            if key in rows:
                continue
            if reentry == "after_days":
                recent.add(member_id)
            rows[key] = Enrolment(enterprise_id=journey.enterprise_id, journey=journey, version=version,
                                  member_id=member_id, key=key, node=entry["id"], step=0, due_at=now,
                                  entered_at=now, context=context or {})
        if not rows:
            continue
        taken = set(Enrolment.objects.filter(journey=journey, key__in=list(rows)).values_list("key", flat=True))
        fresh = [e for k, e in rows.items() if k not in taken]
        Enrolment.objects.bulk_create(fresh, batch_size=CHUNK, ignore_conflicts=True)
        added += len(fresh)
    return added


# --- stepping -------------------------------------------------------------------------------------------------

@dataclass
class Row:
    id: int
    journey_id: int
    version_id: int
    member_id: int
    enterprise_id: int
    node: str
    step: int
    waited_from: datetime | None
    entered_at: datetime
    arm: str
    context: dict
    kind: str = ""
    port: str | None = None
    detail: dict = field(default_factory=dict)
    status: str = EnrolmentStatus.ACTIVE
    due_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def key(self) -> str:
        """The key of this step's side effects (fits a coupon's 40-character source)."""
        return f"jy{self.journey_id}:{self.id}:{self.step}"


_FIELDS = ("id", "journey_id", "version_id", "member_id", "enterprise_id", "node", "step", "waited_from",
           "entered_at", "arm", "context")


class _Graphs:
    """Versions' graphs, read once per batch."""

    def __init__(self):
        self._by_version: dict[int, tuple[dict, dict]] = {}
        self.journeys: dict[int, Journey] = {}

    def load(self, version_ids, journey_ids) -> None:
        missing = set(version_ids) - set(self._by_version)
        for v in JourneyVersion.objects.filter(pk__in=missing).only("id", "graph"):
            self._by_version[v.pk] = (graphs.node_map(v.graph), graphs.edge_map(v.graph))
        need = set(journey_ids) - set(self.journeys)
        for j in Journey.objects.filter(pk__in=need).select_related("node"):
            self.journeys[j.pk] = j

    def node(self, row: Row) -> dict:
        return self._by_version[row.version_id][0][row.node]

    def kind_of(self, version_id: int, node_id: str) -> str:
        return self._by_version[version_id][0][node_id]["kind"]

    def config_of(self, version_id: int, node_id: str) -> dict:
        return self._by_version[version_id][0][node_id].get("config") or {}

    def next_of(self, row: Row) -> str | None:
        return self._by_version[row.version_id][1].get((row.node, row.port))


def _claim(limit: int, now: datetime, token: str) -> list[Row]:
    """Lease up to `limit` due enrolments: one locking SELECT that reads the rows (SKIP LOCKED on PostgreSQL; on
    SQLite the IMMEDIATE transaction serialises claims), then one UPDATE that leases them where still free. When
    the UPDATE leased fewer rows than were read (only possible without row locks), the leased ones are read again."""
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    with transaction.atomic():
        found = list(Enrolment.objects.select_for_update(skip_locked=True, of=("self",))
                     .filter(free, status=EnrolmentStatus.ACTIVE, due_at__lte=now, journey__status=JourneyStatus.LIVE)
                     .order_by("due_at").values(*_FIELDS)[:limit])
        if not found:
            return []
        ids = [r["id"] for r in found]
        leased = Enrolment.objects.filter(free, pk__in=ids).update(lease_token=token, lease_until=now + LEASE)
    if leased == len(found):
        return [Row(**r) for r in found]
    return [Row(**r) for r in Enrolment.objects.filter(pk__in=ids, lease_token=token, status=EnrolmentStatus.ACTIVE)
            .values(*_FIELDS)]


def step_due(*, limit: int = BATCH, now: datetime | None = None, hops: int = MAX_HOPS, on_hop=None) -> int:
    """Lease up to `limit` due enrolments and run their steps, chaining steps due at once up to `hops`; returns
    the number of steps run (0: nothing was due). `on_hop(phase, rows)` is called between phases (tests, crash)."""
    now = now or when.now()
    token = uuid.uuid4().hex
    rows = _claim(limit, now, token)
    if not rows:
        return 0
    cache = _Graphs()
    total = 0
    for hop in range(hops):
        if not rows:
            break
        cache.load({r.version_id for r in rows}, {r.journey_id for r in rows})
        _claim_steps(rows, cache, now, first=hop == 0)
        if on_hop:
            on_hop("claimed", rows)
        _act(rows, cache, now)
        if on_hop:
            on_hop("acted", rows)
        last = hop == hops - 1
        going = _advance(rows, cache, now, token, last=last)
        total += len(rows)
        rows = going
    return total


def step_all(*, limit: int = BATCH, now: datetime | None = None, max_batches: int | None = None) -> int:
    """Run batches until nothing is due (or `max_batches`); returns the steps run."""
    total = batches = 0
    while max_batches is None or batches < max_batches:
        n = step_due(limit=limit, now=now)
        if not n:
            break
        total += n
        batches += 1
    return total


def _claim_steps(rows: list[Row], cache: _Graphs, now: datetime, *, first: bool) -> None:
    for r in rows:
        r.kind = cache.kind_of(r.version_id, r.node)
        r.port, r.detail = None, {}
    with transaction.atomic():
        if first:
            # a step still running from an earlier attempt (the worker died or its lease ran out): run it again
            replays = list(StepRun.objects.filter(enrolment_id__in=[r.id for r in rows], status=StepStatus.RUNNING)
                           .values_list("id", "enrolment_id", "seq"))
            by_id = {r.id: r for r in rows}
            again = [pk for pk, e, seq in replays if by_id[e].step == seq]
            if again:
                from django.db.models import F

                StepRun.objects.filter(pk__in=again).update(attempts=F("attempts") + 1)
        StepRun.objects.bulk_create(
            [StepRun(journey_id=r.journey_id, version_id=r.version_id, enrolment_id=r.id, seq=r.step, node=r.node,
                     kind=r.kind, status=StepStatus.RUNNING, port="", attempts=1, detail={}, started_at=now)
             for r in rows], batch_size=CHUNK, ignore_conflicts=True)


# --- advancing ------------------------------------------------------------------------------------------------

def _local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _next_local(now: datetime, at: time, day_offset: int = 0) -> datetime:
    zone = _local_zone()
    local = now.astimezone(zone)
    moment = datetime.combine(local.date() + timedelta(days=day_offset), at, tzinfo=zone)
    if moment <= local:
        moment += timedelta(days=1)
    return moment.astimezone(now.tzinfo)


def wait_until(config: dict, now: datetime, birthday=None) -> datetime:
    """When a wait entered at `now` ends."""
    mode = config.get("mode")
    if mode == "duration":
        return now + timedelta(seconds=config["amount"] * graphs.WAIT_UNITS[config["unit"]])
    hours, minutes = (int(x) for x in config["time"].split(":"))
    if mode == "time_of_day":
        return _next_local(now, time(hours, minutes))
    if birthday is None:  # date_property without the date: no wait
        return now
    zone = _local_zone()
    today = now.astimezone(zone).date()
    for year in (today.year, today.year + 1):
        try:
            day = birthday.replace(year=year)
        except ValueError:  # 29 February in a common year
            day = birthday.replace(year=year, day=28)
        moment = datetime.combine(day + timedelta(days=config.get("offset_days", 0)), time(hours, minutes),
                                  tzinfo=zone).astimezone(now.tzinfo)
        if moment > now:
            return moment
    return now


def _advance(rows: list[Row], cache: _Graphs, now: datetime, token: str, *, last: bool) -> list[Row]:
    """Mark the steps done and move the enrolments on (one transaction); returns the rows due again at once."""
    birthdays = {}
    entering_wait = defaultdict(list)
    for r in rows:
        if r.port is None:
            r.status, r.ended_at, r.due_at = EnrolmentStatus.DONE, now, None
            continue
        nxt = cache.next_of(r)
        if nxt is None:  # not reachable in a validated graph; end rather than stall
            r.status, r.ended_at, r.due_at = EnrolmentStatus.DONE, now, None
            r.detail["dead_end"] = True
            continue
        r.node, r.step = nxt, r.step + 1
        if cache.kind_of(r.version_id, nxt) == "wait":
            r.waited_from = now
            config = cache.config_of(r.version_id, nxt)
            if config.get("mode") == "date_property":
                entering_wait[nxt].append(r)
            else:
                r.due_at = wait_until(config, now)
        else:
            r.due_at = now
    if entering_wait:
        from yundian.members.models import Member

        ids = {r.member_id for group in entering_wait.values() for r in group}
        birthdays = dict(Member.objects.filter(pk__in=ids).values_list("pk", "birthday"))
        for group in entering_wait.values():
            for r in group:
                r.due_at = wait_until(cache.config_of(r.version_id, r.node), now, birthdays.get(r.member_id))
    going = [r for r in rows if r.status == EnrolmentStatus.ACTIVE and r.due_at <= now and not last]
    going_ids = {r.id for r in going}
    with transaction.atomic():
        _finish_steps(rows, now)
        _move_enrolments(rows, now, token, going_ids)
    return going


def _chunks(items: list, size: int = None):
    size = size or CHUNK
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _finish_steps(rows: list[Row], now: datetime) -> None:
    """Mark the rows' running StepRuns done: one UPDATE per (seq, port) and chunk. Where the chunk's details
    differ (a coupon's id per member), the UPDATE reads each row's detail from one JSON object keyed by enrolment."""
    groups: dict[tuple[int, str], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(r.step - 1 if r.status == EnrolmentStatus.ACTIVE else r.step, r.port or "")].append(r)
    for (seq, port), group in groups.items():
        for chunk in _chunks(group):
            first = chunk[0].detail
            if all(r.detail == first for r in chunk):
                detail = Value(first, output_field=_DETAIL)
            else:
                detail = _detail_by_enrolment({str(r.id): r.detail for r in chunk})
            StepRun.objects.filter(enrolment_id__in=[r.id for r in chunk], seq=seq, status=StepStatus.RUNNING) \
                .update(status=StepStatus.DONE, port=port, detail=detail, finished_at=now)


def _detail_by_enrolment(details: dict[str, dict]):
    """An expression reading each StepRun's detail from `details` ({enrolment id as text: detail})."""
    mapping = Value(details, output_field=_DETAIL)
    if connection.vendor == "postgresql":
        return Func(mapping, Cast("enrolment_id", TextField()), function="jsonb_extract_path", output_field=_DETAIL)
    path = Concat(Value('$."'), Cast("enrolment_id", TextField()), Value('"'), output_field=TextField())
    return Func(mapping, path, function="json_extract", output_field=_DETAIL)


def _move_enrolments(rows: list[Row], now: datetime, token: str, going_ids: set[int]) -> None:
    """Move the enrolments on: one UPDATE per distinct new state and chunk, only where this worker still holds the
    lease and the enrolment is still active (a stop in between wins)."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for r in rows:
        keep = r.id in going_ids
        groups[(r.node, r.step, r.due_at, r.waited_from, r.arm, r.status, r.ended_at, keep)].append(r.id)
    for (node, step, due_at, waited_from, arm, status, ended_at, keep), ids in groups.items():
        for chunk in _chunks(ids):
            Enrolment.objects.filter(pk__in=chunk, lease_token=token, status=EnrolmentStatus.ACTIVE).update(
                node=node, step=step, due_at=due_at, waited_from=waited_from, arm=arm, status=status,
                ended_at=ended_at, lease_token=token if keep else "", lease_until=now + LEASE if keep else None)


_DETAIL = StepRun._meta.get_field("detail")


# --- acting ---------------------------------------------------------------------------------------------------

def _act(rows: list[Row], cache: _Graphs, now: datetime) -> None:
    from . import actions

    groups: dict[tuple[int, str], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(r.version_id, r.node)].append(r)
    for (version_id, node_id), group in groups.items():
        kind = cache.kind_of(version_id, node_id)
        config = cache.config_of(version_id, node_id)
        journey = cache.journeys[group[0].journey_id]
        if kind == "end":
            continue
        if kind in ("entry", "wait"):
            for r in group:
                r.port = "out"
        elif kind == "split":
            for r in group:
                r.port = split_port(config, r.journey_id, node_id, r.member_id)
                if not r.arm:
                    r.arm = r.port
        elif kind == "branch":
            yes = actions.branch_yes(journey, config, group, now)
            for r in group:
                r.port = "yes" if r.id in yes else "no"
        else:
            getattr(actions, f"act_{kind}")(journey, config, group, now)
            for r in group:
                r.port = "out"


def split_port(config: dict, journey_id: int, node_id: str, member_id: int) -> str:
    """The arm a member takes at a split: stable (a hash of journey, node and member), holdout first, then the
    arms by weight."""
    digest = hashlib.blake2b(f"{journey_id}:{node_id}:{member_id}".encode(), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2 ** 64 * 100  # uniform in [0, 100)
    holdout = config.get("holdout", 0) or 0
    if u < holdout:
        return graphs.HOLDOUT
    weights = config["weights"]
    point = (u - holdout) / (100 - holdout) * sum(weights)
    for port, weight in zip(graphs.ARM_PORTS, weights):
        if point < weight:
            return port
        point -= weight
    return graphs.ARM_PORTS[len(weights) - 1]
