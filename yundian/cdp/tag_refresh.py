"""Refreshing rule and computed tags, RFM scores and lifecycle stages: evaluated in the warehouse (cdp.computed,
cdp.conditions), written back in bulk through `tags.member_tags_apply` (only the differences, with history).

- `tags_refresh(enterprise_id)`: everything, for every member (nightly task, the page's button, the API and
  `yundian tags refresh`);
- `tags_refresh_members(member_ids)`: called by the warehouse sync with the members whose orders it has just
  written, so a sale moves its member's RFM scores, group and lifecycle within one sync cycle. Quintile bounds are
  the enterprise's as of now; other members' scores follow at the nightly refresh.
Computed tags live in groups the system keeps on the enterprise's root node, one per ComputedKey; their tags are
made on first need (a tag per RFM group, lifecycle stage and price band; per store and category seen).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from yundian.core.warehouse import warehouse_read
from yundian.members.models import Member

from . import computed
from .models import (ComputedKey, LifecycleStage, MemberScore, RefreshStatus, Tag, TagGroup, TagKind, TagRefreshRun,
                     TagSource)
from .tags import BATCH, lifecycle_settings_get, member_tags_apply

Progress = Callable[[str, int, int], None]  # (step, done, total)

RFM_GROUP_LABELS = {
    "important_value": pgettext_lazy("rfm", "Important value"),
    "important_development": pgettext_lazy("rfm", "Important development"),
    "important_retention": pgettext_lazy("rfm", "Important retention"),
    "important_winback": pgettext_lazy("rfm", "Important win-back"),
    "general_value": pgettext_lazy("rfm", "General value"),
    "general_development": pgettext_lazy("rfm", "General development"),
    "general_retention": pgettext_lazy("rfm", "General retention"),
    "general_winback": pgettext_lazy("rfm", "General win-back"),
}
PRICE_BAND_LABELS = {"low": pgettext_lazy("price band", "Low price"), "mid": pgettext_lazy("price band", "Mid price"),
                     "high": pgettext_lazy("price band", "High price")}
CLV_BAND_LABELS = {"top": pgettext_lazy("clv", "Top value"), "high": pgettext_lazy("clv", "High value"),
                   "medium": pgettext_lazy("clv", "Medium value"), "low": pgettext_lazy("clv", "Low value")}
FIXED_VALUES: dict[str, dict] = {
    ComputedKey.RFM_GROUP: RFM_GROUP_LABELS,
    ComputedKey.LIFECYCLE: dict(LifecycleStage.choices),
    ComputedKey.PRICE_BAND: PRICE_BAND_LABELS,
    ComputedKey.CLV_BAND: CLV_BAND_LABELS,
}
GROUP_DESCRIPTIONS = {
    ComputedKey.RFM_GROUP: _("The eight RFM groups, from recency, frequency and spend of the last 365 days."),
    ComputedKey.LIFECYCLE: _("New, active, at risk, dormant, lost or won back, by the lifecycle thresholds."),
    ComputedKey.PREFERRED_STORE: _("The store where the member spent most in the last 365 days."),
    ComputedKey.PREFERRED_CATEGORY: _("The category the member spent most on in the last 365 days."),
    ComputedKey.PRICE_BAND: _("Spend per item in the last 365 days, in thirds among the buyers."),
    ComputedKey.CLV_BAND: _("Customer lifetime value band, from the CLV model."),
}


def tag_label(tag: Tag) -> str:
    """What a person calls the tag, in the request's language (computed values are translated words)."""
    labels = FIXED_VALUES.get(tag.computed_key)
    if labels and tag.value in labels:
        return str(labels[tag.value])
    return tag.name


@dataclass
class RefreshResult:
    members: int = 0
    scores_written: int = 0
    gained: int = 0
    lost: int = 0
    by_key: dict[str, tuple[int, int]] = field(default_factory=dict)


