"""What the recommendations page shows: the serving model's evaluation table and each experiment's figures per
variant from the warehouse (experiments.experiment_counts), with the conversion lift against the holdout."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _, pgettext

from yundian.core import charts
from yundian.core.warehouse import warehouse_read

from . import warehouse_inputs as inputs
from .experiments import Lift, conversion_lift, experiment_counts
from .models import Experiment, RecommendModelVersion


def variant_label(key: str) -> str:
    return {"blend": pgettext("recommend variant", "Blend of models"),
            "als": pgettext("recommend variant", "Collaborative (ALS)"),
            "copurchase": pgettext("recommend variant", "Bought together"),
            "sequence": pgettext("recommend variant", "What members buy next"),
            "popular": pgettext("recommend variant", "Best sellers"),
            "holdout": pgettext("recommend variant", "Holdout (no block)")}.get(key, key)


def model_label(key: str) -> str:
    return {"popularity": _("Popularity (baseline)"), "item_knn": _("Item-kNN (baseline)"),
            "blend": _("Blend (served)"), "als": _("ALS"), "copurchase": _("Co-purchase lift"),
            "sequence": _("Life-stage sequences")}.get(key, key)


def model_rows(version: RecommendModelVersion) -> list[dict]:
    rows = version.metrics or []
    base = next((r["recall"] for r in rows if r["model"] == "popularity"), 0) or None
    return [{**r, "label": model_label(r["model"]), "ratio": (r["recall"] / base) if base else None} for r in rows]


@dataclass
class VariantFigures:
    key: str
    label: str
    share: int
    persons: int = 0
    impressions: int = 0
    clicks: int = 0
    add_to_carts: int = 0
    buyers: int = 0
    orders: int = 0
    lift: Lift | None = None

    @property
    def conversion(self) -> float:
        return self.buyers / self.persons if self.persons else 0.0

    @property
    def click_rate(self) -> float:
        return self.clicks / self.impressions if self.impressions else 0.0


@dataclass
class ExperimentFigures:
    experiment: Experiment
    variants: list[VariantFigures] = field(default_factory=list)
    control: str = ""
    chart: dict | None = None


def _naive(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return timezone.make_naive(moment, timezone.UTC) if timezone.is_aware(moment) else moment


def experiment_figures(experiment: Experiment) -> ExperimentFigures:
    """Each variant's persons, impressions, clicks, cart adds, buyers and orders, and its lift over the control."""
    with warehouse_read() as wh:
        events = inputs.recommendation_events(wh.table("fact_event"), wh.table("identity_link"),
                                              wh.table("dim_member"), enterprise_id=experiment.enterprise_id,
                                              since=_naive(experiment.started_at))
        expr = experiment_counts(events, wh.table("fact_order"), wh.table("dim_member"),
                                 enterprise_id=experiment.enterprise_id, experiment_id=experiment.pk,
                                 since=_naive(experiment.started_at), until=_naive(experiment.ended_at))
        frame = wh.execute(expr)
    counted = {row["variant"]: row for row in frame.to_dict("records")}
    out = ExperimentFigures(experiment)
    for variant in experiment.variants:
        row = counted.get(variant["key"], {})
        out.variants.append(VariantFigures(variant["key"], variant_label(variant["key"]), int(variant["share"]),
                                           **{k: int(row.get(k) or 0) for k in (
                                               "persons", "impressions", "clicks", "add_to_carts", "buyers",
                                               "orders")}))
    keys = [v.key for v in out.variants]
    out.control = "holdout" if "holdout" in keys else keys[0]
    control = next(v for v in out.variants if v.key == out.control)
    for v in out.variants:
        if v.key != out.control:
            v.lift = conversion_lift(control.persons, control.buyers, v.persons, v.buyers)
    out.chart = charts.bar(_("Conversion by variant"), x=[v.label for v in out.variants], unit=charts.PERCENT,
                           series=[charts.series(_("Bought after seeing the slot"),
                                                 [round(v.conversion * 100, 1) for v in out.variants]),
                                   charts.series(_("Clicked a recommendation"),
                                                 [round(v.click_rate * 100, 1) for v in out.variants])])
    return out
