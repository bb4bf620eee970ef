"""Refitting an enterprise's CLV model on the warehouse and writing its results back in bulk.

`clv_refit` reads the enterprise's sales from the warehouse (analytics.clv, pure Ibis), fits BG/NBD + Gamma-Gamma,
stores a new ClvModelVersion (fitted or failed, with its data window, member counts, parameters and diagnostics),
replaces the members' MemberClv rows with the new predictions in one transaction and gives every member the
computed tag of their CLV band through cdp's `computed_values_apply` (only differences written, with history).
Run weekly by the scheduler (analytics.tasks.clv_refit_weekly) and on demand (the CLV page, `yundian clv refit`).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version as package_version

import pandas as pd
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from yundian.core.warehouse import warehouse_read
from yundian.org.models import Staff

from . import clv
from .models import ClvModelStatus, ClvModelVersion, MemberClv

BATCH = 5000


@dataclass
class RefitTimings:
    read: float = 0.0
    fit: float = 0.0
    predict: float = 0.0
    write: float = 0.0
    tags: float = 0.0


def clv_summary_frame(enterprise_id: int, *, observation_end: date, since: date | None = None) -> pd.DataFrame:
    """The enterprise's RFM summary from the warehouse (one row per canonical member who bought), with the month
    the member joined (dim_member.registered_date)."""
    with warehouse_read() as wh:
        members = wh.table("dim_member")
        transactions = clv.order_transactions(wh.table("fact_order"), members, enterprise_id=enterprise_id)
        summary = clv.rfm_summary(transactions, observation_end=observation_end, since=since)
        joined_on = members.filter(members.enterprise_id == enterprise_id).select(
            joined_id=members.member_id, registered_date=members.registered_date)
        expr = summary.left_join(joined_on, summary.member_id == joined_on.joined_id).drop("joined_id")
        return wh.execute(expr.order_by("member_id"))


def _package() -> str:
    return f"lifetimes {package_version('lifetimes')}"


def _next_version(enterprise_id: int) -> int:
    latest = ClvModelVersion.objects.filter(enterprise_id=enterprise_id).aggregate(v=Max("version"))["v"]
    return (latest or 0) + 1


def _version_create(**fields) -> ClvModelVersion:
    """A new version row numbered after the latest (a concurrent refit that took the number makes us take the next)."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return ClvModelVersion.objects.create(version=_next_version(fields["enterprise_id"]), **fields)
        except IntegrityError:
            continue
    raise RuntimeError("could not number a CLV model version")


def _day(value) -> date | None:
    """A date from what the warehouse frame holds (a pandas Timestamp, a date or a missing value)."""
    if value is None or pd.isna(value):
        return None
    return date(value.year, value.month, value.day)


def _month(value) -> date | None:
    day = _day(value)
    return day.replace(day=1) if day else None


def clv_refit(*, enterprise_id: int, observation_end: date | None = None, since: date | None = None,
              actor: Staff | None = None, apply_tags: bool = True,
              timings: RefitTimings | None = None) -> ClvModelVersion:
    """Fit the enterprise's CLV model on its warehouse sales up to `observation_end` (default: today) and store it
    as the next version. A fit that fails is kept as a failed version and changes nothing else; a fitted one
    replaces every MemberClv row of the enterprise in one transaction, then sets the members' CLV band tags
    (complete: members without a CLV lose theirs). No row locks: the version's unique number orders refits."""
    timings = timings or RefitTimings()
    observation_end = observation_end or timezone.localdate()
    started = time.monotonic()
    frame = clv_summary_frame(enterprise_id, observation_end=observation_end, since=since)
    timings.read = time.monotonic() - started
    window = {"enterprise_id": enterprise_id, "package": _package(), "observation_end": observation_end,
              "observation_start": since or (_day(frame["first_day"].min()) if len(frame) else None),
              "members": len(frame), "requested_by": actor}
    began = time.monotonic()
    try:
        model = clv.fit(frame)
    except clv.ClvFitFailed as exc:
        timings.fit = time.monotonic() - began
        return _version_create(status=ClvModelStatus.FAILED, error_code=exc.code, error_message=str(exc.message)[:300],
                               diagnostics={"details": exc.details}, seconds=round(time.monotonic() - started, 3),
                               **window)
    timings.fit = time.monotonic() - began
    began = time.monotonic()
    predictions = model.predict(frame)
    bands = clv.clv_bands(predictions)
    timings.predict = time.monotonic() - began
    began = time.monotonic()
    now_members = set(_existing_members(enterprise_id, frame["member_id"].tolist()))
    with transaction.atomic():
        version = _version_create(
            status=ClvModelStatus.FITTED, repeat_members=model.diagnostics["repeat_customers"], params=model.params,
            diagnostics=model.diagnostics, seconds=0, **window)
        MemberClv.objects.filter(enterprise_id=enterprise_id).delete()
        batch: list[MemberClv] = []
        for row in _rows(frame, predictions, bands, now_members):
            batch.append(MemberClv(enterprise_id=enterprise_id, model=version, **row))
            if len(batch) == BATCH:
                MemberClv.objects.bulk_create(batch)
                batch = []
        MemberClv.objects.bulk_create(batch)
    timings.write = time.monotonic() - began
    if apply_tags:
        began = time.monotonic()
        from yundian.cdp.tag_refresh import computed_values_apply

        computed_values_apply(enterprise_id=enterprise_id, key="clv_band", complete=True,
                              value_by_member={m: b for m, b in bands.items() if m in now_members},
                              reason=f"CLV model v{version.version}")
        timings.tags = time.monotonic() - began
    version.seconds = round(time.monotonic() - started, 3)
    version.save(update_fields=["seconds", "updated_at"])
    return version


def _existing_members(enterprise_id: int, member_ids: list[int]) -> list[int]:
    """The ids among `member_ids` that are members of the enterprise in the OLTP database (the warehouse may hold a
    member the database no longer has under that id only if it was rebuilt from another database)."""
    from yundian.members.models import Member

    wanted = set(member_ids)
    return [m for m in Member.objects.filter(enterprise_id=enterprise_id).values_list("id", flat=True)
            .iterator(chunk_size=BATCH) if m in wanted]


def _rows(frame: pd.DataFrame, predictions: pd.DataFrame, bands: dict[int, str], keep: set[int]) -> Iterator[dict]:
    columns = zip(frame["member_id"].tolist(), frame["frequency"].tolist(), frame["recency"].tolist(),
                  frame["T"].tolist(), frame["monetary"].tolist(), frame["first_day"].tolist(),
                  frame["registered_date"].tolist(), predictions["expected_90d"].tolist(),
                  predictions["p_alive"].tolist(), predictions["clv"].tolist())
    for member_id, frequency, recency, age, monetary, first_day, joined, expected, alive, value in columns:
        if member_id not in keep:
            continue
        yield {"member_id": member_id, "frequency": int(frequency), "recency": int(recency), "age": int(age),
               "monetary": round(monetary), "expected_90d": float(expected), "p_alive": float(alive),
               "clv_12m": round(value), "band": bands[member_id], "first_purchase": _day(first_day),
               "joined_month": _month(joined)}