def _root(enterprise_id: int):
    from yundian.org.models import OrgNode

    return OrgNode.objects.get(enterprise_id=enterprise_id, parent__isnull=True)


def computed_group_ensure(enterprise_id: int, key: str) -> TagGroup:
    """The system's group of computed tags of `key` on the enterprise's root node (made on first need)."""
    group = TagGroup.objects.filter(enterprise_id=enterprise_id, computed_key=key).first()
    if group is not None:
        return group
    try:
        with transaction.atomic():
            return TagGroup.objects.create(
                enterprise_id=enterprise_id, node=_root(enterprise_id), code=f"computed.{key}",
                name=str(ComputedKey(key).label), description=str(GROUP_DESCRIPTIONS.get(key, "")), computed_key=key)
    except IntegrityError:  # made meanwhile by another refresh
        return TagGroup.objects.get(enterprise_id=enterprise_id, computed_key=key)


def computed_tags_ensure(enterprise_id: int, key: str, values: dict[str, str]) -> dict[str, int]:
    """{value: tag id} of computed `key` for `values` ({value: name}), making the missing tags in one insert."""
    existing = dict(Tag.objects.filter(enterprise_id=enterprise_id, computed_key=key).values_list("value", "id"))
    missing = {v: n for v, n in values.items() if v not in existing}
    if missing:
        group = computed_group_ensure(enterprise_id, key)
        Tag.objects.bulk_create([
            Tag(enterprise_id=enterprise_id, group=group, node_id=group.node_id, code=f"{key}.{value}"[:60],
                name=str(name)[:80], kind=TagKind.COMPUTED, computed_key=key, value=value)
            for value, name in missing.items()], ignore_conflicts=True)
        existing = dict(Tag.objects.filter(enterprise_id=enterprise_id, computed_key=key).values_list("value", "id"))
    return {v: existing[v] for v in values}


def computed_values_apply(*, enterprise_id: int, key: str, value_by_member: dict[int, str | None],
                          names: dict[str, str] | None = None, complete: bool = False,
                          reason: str = "") -> tuple[int, int]:
    """Give each member the tag of their value of computed `key` (None: none of the key's tags); for callers such
    as the CLV bands: `computed_values_apply(enterprise_id=..., key="clv_band", value_by_member={7: "high"})`.
    Returns (gained, lost)."""
    if key not in ComputedKey.values:
        raise ValueError(f"unknown computed key {key!r}")
    labels = {**{v: str(n) for v, n in FIXED_VALUES.get(key, {}).items()}, **(names or {})}
    values = {v for v in value_by_member.values() if v is not None}
    ids = computed_tags_ensure(enterprise_id, key, {v: labels.get(v, v) for v in values})
    result = member_tags_apply(
        enterprise_id=enterprise_id, key=key, complete=complete, source=TagSource.COMPUTED,
        reason=reason or f"{key} refresh", tag_id_by_member={m: ids[v] if v is not None else None
                                                            for m, v in value_by_member.items()})
    Tag.objects.filter(enterprise_id=enterprise_id, computed_key=key).update(refreshed_at=timezone.now())
    return result.gained, result.lost


def _profiles(enterprise_id: int, today: date, member_ids: list[int] | None) -> list[dict]:
    settings = lifecycle_settings_get(enterprise_id)
    thresholds = computed.Thresholds(new_days=settings.new_days, active_days=settings.active_days,
                                     dormant_days=settings.dormant_days, lost_days=settings.lost_days,
                                     won_back_days=settings.won_back_days)
    with warehouse_read() as wh:
        expr = computed.member_profiles(wh.table("fact_order"), wh.table("fact_order_line"), wh.table("dim_member"),
                                        enterprise_id=enterprise_id, today=today, thresholds=thresholds)
        if member_ids is not None:
            expr = expr.filter(expr.member_id.isin(member_ids))
        return expr.to_pyarrow().to_pylist()


