"""Reads of the CLV results for the CLV page, scoped to the actor: the model is the enterprise's, the members and
their figures are those whose home store lies in the actor's subtree (analytics.view)."""
from __future__ import annotations

from django.db.models import Avg, Count, Q, Sum
from django.db.models.functions import Least
from django.utils.translation import gettext as _

from yundian.core import charts
from yundian.core.money import Money
from yundian.members.models import IdentityKind, MemberIdentity
from yundian.members.normalize import mask_identity
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import scope_paths

from .models import ClvBand, ClvModelStatus, ClvModelVersion, MemberClv

FREQUENCY_CAP = 10  # the P(alive) curve groups members with 10 or more repeat purchases
COHORT_MONTHS = 24
TOP_MEMBERS = 20


def clv_in_scope(actor: Staff):
    """MemberClv rows of the actor's enterprise whose member's home store is in the actor's analytics scope."""
    paths = scope_paths(actor, Perm.ANALYTICS_VIEW)
    rows = MemberClv.objects.filter(enterprise_id=actor.enterprise_id)
    if not paths:
        return rows.none()
    condition = Q()
    for path in paths:
        condition |= Q(member__home__path__startswith=path)
    return rows.filter(condition)


def clv_models_list(actor: Staff, limit: int = 10) -> list[ClvModelVersion]:
    """The enterprise's latest model versions, newest first (fitted and failed)."""
    return list(ClvModelVersion.objects.filter(enterprise_id=actor.enterprise_id).order_by("-version")[:limit])


def clv_overview(actor: Staff) -> dict:
    """Everything the CLV page shows: the current model, totals, bands, cohorts, P(alive) by frequency, top members
    (phones masked), each chart as a core.charts spec."""
    versions = clv_models_list(actor)
    current = next((v for v in versions if v.status == ClvModelStatus.FITTED), None)
    out = {"versions": versions, "current": current, "latest": versions[0] if versions else None}
    if current is None:
        return out
    rows = clv_in_scope(actor).filter(model=current)
    totals = rows.aggregate(members=Count("pk"), clv=Sum("clv_12m"), alive=Avg("p_alive"), expected=Sum("expected_90d"))
    members = totals["members"] or 0
    out["totals"] = {
        "members": members, "clv_text": Money(int(totals["clv"] or 0)).format(),
        "average_text": Money(round((totals["clv"] or 0) / members) if members else 0).format(),
        "alive": round(100 * (totals["alive"] or 0), 1), "expected_90d": round(totals["expected"] or 0),
    }
    out["params"] = [{"name": k, "estimate": v, "se": (current.diagnostics.get("standard_errors") or {}).get(k)}
                     for k, v in current.params.items()]
    by_band = {r["band"]: r for r in rows.values("band").annotate(members=Count("pk"), clv=Sum("clv_12m"),
                                                                  alive=Avg("p_alive"))}
    bands = []
    for band in ClvBand:
        row = by_band.get(band.value, {"members": 0, "clv": 0, "alive": 0})
        bands.append({"band": band.value, "label": band.label, "members": row["members"],
                      "clv_text": Money(int(row["clv"] or 0)).format(),
                      "average_text": Money(round((row["clv"] or 0) / row["members"]) if row["members"] else 0).format(),
                      "alive": round(100 * (row["alive"] or 0), 1), "clv": int(row["clv"] or 0)})
    out["bands"] = bands
    labels = [str(b["label"]) for b in bands]
    out["band_chart"] = charts.bar(_("12-month CLV by band"), x=labels, unit=charts.MONEY,
                                   series=[charts.series(_("CLV, 12 months"), [b["clv"] for b in bands])])
    out["band_members_chart"] = charts.pie(_("Members by CLV band"),
                                           items=[(b["label"], b["members"]) for b in bands])
    cohorts = list(rows.exclude(joined_month=None).values("joined_month")
                   .annotate(members=Count("pk"), clv=Sum("clv_12m")).order_by("-joined_month")[:COHORT_MONTHS])
    cohorts.reverse()
    out["cohorts"] = [{"month": c["joined_month"], "members": c["members"],
                       "average": round(c["clv"] / c["members"]) if c["members"] else 0,
                       "clv_text": Money(int(c["clv"] or 0)).format()} for c in cohorts]
    out["cohort_chart"] = charts.bar(
        _("Average 12-month CLV by month of joining"), x=[c["month"].strftime("%Y-%m") for c in out["cohorts"]],
        unit=charts.MONEY, series=[charts.series(_("Average CLV per member"), [c["average"] for c in out["cohorts"]])])
    curve = list(rows.annotate(bucket=Least("frequency", FREQUENCY_CAP)).values("bucket")
                 .annotate(members=Count("pk"), alive=Avg("p_alive"), expected=Avg("expected_90d")).order_by("bucket"))
    x = [f"{c['bucket']}+" if c["bucket"] == FREQUENCY_CAP else str(c["bucket"]) for c in curve]
    out["alive_chart"] = charts.line(
        _("P(alive) by repeat purchases"), x=x, unit=charts.PERCENT,
        series=[charts.series(_("Average P(alive)"), [round(100 * c["alive"], 1) for c in curve])])
    out["curve"] = [{"bucket": label, "members": c["members"], "alive": round(100 * c["alive"], 1),
                     "expected": round(c["expected"], 2)} for label, c in zip(x, curve)]
    out["top"] = _top(rows)
    return out


def _top(rows) -> list[dict]:
    top = list(rows.select_related("member", "member__home").order_by("-clv_12m", "member_id")[:TOP_MEMBERS])
    phones: dict[int, str] = {}
    for member_id, value in (MemberIdentity.objects.filter(member_id__in=[r.member_id for r in top],
                                                           kind=IdentityKind.PHONE)
                             .order_by("-id").values_list("member_id", "value")):
        phones[member_id] = value  # the member's first phone wins (ordered newest first)
    return [{"member_id": r.member_id, "name": _mask_name(r.member.name),
             "phone": mask_identity(IdentityKind.PHONE, phones[r.member_id]) if r.member_id in phones else "",
             "store": r.member.home.name, "band": r.get_band_display(), "clv_text": Money(r.clv_12m).format(),
             "alive": round(100 * r.p_alive, 1), "expected": round(r.expected_90d, 2), "frequency": r.frequency}
            for r in top]


def _mask_name(name: str) -> str:
    """张三丰 -> 张**; Alice -> A****: a ranking needs no full names (the member page shows them to who may see)."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""
