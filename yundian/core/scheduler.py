"""Periodic tasks: a schedule of (task path, period, time) and `run_due()`, which enqueues each due task once per period.

    SCHEDULE entries (times are local, settings.TIME_ZONE):
        ("yundian.org.tasks.nightly_audit_digest", "daily", "02:00")    every day from 02:00
        ("yundian.x.tasks.refresh", "hourly", ":15")                     every hour from minute 15
        ("yundian.x.tasks.rollup", "weekly", "mon 03:00")                every Monday from 03:00
        ("yundian.x.tasks.expire", "minutes", "5")                       every 5 minutes (a divisor of 60)

A context adds its periodic tasks as lines in SCHEDULE (like PERMISSIONS in org/roles.py). `yundian scheduler`
calls `run_due()` every 30 s; `--once` runs one tick (for cron).

Exactly once per period, however many schedulers run and however often they restart: a period is claimed by
inserting ScheduledRun(task_name, period_key) under a unique constraint. The insert that wins enqueues the task
with transaction.on_commit; a losing insert raises IntegrityError and that scheduler skips the period. A run is
due from its time until its period ends, so a scheduler that was down at 02:00 enqueues today's run when it
comes back (only the current period, never a backlog).

If a process dies between committing the claim and enqueueing, the row keeps enqueued_at empty; after
RETRY_AFTER one scheduler re-claims it with a conditional UPDATE and enqueues it then. (Were the process to die
after enqueueing but before recording it, the task could run twice: tasks are idempotent by house rule.)
"""
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import ScheduledRun

logger = logging.getLogger(__name__)

SCHEDULE: list[tuple[str, str, str]] = [
    ("yundian.org.tasks.nightly_audit_digest", "daily", "02:00"),
    ("yundian.members.tasks.expire_points", "daily", "01:00"),
    ("yundian.members.tasks.review_tiers", "daily", "03:00"),
    ("yundian.members.tasks.birthday_gifts", "daily", "06:00"),
    # a failed group's members wait for their money, a released flash-sale unit for its next buyer: minutes, not hours
    ("yundian.promotions.tasks.expire_group_buys", "minutes", "5"),
    ("yundian.promotions.tasks.release_flash_claims", "minutes", "5"),
    ("yundian.inventory.tasks.replenishment_nightly", "daily", "03:30"),
    ("yundian.inventory.tasks.reservations_expire_task", "hourly", ":05"),
    ("yundian.ops.tasks.purge_login_attempts", "daily", "04:00"),
    # a sale is in the warehouse (dashboards, tags) within a minute
    ("yundian.analytics.tasks.warehouse_sync", "minutes", "1"),
    # the outbox: deferred messages (quiet hours) and retries come due (each enqueue also wakes it)
    ("yundian.messaging.tasks.messages_send_due", "minutes", "1"),
    # ERP sync: schedules (folder imports, exports of changes) and queued jobs whose wake-up was lost
    ("yundian.integrations.erp_tasks.erp_schedules_tick", "minutes", "5"),
    # outside marketplaces: orders in, statuses, stock and prices out
    ("yundian.integrations.channels_tasks.channels_sync_task", "minutes", "1"),
    # webhooks: the outbox's new events become deliveries; due retries go out (`yundian webhooks worker` for less lag)
    ("yundian.integrations.webhooks_tasks.webhooks_deliver_due", "minutes", "1"),
    ("yundian.cdp.tasks.purge_event_inbox", "daily", "04:30"),
    # RFM quintiles, lifecycle stages, preferred store/category, price band and rule tags of every member (a sale
    # already moves its member's within the minute's sync; this moves the quintile bounds and everyone else)
    ("yundian.cdp.tasks.tags_refresh_nightly", "daily", "02:30"),
    # yesterday's / last week's / last month's reports, mailed once per schedule and period
    ("yundian.analytics.tasks.reports_mail", "hourly", ":20"),
    # each enterprise's CLV model (BG/NBD + Gamma-Gamma) refitted on the week's sales, CLV bands as computed tags
    ("yundian.analytics.tasks.clv_refit_weekly", "weekly", "mon 03:45"),
    # dynamic segments re-evaluated after the tags they may name, one size a day for "size over time"
    ("yundian.cdp.tasks.segments_refresh_nightly", "daily", "03:15"),
    # guide tasks: progress and the system's completion (bought after a follow-up, targets met); reminders of
    # tasks due within a day
    ("yundian.guides.tasks.tasks_progress_refresh", "minutes", "5"),
    ("yundian.guides.tasks.tasks_remind", "hourly", ":10"),
    # journeys: members whose trigger fired enter, and steps that are due run (waits end within the minute)
    ("yundian.journeys.tasks.journeys_tick", "minutes", "1"),
    # diagnosis (事找人): every store's and region's KPIs against their forecasts, after the night's sync and tags
    ("yundian.analytics.tasks.diagnosis_nightly", "daily", "04:15"),
    # each enterprise's recommendation models trained on the warehouse (a new version; serving keeps the last good)
    ("yundian.recommend.tasks.recommend_train_nightly", "daily", "04:45"),
    # members who browsed a category without buying, handed to their guide once a week per category
    ("yundian.recommend.tasks.browse_abandon_rescue", "hourly", ":40"),
    # a finished guide or store competition gets its places and prizes recorded within the hour
    ("yundian.guides.competitions.close_finished_competitions", "hourly", ":10"),
]

