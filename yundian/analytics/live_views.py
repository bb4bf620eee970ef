"""The report page of a live selling session (直播): its figures from the warehouse (analytics.live), a chart of the
session's course by quarter hour and its top products. While the session runs the figures refresh themselves
every 30 seconds (htmx, the figures block only)."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from yundian.core import charts
from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.promotions.models import LiveStatus
from yundian.promotions.selectors import live_session_get
from yundian.stores.models import StoreProfile

from . import live

REFRESH_SECONDS = 30


def _percent(value) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


@console_view(Perm.ANALYTICS_VIEW)
def live_report(request: HttpRequest, session_id: int) -> HttpResponse:
    actor, now = request.actor, timezone.now()
    session = live_session_get(actor=actor, session_id=session_id)
    slug = StoreProfile.objects.filter(node_id=session.store_id).values_list("slug", flat=True).first() or ""
    report = live.warehouse_report(session, slug=slug, now=now)
    state = session.state_at(now)
    currency = actor.enterprise.currency
    labels = [b["label"] for b in report.buckets]
    course = charts.bar(_("Viewers and orders by quarter hour"), x=labels, series=[
        charts.series(_("New viewers"), [b["viewers"] for b in report.buckets]),
        charts.series(_("Orders"), [b["orders"] for b in report.buckets])])
    gmv_chart = charts.bar(_("GMV by quarter hour"), x=labels, unit=charts.MONEY, currency=currency,
                            series=[charts.series(_("GMV"), [b["gmv"] for b in report.buckets])])
    top = charts.bar(_("Top products by GMV"), x=[p["name"] for p in report.top_products], unit=charts.MONEY,
                     currency=currency, horizontal=True,
                     series=[charts.series(_("GMV"), [p["amount"] for p in report.top_products])])
    context = {"session": session, "state": state, "state_label": LiveStatus(state).label, "report": report,
               "conversion": _percent(report.conversion), "course": course, "gmv_chart": gmv_chart, "top": top,
               "is_live": state == LiveStatus.LIVE, "refresh": REFRESH_SECONDS, "as_of": now}
    if request.headers.get("HX-Request"):
        return render(request, "analytics/live_figures.html", context)
    return render(request, "analytics/live_report.html", context)