def _rule_matches(tag: Tag, today: date) -> set[int]:
    from .conditions import members_matching  # the condition language (cdp.conditions)

    with warehouse_read() as wh:
        table = members_matching(wh, tag.rule, enterprise_id=tag.enterprise_id, paths=[tag.node.path], today=today)
        return set(table.to_pyarrow().column("member_id").to_pylist())


def _scores_write(enterprise_id: int, rows: list[dict], complete: bool, now) -> int:
    """MemberScore rows as computed; only rows that changed are rewritten (deleted and inserted in bulk)."""
    fields = ("r_score", "f_score", "m_score", "frequency", "monetary", "first_sale_date", "last_sale_date",
              "rfm_group", "lifecycle")
    wanted = {}
    for row in rows:
        wanted[row["member_id"]] = (row["r_score"], row["f_score"], row["m_score"], int(row["frequency"] or 0),
                                    int(row["monetary"] or 0), row["first_date"], row["last_date"],
                                    row["rfm_group"] or "", row["lifecycle"] or "")
    existing = MemberScore.objects.filter(enterprise_id=enterprise_id)
    if not complete:
        existing = existing.filter(member_id__in=list(wanted))
    current = {r[0]: r[1:] for r in existing.values_list("member_id", *fields).iterator(chunk_size=BATCH)}
    changed = [m for m, values in wanted.items() if current.get(m) != values]
    gone = [m for m in current if m not in wanted] if complete else []
    doomed = [m for m in changed if m in current] + gone
    with transaction.atomic():
        for start in range(0, len(doomed), BATCH):
            MemberScore.objects.filter(member_id__in=doomed[start:start + BATCH]).delete()
        MemberScore.objects.bulk_create([
            MemberScore(member_id=m, enterprise_id=enterprise_id, computed_at=now, **dict(zip(fields, wanted[m])))
            for m in changed], batch_size=BATCH)
    return len(changed) + len(gone)


def _names(key: str, ids: set[int]) -> dict[str, str]:
    if key == ComputedKey.PREFERRED_STORE:
        from yundian.org.models import OrgNode

        return {str(i): n for i, n in OrgNode.objects.filter(pk__in=ids).values_list("id", "name")}
    from yundian.catalog.models import Category

    return {str(i): n for i, n in Category.objects.filter(pk__in=ids).values_list("id", "name")}


