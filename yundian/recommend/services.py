"""Training an enterprise's recommendation models on the warehouse, versioning them, and A/B experiments per slot.

`recommend_train` reads purchases and behaviour from the warehouse (warehouse_inputs, pure Ibis), evaluates the
models on a time-based hold-out (evaluation; the blend's weights chosen on a validation split before its test weeks),
chooses the blend's weights again on the last weeks, fits the models on all the data and stores the next version with
its metrics and the model. Run nightly by the scheduler (recommend.tasks) and by `yundian recommend train`.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from datetime import date, datetime, timedelta
from importlib.metadata import version as package_version

import pandas as pd
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from yundian.core.audit import audit_record
from yundian.core.errors import ValidationFailed
from yundian.core.warehouse import warehouse_read
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import require

from . import evaluation, learn, warehouse_inputs as inputs
from .models import Experiment, ModelStatus, RecommendModelVersion, Slot

TRAIN_DAYS = 365
JUDGE_MIN_MEMBERS = 30  # fewer tested members than this say too little to reject a model on


def training_tables(enterprise_id: int, *, until: date | None = None, days: int = TRAIN_DAYS,
                    with_times: bool = False) -> tuple[learn.TrainingTables, pd.DataFrame | None]:
    """The enterprise's baskets, interactions and products from the warehouse over `days` days up to `until`
    (with_times: also each behaviour interaction with its time, for the hold-out)."""
    until = until or timezone.localdate()
    since = until - timedelta(days=days - 1)
    with warehouse_read() as wh:
        members, lines = wh.table("dim_member"), wh.table("fact_order_line")
        bought = inputs.purchases(lines, members, enterprise_id=enterprise_id, since=since, until=until)
        seen = inputs.behaviour(wh.table("fact_event"), wh.table("identity_link"), members,
                                enterprise_id=enterprise_id, since=datetime.combine(since, datetime.min.time()),
                                until=datetime.combine(until + timedelta(days=1), datetime.min.time()))
        baskets = wh.execute(inputs.baskets(bought))
        interactions = wh.execute(inputs.interactions(bought, seen))
        products = wh.execute(inputs.products(wh.table("dim_sku"), enterprise_id=enterprise_id))
        timed = None
        if with_times:
            weight = {k: v for k, v in inputs.KIND_WEIGHTS.items() if k != "purchase"}
            timed = wh.execute(seen.select("member_id", "product_id", "kind", "occurred_at"))
            timed = timed.assign(weight=timed["kind"].map(weight).fillna(0.0))
    return learn.TrainingTables(baskets=baskets, interactions=interactions, products=products), timed


def _package() -> str:
    return f"implicit {package_version('implicit')}"


def _version_create(**fields) -> RecommendModelVersion:
    """The next version number of the enterprise (a concurrent training that took it makes this one take the next)."""
    for _attempt in range(5):
        latest = RecommendModelVersion.objects.filter(enterprise_id=fields["enterprise_id"]).aggregate(
            v=Max("version"))["v"]
        try:
            with transaction.atomic():
                return RecommendModelVersion.objects.create(version=(latest or 0) + 1, **fields)
        except IntegrityError:
            continue
    raise RuntimeError("could not number a recommendation model version")


def recommend_train(*, enterprise_id: int, until: date | None = None, actor: Staff | None = None,
                    progress=None, tables: learn.TrainingTables | None = None,
                    timed: pd.DataFrame | None = None) -> RecommendModelVersion:
    """Evaluate and fit the enterprise's models on its warehouse data and store them as the next version: fitted
    (served from now on), rejected (the hold-out, with at least JUDGE_MIN_MEMBERS members tested, ranks it below
    its own popularity fallback: the previous version keeps serving) or failed (too little data). Never changes an earlier version. No row locks: the version's
    unique number orders concurrent trainings."""
    step = progress or (lambda name: None)
    started = time.monotonic()
    step("read")
    if tables is None:
        tables, timed = training_tables(enterprise_id, until=until, with_times=True)
    baskets = tables.baskets
    window = {"enterprise_id": enterprise_id, "package": _package(), "requested_by": actor,
              "members": int(tables.interactions["member_id"].nunique()) if len(tables.interactions) else 0,
              "products": int(baskets["product_id"].nunique()) if len(baskets) else 0,
              "baskets": int(baskets["order_id"].nunique()) if len(baskets) else 0,
              "interactions": len(tables.interactions),
              "data_from": pd.to_datetime(baskets["placed_at"]).min().date() if len(baskets) else None,
              "data_until": pd.to_datetime(baskets["placed_at"]).max().date() if len(baskets) else None}
    metrics: list[dict] = []
    try:
        step("evaluate")
        split = evaluation.holdout_split(tables, interactions_at=timed)
        if split.targets and split.train.baskets["order_id"].nunique() >= learn.MIN_BASKETS:
            metrics = [asdict(row) for row in evaluation.evaluate(split)]
        step("fit")
        # ALS's settings and the blend's weights on the last weeks, as the hold-out chose its own
        als = evaluation.tune_als(tables, interactions_at=timed)
        weights = evaluation.tune_blend(tables, interactions_at=timed, als=als)
        model = learn.fit(tables, progress=step, **als)
        model.params["blend"] = weights
    except learn.NotEnoughData as exc:
        return _version_create(status=ModelStatus.FAILED, error_code=exc.code,
                               error_message=_("Too few purchases to learn from (%(baskets)s orders).") % {
                                   "baskets": exc.details.get("baskets", 0)},
                               params=exc.details, seconds=round(time.monotonic() - started, 3), **window)
    step("save")
    by_name = {row["model"]: row for row in metrics}
    rejected = ("blend" in by_name and "popularity" in by_name and by_name["blend"]["members"] >= JUDGE_MIN_MEMBERS
                and by_name["blend"]["recall"] < by_name["popularity"]["recall"])
    return _version_create(status=ModelStatus.REJECTED if rejected else ModelStatus.FITTED, params=model.params,
                           metrics=metrics, artifact=model.dumps(), seconds=round(time.monotonic() - started, 3),
                           **window)


# --- experiments ----------------------------------------------------------------------------------------------

def enterprise_root(enterprise_id: int) -> OrgNode:
    """The enterprise's HQ node: experiments and models are the whole chain's, so they are HQ's to run."""
    return OrgNode.objects.get(enterprise_id=enterprise_id, parent__isnull=True)


