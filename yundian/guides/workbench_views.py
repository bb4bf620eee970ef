"""Guide workbench pages: on the guide's phone — materials to share (one tap: the phone's share sheet, or the link
copied), the poster with its QR code, my groups, competitions and my ranking; on the console — the materials
library (upload), share funnels with a chart, competitions (set up, live leaderboard, results); the public page a
member joins a group on (the group store's storefront)."""
from io import BytesIO

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from yundian.catalog.models import Sku
from yundian.catalog.pricing import price_resolve_many
from yundian.core import charts
from yundian.core.errors import DomainError, NotFound
from yundian.core.money import Money
from yundian.core.numbers import parse_whole
from yundian.members import account as member_account
from yundian.org.console import console_view
from yundian.org.models import OrgNode
from yundian.org.roles import NodeKind, Perm
from yundian.org.selectors import has_perm, scope_paths
from yundian.stores import selectors as store_selectors
from yundian.stores.models import StoreProfile

from . import competitions, funnels, groups, materials
from .models import CompetitionMetric, CompetitorKind, MaterialKind, MaterialShare


def _error(exc: DomainError) -> dict:
    return {"message": exc.message, "code": exc.code, "details": exc.details}


def _share_url(request: HttpRequest, code: str) -> str:
    return request.build_absolute_uri(reverse("promotions_public:share_link", args=[code]))


def _price_text(material, store) -> str:
    if not material.product_id:
        return ""
    skus = list(Sku.objects.filter(product_id=material.product_id, is_active=True).order_by("id")[:20])
    if not skus:
        return ""
    prices = [r.price for r in price_resolve_many(skus, store).values()]
    low = min(prices, key=lambda m: m.amount)
    return low.format()


# --- the guide's phone ------------------------------------------------------------------------------------------

@console_view(Perm.MATERIAL_SHARE)
def share_home(request: HttpRequest) -> HttpResponse:
    """Materials to share, newest first, each with what its link brought in so far."""
    items = list(materials.materials_for_guide(actor=request.actor).order_by("-id")[:50])
    mine = materials.my_shares(actor=request.actor)
    links = [s.link for s in mine.values()]
    counts = funnels.link_counts([l.code for l in links], [l.pk for l in links])
    stores = materials.share_stores(request.actor)
    rows = []
    for m in items:
        share = mine.get(m.pk)
        rows.append({"m": m, "share": share, "counts": counts.get(share.link.code) if share else None,
                     "price": _price_text(m, stores[0]) if stores else "",
                     "picture": (m.file.url if m.file and m.kind == MaterialKind.POSTER else
                                 next((x.src for x in m.product.media.all()[:1]), "") if m.product_id else "")})
    return render(request, "guides/share_home.html", {"rows": rows})


@console_view(Perm.MATERIAL_SHARE)
@require_POST
def share_material(request: HttpRequest, material_id: int) -> HttpResponse:
    """One tap: the guide's link for the material (the same one every time) as JSON for the share sheet."""
    try:
        share = materials.material_share(actor=request.actor, material_id=material_id)
    except DomainError as exc:
        return JsonResponse({"error": _error(exc)}, status=exc.status)
    material = share.material
    return JsonResponse({"url": _share_url(request, share.link.code), "title": material.title,
                         "text": (material.body or material.title)[:200], "times": share.times,
                         "poster": reverse("guides:share_poster", args=[share.pk])})


@console_view(Perm.MATERIAL_SHARE)
def share_poster(request: HttpRequest, share_id: int) -> HttpResponse:
    """The guide's poster of a material they shared: its picture, title, price and the link's QR code (PNG)."""
    share = (MaterialShare.objects.filter(pk=share_id, guide=request.actor).select_related("material__product", "link",
                                                                                          "store").first())
    if share is None:
        raise Http404
    png = materials.poster_png(material=share.material, url=_share_url(request, share.link.code),
                               guide_name=request.actor.display_name, store_name=share.store.name,
                               price_text=_price_text(share.material, share.store), scan_text=_("Scan to buy"))
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="poster-{share.pk}.png"'
    return response


def _qr_png(url: str) -> bytes:
    import qrcode

    qr = qrcode.QRCode(border=2, box_size=8)
    qr.add_data(url)
    qr.make(fit=True)
    out = BytesIO()
    qr.make_image().get_image().save(out, format="PNG")
    return out.getvalue()