RETRY_AFTER = timedelta(minutes=5)
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass(frozen=True)
class Due:
    task_name: str
    period_key: str
    due_at: datetime


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def due_period(period: str, at: str, now: datetime) -> tuple[str, datetime] | None:
    """(period key, due time) of the current period if its time has come at `now`, else None."""
    tz = timezone.get_current_timezone()
    local = timezone.localtime(now, tz)
    if period == "daily":
        due_at = timezone.make_aware(datetime.combine(local.date(), _clock(at)), tz)
        key = local.date().isoformat()
    elif period == "hourly":
        if not at.startswith(":"):
            raise ValueError(f"hourly times look like ':15', not {at!r}")
        due_at = local.replace(minute=int(at[1:]), second=0, microsecond=0)
        key = f"{local.date().isoformat()}T{local.hour:02d}"
    elif period == "minutes":
        step = int(at)
        if not 1 <= step <= 60 or 60 % step:
            raise ValueError(f"a minutes period divides the hour (1, 2, 5, 10, 15, 30), not {at!r}")
        due_at = local.replace(minute=local.minute - local.minute % step, second=0, microsecond=0)
        key = f"{local.date().isoformat()}T{due_at.hour:02d}:{due_at.minute:02d}"
    elif period == "weekly":
        day_name, clock = at.split()
        monday = local.date() - timedelta(days=local.weekday())
        day = monday + timedelta(days=WEEKDAYS.index(day_name.lower()))
        due_at = timezone.make_aware(datetime.combine(day, _clock(clock)), tz)
        year, week, _ = local.date().isocalendar()
        key = f"{year}-W{week:02d}"
    else:
        raise ValueError(f"unknown period {period!r} (minutes, hourly, daily, weekly)")
    return (key, due_at) if now >= due_at else None


def due_now(now: datetime, schedule: list[tuple[str, str, str]] | None = None) -> list[Due]:
    out = []
    for task_name, period, at in SCHEDULE if schedule is None else schedule:
        due = due_period(period, at, now)
        if due is not None:
            out.append(Due(task_name, *due))
    return out


def _enqueue(run_id: int, task) -> None:
    result = task.enqueue()
    ScheduledRun.objects.filter(pk=run_id).update(enqueued_at=timezone.now(), task_result_id=str(result.id))


def _resolve(task_name: str):
    try:
        return import_string(task_name)
    except ImportError:
        logger.error("scheduled task %s cannot be imported; skipped", task_name)
        return None


def run_due(*, now: datetime | None = None, schedule: list[tuple[str, str, str]] | None = None) -> list[ScheduledRun]:
    """Claim and enqueue every due (task, period) not claimed yet; returns the runs this call claimed.

    The unique (task_name, period_key) insert decides between racing schedulers; the enqueue runs on commit.
    """
    now = now or timezone.now()
    claimed: list[ScheduledRun] = []
    for due in due_now(now, schedule):
        if ScheduledRun.objects.filter(task_name=due.task_name, period_key=due.period_key).exists():
            continue  # fast path only; the unique constraint below is what decides
        task = _resolve(due.task_name)
        if task is None:
            continue
        run = claim(due, task=task, now=now)
        if run is not None:
            claimed.append(run)
    claimed.extend(_retry_unenqueued(now))
    return claimed


def claim(due: Due, *, task, now: datetime) -> ScheduledRun | None:
    """Insert the (task, period) row and enqueue `task` on commit; None if another scheduler holds the period."""
    try:
        with transaction.atomic():
            run = ScheduledRun.objects.create(task_name=due.task_name, period_key=due.period_key,
                                              due_at=due.due_at, attempted_at=now)
            transaction.on_commit(partial(_enqueue, run.pk, task))
    except IntegrityError:
        return None
    return run


def _retry_unenqueued(now: datetime) -> list[ScheduledRun]:
    """Re-claim runs whose enqueue never happened (older than RETRY_AFTER) with a conditional UPDATE, then enqueue."""
    retried = []
    stale = ScheduledRun.objects.filter(enqueued_at__isnull=True, attempted_at__lt=now - RETRY_AFTER)
    for run in stale.order_by("pk"):
        task = _resolve(run.task_name)
        if task is None:
            continue
        with transaction.atomic():
            won = ScheduledRun.objects.filter(pk=run.pk, enqueued_at__isnull=True,
                                              attempted_at=run.attempted_at).update(attempted_at=now)
            if won:
                transaction.on_commit(partial(_enqueue, run.pk, task))
        if won:
            run.attempted_at = now
            retried.append(run)
    return retried