VARIANT_KEYS = (*learn.STRATEGIES, "holdout")


class ExperimentRefused(ValidationFailed):
    code = "experiment_invalid"


def _variants_checked(variants: list[dict]) -> list[dict]:
    out, keys = [], set()
    for variant in variants or []:
        key, share = variant.get("key"), variant.get("share")
        if key not in VARIANT_KEYS or key in keys:
            raise ExperimentRefused(_("Each variant must be one of the strategies, once."), code="variant_invalid")
        if not isinstance(share, int) or isinstance(share, bool) or not 1 <= share <= 99:
            raise ExperimentRefused(_("Each variant's share must be a whole percent from 1 to 99."),
                                    code="share_invalid")
        keys.add(key)
        out.append({"key": key, "share": share})
    if len(out) < 2 or sum(v["share"] for v in out) != 100:
        raise ExperimentRefused(_("An experiment needs at least two variants whose shares add up to 100 %."),
                                code="shares_not_100")
    return out


def experiment_start(*, actor: Staff, slot: str, name: str, variants: list[dict]) -> Experiment:
    """Start an A/B test on a slot (HQ marketing). One running experiment per slot (a unique constraint), so a
    second start while one runs is refused and changes nothing."""
    require(actor, Perm.PROMOTION_MANAGE, enterprise_root(actor.enterprise_id))
    if slot not in Slot.values:
        raise ExperimentRefused(_("Unknown slot."), code="slot_invalid")
    name = (name or "").strip()[:80]
    if not name:
        raise ExperimentRefused(_("Give the experiment a name."), code="name_required")
    checked = _variants_checked(variants)
    try:
        with transaction.atomic():
            experiment = Experiment.objects.create(enterprise_id=actor.enterprise_id, slot=slot, name=name,
                                                   variants=checked, started_at=timezone.now(), created_by=actor)
    except IntegrityError:
        raise ExperimentRefused(_("An experiment already runs on this slot; stop it first."),
                                code="experiment_running") from None
    audit_record(actor=actor, action="recommend.experiment_start", target=experiment,
          after={"slot": slot, "name": name, "variants": checked})
    return experiment


def experiment_stop(*, actor: Staff, experiment_id: int) -> Experiment:
    """Stop a running experiment of the actor's enterprise (its figures stay readable)."""
    from yundian.core.errors import NotFound

    require(actor, Perm.PROMOTION_MANAGE, enterprise_root(actor.enterprise_id))
    experiment = Experiment.objects.filter(pk=experiment_id, enterprise_id=actor.enterprise_id).first()
    if experiment is None:
        raise NotFound(_("Experiment not found."), code="experiment_not_found")
    if experiment.is_active:
        Experiment.objects.filter(pk=experiment.pk, is_active=True).update(is_active=False, ended_at=timezone.now())
        experiment.refresh_from_db()
        audit_record(actor=actor, action="recommend.experiment_stop", target=experiment, after={"ended_at": str(experiment.ended_at)})
    return experiment