@console_view(Perm.MATERIAL_SHARE)
@require_http_methods(["GET", "POST"])
def my_groups(request: HttpRequest) -> HttpResponse:
    """The guide's groups with their figures; POST: open a new group."""
    error = None
    status = 200
    if request.method == "POST":
        try:
            group = groups.group_create(actor=request.actor, name=request.POST.get("name", "")[:200])
        except DomainError as exc:
            error, status = _error(exc), exc.status
        else:
            return redirect("guides:group_detail", group.pk)
    rows = [{"g": g, "m": groups.group_metrics(g)} for g in groups.group_list(actor=request.actor).filter(
        guide=request.actor)]
    return render(request, "guides/my_groups.html", {"rows": rows, "error": error}, status=status)


@console_view(Perm.ORG_VIEW)
@require_http_methods(["GET", "POST"])
def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    """A group: its join link and QR code, figures, deals; a manager makes a group-only coupon here."""
    group = groups.group_get(actor=request.actor, group_id=group_id)
    error, status = None, 200
    if request.method == "POST":
        amount_text = (request.POST.get("amount") or "").strip()[:40]
        threshold_text = (request.POST.get("threshold") or "").strip()[:40]
        try:
            amount = Money.parse(amount_text).amount if amount_text else 0
            threshold = Money.parse(threshold_text).amount if threshold_text else 0
            groups.group_coupon_create(actor=request.actor, group_id=group.pk,
                                       name=request.POST.get("name", "")[:120], amount=amount, threshold=threshold,
                                       valid_days=parse_whole(request.POST.get("valid_days")) or 14)
        except DomainError as exc:
            error, status = _error(exc), exc.status
        else:
            return redirect("guides:group_detail", group.pk)
    join_url = request.build_absolute_uri(reverse("guides_public:group_join", args=[group.join_code]))
    return render(request, "guides/group_detail.html", {
        "group": group, "m": groups.group_metrics(group), "deals": groups.group_deals(group), "join_url": join_url,
        "may_make_coupon": has_perm(request.actor, Perm.PROMOTION_MANAGE, group.store), "error": error},
        status=status)


@console_view(Perm.ORG_VIEW)
def group_qr(request: HttpRequest, group_id: int) -> HttpResponse:
    group = groups.group_get(actor=request.actor, group_id=group_id)
    url = request.build_absolute_uri(reverse("guides_public:group_join", args=[group.join_code]))
    return HttpResponse(_qr_png(url), content_type="image/png")


METRIC_UNITS = {CompetitionMetric.SALES: charts.MONEY}


def _value_text(metric: str, value: int) -> str:
    return Money(int(value)).format() if metric == CompetitionMetric.SALES else str(value)


OLD_RANK_KEYS = {"net_sales": CompetitionMetric.SALES, "tasks_done": CompetitionMetric.TASKS}  # the old page's ?by=


@console_view(Perm.TASK_WORK)
def my_ranking(request: HttpRequest) -> HttpResponse:
    """My ranking, one page on the guide's phone: my place in each running competition, then this month's board of
    my store (or my region) for sales, new members, tasks done or shares, my own row highlighted."""
    metric = request.GET.get("by", "")
    metric = OLD_RANK_KEYS.get(metric, metric)
    metric = metric if metric in competitions.BOARD_METRICS else CompetitionMetric.SALES
    store = request.actor.home
    region = store.parent if store.kind == NodeKind.STORE and store.parent_id else None
    among = "region" if request.GET.get("among") == "region" and region is not None else "store"
    board, me = competitions.month_board(actor=request.actor, metric=metric,
                                         node=region if among == "region" else store)
    labels = dict(CompetitionMetric.choices)
    mine = [{"s": s, "metric": labels[s.metric], "shown": _value_text(s.metric, s.value),
             "gap": _value_text(s.metric, s.gap_to_next) if s.gap_to_next is not None else None}
            for s in competitions.my_competitions(actor=request.actor)]
    rows = [{"s": s, "shown": _value_text(metric, s.value), "me": s.key == request.actor.pk} for s in board]
    return render(request, "guides/phone/ranking.html", {
        "tab": "ranking", "competitions": mine, "rows": rows, "metric": metric, "among": among, "region": region,
        "me": me, "me_shown": _value_text(metric, me.value),
        "gap": _value_text(metric, me.gap_to_next) if me.gap_to_next is not None else None,
        "metrics": [(m, labels[m]) for m in competitions.BOARD_METRICS], "month": timezone.localdate()})


