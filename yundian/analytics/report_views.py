"""Report pages and the GMV tree page: filters (period, scope node picked by name, category), drill-down links,
CSV / Excel export of the same rows the page shows, everything scoped to the actor's analytics subtree."""
from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from yundian.core import charts
from yundian.core.errors import ValidationFailed
from yundian.core.exports import table_file
from yundian.core.money import Money
from yundian.core.warehouse import warehouse_read
from yundian.org.console import console_view
from yundian.org.models import OrgNode
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_paths

from . import gmv
from .reports import REPORTS, Query, percent, report_run

MAX_PERIOD_DAYS = 366


def _period(start: str | None, end: str | None, default_days: int = 30) -> tuple[date, date]:
    today = timezone.localdate()
    try:
        until = date.fromisoformat(end.strip()) if end and end.strip() else today
        since = date.fromisoformat(start.strip()) if start and start.strip() else until - timedelta(days=default_days - 1)
    except ValueError:
        raise ValidationFailed(_("Enter dates as YYYY-MM-DD."), code="invalid_date")
    if since > until or (until - since).days >= MAX_PERIOD_DAYS:
        raise ValidationFailed(_("The period runs forward and spans at most a year."), code="invalid_period")
    return since, until


def _int(value: str | None, code: str) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed(_("Choose from the list."), code=code)


def scope_node(actor, node_id: int | None) -> OrgNode | None:
    """The org node a page is narrowed to: one in the actor's analytics scope (404 otherwise), or None."""
    if node_id is None:
        return None
    node = OrgNode.objects.filter(pk=node_id, enterprise_id=actor.enterprise_id).first()
    if node is None or not has_perm(actor, Perm.ANALYTICS_VIEW, node):
        raise Http404
    return node


def store_hours(paths: list[str] | None, enterprise_id: int) -> dict[int, dict]:
    from yundian.stores.models import StoreProfile

    profiles = StoreProfile.objects.filter(enterprise_id=enterprise_id).exclude(opening_hours={})
    return {p.node_id: p.opening_hours for p in profiles.select_related("node")
            if paths is None or any(p.node.path.startswith(path) for path in paths)}


def report_query(actor, params) -> tuple[Query, OrgNode | None]:
    """The report query of a request's parameters (from, to, node, category) for the actor; ValidationFailed for
    bad input, Http404 for a node outside the actor's scope."""
    since, until = _period(params.get("from"), params.get("to"))
    node = scope_node(actor, _int(params.get("node"), "invalid_node"))
    paths = [node.path] if node else scope_paths(actor, Perm.ANALYTICS_VIEW)
    category = _int(params.get("category"), "invalid_category")
    return Query(enterprise_id=actor.enterprise_id, paths=paths, since=since, until=until,
                 currency=actor.enterprise.currency, category_id=category,
                 store_hours=store_hours(paths, actor.enterprise_id)), node


@console_view(Perm.ANALYTICS_VIEW)
def report_hub(request: HttpRequest) -> HttpResponse:
    return render(request, "analytics/reports.html", {"reports": [(slug, title) for slug, (title, _f) in
                                                                   REPORTS.items()]})


@console_view(Perm.ANALYTICS_VIEW)
def report_page(request: HttpRequest, slug: str) -> HttpResponse:
    if slug not in REPORTS:
        raise Http404
    title = REPORTS[slug][0]
    context = {"title": title, "slug": slug, "reports": [(s, t) for s, (t, _f) in REPORTS.items()],
               "form": {k: request.GET.get(k, "")[:10] for k in ("from", "to", "node", "category")}}
    try:
        query, node = report_query(request.actor, request.GET)
    except ValidationFailed as exc:
        context.update(error=exc)
        return render(request, "analytics/report.html", context, status=exc.status)
    with warehouse_read() as wh:
        report = report_run(slug, wh, query)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        content_type, body = table_file(report.columns, report.rows, fmt, sheet_name=slug[:30])
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = (f'attachment; filename="{slug}-{query.since:%Y%m%d}-{query.until:%Y%m%d}'
                                           f'.{fmt}"')
        return response
    params = {"from": query.since.isoformat(), "to": query.until.isoformat()}
    if node:
        params["node"] = node.pk
    if query.category_id is not None:
        params["category"] = query.category_id
    from urllib.parse import urlencode

    context.update(report=report, node=node, query=urlencode(params),
                   rows=list(zip(report.links, report.rows))[:1000], total_rows=len(report.rows),
                   form={"from": params["from"], "to": params["to"], "node": node.pk if node else "",
                         "category": query.category_id or ""})
    return render(request, "analytics/report.html", context)