def tags_refresh(enterprise_id: int, *, today: date | None = None, member_ids: list[int] | None = None,
                 progress: Progress | None = None) -> RefreshResult:
    """Recompute RFM, lifecycle, preferred store / category, price band and every active rule tag of the
    enterprise (all members, or only `member_ids`), and write the differences with history. Idempotent."""
    today = today or timezone.localdate()
    now = timezone.now()
    complete = member_ids is None
    rules = list(Tag.objects.filter(enterprise_id=enterprise_id, kind=TagKind.RULE, is_active=True)
                 .select_related("node"))
    steps = 2 + 5 + len(rules)
    done = 0

    def step(name: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(name, done, steps)

    result = RefreshResult()
    rows = _profiles(enterprise_id, today, member_ids)
    # a member the warehouse knows but the database no longer has as a live member is left alone
    alive = Member.objects.filter(enterprise_id=enterprise_id, merged_into__isnull=True)
    if member_ids is None:
        live = set(alive.values_list("id", flat=True).iterator(chunk_size=50_000))
    else:
        live = set()
        for start in range(0, len(member_ids), BATCH):
            live.update(alive.filter(pk__in=member_ids[start:start + BATCH]).values_list("id", flat=True))
    rows = [r for r in rows if r["member_id"] in live]
    result.members = len(rows)
    step("profiles")
    result.scores_written = _scores_write(enterprise_id, rows, complete, now)
    step("scores")
    for key, column in ((ComputedKey.RFM_GROUP, "rfm_group"), (ComputedKey.LIFECYCLE, "lifecycle"),
                        (ComputedKey.PRICE_BAND, "price_band"), (ComputedKey.PREFERRED_STORE, "store_id"),
                        (ComputedKey.PREFERRED_CATEGORY, "category_id")):
        values = {r["member_id"]: (str(int(r[column])) if isinstance(r[column], (int, float)) else r[column])
                  if r[column] is not None else None for r in rows}
        names = None
        if key in (ComputedKey.PREFERRED_STORE, ComputedKey.PREFERRED_CATEGORY):
            names = _names(key, {int(v) for v in values.values() if v is not None})
        gained, lost = computed_values_apply(enterprise_id=enterprise_id, key=key, value_by_member=values,
                                             names=names, complete=complete, reason=f"{key} refresh")
        result.by_key[key] = (gained, lost)
        result.gained += gained
        result.lost += lost
        step(key)
    for tag in rules:
        matches = _rule_matches(tag, today) & live if not complete else _rule_matches(tag, today)
        if complete:
            mapping = {m: tag.id for m in matches}
        else:
            mapping = {m: (tag.id if m in matches else None) for m in live}
        applied = member_tags_apply(enterprise_id=enterprise_id, tag_id_by_member=mapping, family={tag.id},
                                    complete=complete, source=TagSource.RULE, reason=f"rule {tag.code}")
        Tag.objects.filter(pk=tag.pk).update(refreshed_at=now)
        result.by_key[f"rule:{tag.code}"] = (applied.gained, applied.lost)
        result.gained += applied.gained
        result.lost += applied.lost
        step(tag.code)
    return result


def tags_refresh_run(enterprise_id: int, *, run_id: int | None = None,
                     progress: Progress | None = None) -> RefreshResult:
    """`tags_refresh` recorded as a TagRefreshRun (the one named, or a new one): running, each step's progress,
    then done with what changed, or failed (and the error raised again)."""
    run = TagRefreshRun.objects.filter(pk=run_id, enterprise_id=enterprise_id).first() if run_id else None
    if run is None:
        run = TagRefreshRun.objects.create(enterprise_id=enterprise_id)
    TagRefreshRun.objects.filter(pk=run.pk).update(status=RefreshStatus.RUNNING, started_at=timezone.now())

    def step(name: str, done: int, total: int) -> None:
        TagRefreshRun.objects.filter(pk=run.pk).update(step=name[:80], steps_done=done, steps=total)
        if progress:
            progress(name, done, total)

    try:
        result = tags_refresh(enterprise_id, progress=step)
    except Exception:
        TagRefreshRun.objects.filter(pk=run.pk).update(status=RefreshStatus.FAILED, finished_at=timezone.now())
        raise
    TagRefreshRun.objects.filter(pk=run.pk).update(status=RefreshStatus.DONE, finished_at=timezone.now(),
                                                   members=result.members, gained=result.gained, lost=result.lost)
    return result


def tags_refresh_members(member_ids: list[int]) -> int:
    """Refresh the tags of these members (the sync's members whose orders changed; merged ones through their
    survivors), enterprise by enterprise. Returns how many members were looked at."""
    follow = dict(Member.objects.filter(pk__in=member_ids).values_list("id", "merged_into_id"))
    canonical = set()
    for member_id in member_ids:
        seen = set()
        while follow.get(member_id) and member_id not in seen:
            seen.add(member_id)
            parent = follow[member_id]
            if parent not in follow:
                follow.update(dict(Member.objects.filter(pk=parent).values_list("id", "merged_into_id")))
            member_id = parent
        canonical.add(member_id)
    by_enterprise: dict[int, list[int]] = {}
    for member_id, enterprise_id in Member.objects.filter(pk__in=canonical).values_list("id", "enterprise_id"):
        by_enterprise.setdefault(enterprise_id, []).append(member_id)
    total = 0
    for enterprise_id, ids in by_enterprise.items():
        total += tags_refresh(enterprise_id, member_ids=sorted(ids)).members
    return total