def my_ranking_moved(request: HttpRequest) -> HttpResponse:
    """The workbench's former ranking page: now one page with the phone's."""
    return redirect("guides:ranking", permanent=True)


# --- console: the library, funnels, competitions ----------------------------------------------------------

def _manage_nodes(actor) -> list[OrgNode]:
    paths = scope_paths(actor, Perm.MATERIAL_MANAGE)
    nodes = OrgNode.objects.filter(enterprise_id=actor.enterprise_id, is_active=True).exclude(kind=NodeKind.STORE) \
        .order_by("path")
    return [n for n in nodes if any(n.path.startswith(p) for p in paths)]


@console_view(Perm.MATERIAL_MANAGE)
@require_http_methods(["GET", "POST"])
def material_library(request: HttpRequest) -> HttpResponse:
    """The materials library: every material of the actor's subtree; POST: upload a new one."""
    error, status, form = None, 200, {}
    if request.method == "POST":
        form = request.POST
        if form.get("action") in ("withdraw", "restore"):
            materials.material_set_active(actor=request.actor, material_id=parse_whole(form.get("material_id")) or 0,
                                          is_active=form.get("action") == "restore")
            return redirect("guides:material_library")
        try:
            materials.material_create(
                actor=request.actor, node_id=parse_whole(form.get("node_id")) or 0, kind=form.get("kind", ""),
                title=form.get("title", "")[:300], body=form.get("body", "")[:3000],
                product_id=parse_whole(form.get("product_id")) if form.get("product_id") else None,
                upload=request.FILES.get("file"), valid_from=form.get("valid_from") or None,
                valid_until=form.get("valid_until") or None)
        except DomainError as exc:
            error, status = _error(exc), exc.status
        else:
            return redirect("guides:material_library")
    rows = funnels.share_funnel(actor=request.actor, by="material")
    by_material = {r.key: r for r in rows}
    library = [{"m": m, "f": by_material.get(m.pk)} for m in materials.material_list(actor=request.actor)[:100]]
    return render(request, "guides/material_library.html", {
        "library": library, "nodes": _manage_nodes(request.actor), "kinds": MaterialKind.choices, "error": error,
        "form": form}, status=status)


@console_view(Perm.COMMISSION_VIEW_ALL)
def share_funnels(request: HttpRequest) -> HttpResponse:
    """Per-material (or per-guide, per-group) share funnels: opens -> sign-ups -> orders -> GMV, with a chart."""
    by = request.GET.get("by") if request.GET.get("by") in ("material", "guide", "group") else "material"
    since = parse_date(request.GET.get("since") or "")
    start = timezone.make_aware(timezone.datetime(since.year, since.month, since.day)) if since else None
    rows = funnels.share_funnel(actor=request.actor, by=by, since=start)
    totals = funnels.funnel_totals(rows)
    top = rows[:10]
    chart = charts.bar(_("Opens, sign-ups and orders"), x=[r.label for r in top], series=[
        charts.series(_("Opens"), [r.opens for r in top]), charts.series(_("Sign-ups"), [r.signups for r in top]),
        charts.series(_("Orders"), [r.orders for r in top])]) if top else None
    gmv = charts.bar(_("GMV through the links"), x=[r.label for r in top], unit=charts.MONEY,
                     series=[charts.series(_("GMV"), [r.gmv for r in top])], horizontal=True) if top else None
    return render(request, "guides/share_funnels.html", {"rows": rows, "totals": totals, "by": by, "chart": chart,
                                                         "gmv_chart": gmv, "since": since})