def _rate(value: Fraction | None) -> str:
    if value is None:
        return "–"
    return f"{percent(value.numerator, value.denominator) if value.denominator else 0}%"


def _money(value: Fraction | int, currency: str) -> Money:
    value = Fraction(value)
    return Money((2 * value.numerator + value.denominator) // (2 * value.denominator), currency)


def _tree_rows(f: gmv.GmvFigures, currency: str) -> list[dict]:
    """The figures of one node as labelled rows for the page (each exact factor rounded only here)."""
    rows = [{"label": _("GMV"), "shown": Money(f.gmv, currency).format(), "depth": 0}]
    if f.traffic is not None:
        rows += [{"label": _("Traffic (visitors + footfall)"), "shown": f"{f.traffic:,}", "depth": 1,
                  "note": _("%(v)s storefront visitors, %(f)s counted in stores") % {"v": f.visitors,
                                                                                    "f": f.footfall}},
                 {"label": _("Conversion"), "shown": _rate(f.conversion), "depth": 1},
                 {"label": _("Average order"), "shown": _money(f.aov, currency).format(), "depth": 1}]
    rows += [{"label": _("Member GMV"), "shown": Money(f.member_gmv, currency).format(), "depth": 1},
             {"label": _("Members"), "shown": f"{f.members:,}", "depth": 2},
             {"label": _("Active rate"), "shown": _rate(f.active_rate), "depth": 2},
             {"label": _("Purchase frequency"), "shown": f"{float(f.frequency):.2f}", "depth": 2},
             {"label": _("Member average order"), "shown": _money(f.member_aov, currency).format(), "depth": 2},
             {"label": _("Guest GMV"), "shown": Money(f.guest_gmv, currency).format(), "depth": 1},
             {"label": _("Repurchase rate"), "shown": _rate(f.repurchase_rate), "depth": 1},
             {"label": _("Referral (share code) contribution"),
              "shown": f"{Money(f.referral_gmv, currency).format()} · {_rate(f.referral_share)}", "depth": 1}]
    return rows


@console_view(Perm.ANALYTICS_VIEW)
def gmv_page(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    grain = request.GET.get("grain") or "month"
    context = {"grains": [("day", _("Day")), ("week", _("Week")), ("month", _("Month"))], "grain": grain,
               "reports": [(s, t) for s, (t, _f) in REPORTS.items()]}
    try:
        if grain not in gmv.GRAINS:
            raise ValidationFailed(_("Choose a day, a week or a month."), code="invalid_grain")
        raw = (request.GET.get("date") or "").strip()
        try:
            anchor = date.fromisoformat(raw) if raw else timezone.localdate()
        except ValueError:
            raise ValidationFailed(_("Enter dates as YYYY-MM-DD."), code="invalid_date")
        node = scope_node(actor, _int(request.GET.get("node"), "invalid_node"))
        guide_view = request.GET.get("by") == "guides"
    except ValidationFailed as exc:
        context.update(error=exc)
        return render(request, "analytics/gmv.html", context, status=exc.status)
    paths = scope_paths(actor, Perm.ANALYTICS_VIEW)
    if node is None:
        roots = OrgNode.objects.filter(enterprise_id=actor.enterprise_id, path__in=paths).order_by("path")
        node = roots.first()
    if node is None:
        raise Http404
    since, until = gmv.period_bounds(grain, anchor)
    before = gmv.period_before(grain, since)
    currency = actor.enterprise.currency
    node_paths = [node.path]
    children = list(OrgNode.objects.filter(parent=node, is_active=True).order_by("name"))
    with warehouse_read() as wh:
        now = gmv.gmv_figures(wh, enterprise_id=actor.enterprise_id, paths=node_paths, since=since, until=until)
        then = gmv.gmv_figures(wh, enterprise_id=actor.enterprise_id, paths=node_paths, since=before[0],
                               until=before[1])
        if node.kind == "store" or guide_view:
            parts = gmv.gmv_figures(wh, enterprise_id=actor.enterprise_id, paths=node_paths, since=since,
                                    until=until, by="guides", store_path=node.path)
        else:
            parts = gmv.gmv_figures(wh, enterprise_id=actor.enterprise_id, paths=node_paths, since=since,
                                    until=until, by=f"children:{node.path}")
        trend_since = {"day": since - timedelta(days=13), "week": since - timedelta(weeks=11),
                       "month": gmv.period_bounds("month", since - timedelta(days=300))[0]}[grain]
        trend = gmv.gmv_figures(wh, enterprise_id=actor.enterprise_id, paths=node_paths, since=trend_since,
                                until=until, by=grain)
    current = now.get("total") or gmv.GmvFigures(key="total")
    previous = then.get("total") or gmv.GmvFigures(key="total")
    split = gmv.gmv_change(previous, current)
    decomposition = []
    if split["traffic"] is not None:
        shown = gmv.round_fen(split["traffic"])
        decomposition.append((_("Traffic tree"), list(zip([_("Traffic"), _("Conversion"), _("Average order")],
                                                          [Money(v, currency).format() for v in shown]))))
    shown = gmv.round_fen(split["member"] + [split["guest"]])
    decomposition.append((_("Member tree"), list(zip([_("Members"), _("Active rate"), _("Purchase frequency"),
                                                      _("Member average order"), _("Guest GMV")],
                                                     [Money(v, currency).format() for v in shown]))))
    # the children: org nodes (drill further) or the store's guides
    names = {}
    if node.kind == "store" or guide_view:
        from yundian.org.models import Staff

        names = dict(Staff.objects.filter(pk__in=[int(k) for k in parts if k.isdigit()])
                     .values_list("pk", "display_name"))
        rows = [{"name": names.get(int(k), k) if k.isdigit() else _("No guide"), "f": f, "url": None}
                for k, f in parts.items()]
    else:
        by_id = {str(c.pk): c for c in children}
        rows = [{"name": by_id[k].name if k in by_id else k, "f": f,
                 "url": f"?grain={grain}&date={anchor.isoformat()}&node={k}"} for k, f in parts.items()]
    rows.sort(key=lambda r: -r["f"].gmv)
    for r in rows:
        r.update(gmv_text=Money(r["f"].gmv, currency).format(), conversion=_rate(r["f"].conversion),
                 aov=_money(r["f"].aov, currency).format(), members=r["f"].members, active=_rate(r["f"].active_rate),
                 repurchase=_rate(r["f"].repurchase_rate), referral=_rate(r["f"].referral_share))
    tree_root = charts.node(f"{node.name}", current.gmv, [
        charts.node(r["name"], r["f"].gmv, url=r["url"]) for r in rows], url=None)
    keys = list(trend)
    trend_chart = charts.line(_("GMV by %(grain)s") % {"grain": dict(context["grains"])[grain]}, x=keys,
                              unit=charts.MONEY, currency=currency,
                              series=[charts.series(_("GMV"), [trend[k].gmv for k in keys])])
    ancestors = list(OrgNode.objects.filter(enterprise_id=actor.enterprise_id,
                                            pk__in=[int(p) for p in node.path.strip("/").split("/")])
                     .order_by("path"))
    ancestors = [a for a in ancestors if any(a.path.startswith(p) for p in paths)]
    context.update(node=node, since=since, until=until, before=before, anchor=anchor.isoformat(),
                   tree=list(zip(_tree_rows(current, currency), _tree_rows(previous, currency))),
                   change_text=Money(int(split["change"]), currency).format(), decomposition=decomposition, rows=rows,
                   tree_chart=charts.tree(_("GMV down the organisation"), root=tree_root, unit=charts.MONEY,
                                          currency=currency),
                   trend_chart=trend_chart, ancestors=ancestors,
                   prev_date=before[0].isoformat(), next_date=(until + timedelta(days=1)).isoformat())
    return render(request, "analytics/gmv.html", context)