@console_view(Perm.ORG_VIEW)
@require_http_methods(["GET", "POST"])
def competition_list(request: HttpRequest) -> HttpResponse:
    """Competitions the actor sees; managers set up a new one."""
    error, status, form = None, 200, {}
    may_manage = has_perm(request.actor, Perm.COMPETITION_MANAGE)
    if request.method == "POST" and may_manage:
        form = request.POST
        try:
            competition = competitions.competition_create(
                actor=request.actor, node_id=parse_whole(form.get("node_id")) or 0, name=form.get("name", "")[:200],
                competitor=form.get("competitor", ""), metric=form.get("metric", ""),
                starts_at=form.get("starts_at") or None, ends_at=form.get("ends_at") or None,
                prize_top_n=parse_whole(form.get("prize_top_n")) if form.get("prize_top_n") else 3,
                prize=form.get("prize", "")[:300])
        except DomainError as exc:
            error, status = _error(exc), exc.status
        else:
            return redirect("guides:competition_detail", competition.pk)
    now = timezone.now()
    items = list(competitions.competition_list(actor=request.actor).order_by("-starts_at")[:50])
    nodes = []
    if may_manage:
        paths = scope_paths(request.actor, Perm.COMPETITION_MANAGE)
        nodes = [n for n in OrgNode.objects.filter(enterprise_id=request.actor.enterprise_id, is_active=True)
                 .order_by("path") if any(n.path.startswith(p) for p in paths)]
    return render(request, "guides/competitions.html", {
        "items": items, "now": now, "may_manage": may_manage, "nodes": nodes, "error": error, "form": form,
        "metrics": CompetitionMetric.choices, "competitors": CompetitorKind.choices}, status=status)


@console_view(Perm.ORG_VIEW)
@require_http_methods(["GET", "POST"])
def competition_detail(request: HttpRequest, competition_id: int) -> HttpResponse:
    """The live leaderboard (refreshes itself while it runs), or the recorded results; POST: record the results."""
    competition = competitions.competition_get(actor=request.actor, competition_id=competition_id)
    error, status = None, 200
    if request.method == "POST":
        try:
            competitions.competition_close(actor=request.actor, competition_id=competition.pk)
        except DomainError as exc:
            error, status = _error(exc), exc.status
        else:
            return redirect("guides:competition_detail", competition.pk)
        competition.refresh_from_db()
    now = timezone.now()
    board = competitions.leaderboard(competition, now=now)
    unit = charts.MONEY if competition.metric == CompetitionMetric.SALES else charts.COUNT
    top = board[:15]
    chart = charts.bar(competition.name, x=[s.name for s in top], unit=unit, horizontal=True,
                       series=[charts.series(competition.get_metric_display(), [s.value for s in top])]) if top else None
    rows = [{"s": s, "value": _value_text(competition.metric, s.value),
             "prize": s.prize or (competition.prize if competition.closed_at is None and s.rank <= competition.prize_top_n
                                  and s.value > 0 else ""),
             "me": s.key in (request.actor.pk, request.actor.home_id)} for s in board]
    template = "guides/partials/leaderboard.html" if request.htmx else "guides/competition_detail.html"
    return render(request, template, {
        "c": competition, "rows": rows, "chart": chart, "running": competition.starts_at <= now < competition.ends_at,
        "ended": now >= competition.ends_at, "error": error,
        "may_close": has_perm(request.actor, Perm.COMPETITION_MANAGE, competition.node)}, status=status)


# --- public: join a group --------------------------------------------------------------------------------------

@never_cache
@require_http_methods(["GET", "POST"])
def group_join(request: HttpRequest, code: str) -> HttpResponse:
    """A group's join page on its store's storefront: the signed-in member joins with one tap (signing in first
    when needed); members see the group's deals."""
    try:
        group = groups.group_by_code(code)
    except NotFound:
        raise Http404
    profile = StoreProfile.objects.filter(node_id=group.store_id).first()
    if profile is None:
        raise Http404
    member = member_account.signed_in_member(request, enterprise_id=profile.enterprise_id)
    sign_in_url = f"{reverse('member_account:sign_in', args=[profile.slug])}?next={request.path}"
    joined = member is not None and group.members.filter(member=member).exists()
    if request.method == "POST":
        if member is None:
            return redirect(sign_in_url)
        groups.group_join(code=group.join_code, member=member)
        return redirect(request.path)
    return render(request, "guides/group_join.html", {
        **store_selectors.storefront_context(profile), "group": group, "member": member, "joined": joined,
        "sign_in_url": sign_in_url, "deals": groups.group_deals(group) if joined else [],
        "size": group.members.count()})
