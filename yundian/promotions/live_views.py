"""Console pages of live selling sessions (直播): the list with each session's state, scheduling and editing one
(pickers for the store, the host and the products), cancelling or ending it, and each guide's own link and QR code.
The report is analytics' page (/analytics/live/<id>/). Parse -> one service/selector -> render; a domain error
re-renders the form with the translated message and its status and changes nothing."""
from io import BytesIO

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from yundian.core.errors import DomainError, NotFound, ValidationFailed
from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from . import selectors, services
from .models import LiveStatus
from .services.live import ItemIn, is_store_guide
from .views import _error, _int, _money, _picked_ids, _when

ROWS = 6  # product rows on the form


def _link_url(request: HttpRequest, code: str) -> str:
    return request.build_absolute_uri(reverse("promotions_public:share_link", args=[code]))


@console_view(Perm.PROMOTION_VIEW)
def live_list(request: HttpRequest) -> HttpResponse:
    actor, now = request.actor, timezone.now()
    sessions = list(selectors.live_session_list(actor=actor)[:200])
    rows = [{"session": s, "state": s.state_at(now), "state_label": LiveStatus(s.state_at(now)).label,
             "items": s.items.count()} for s in sessions]
    return render(request, "promotions/live_list.html", {
        "rows": rows, "may_manage": has_perm(actor, Perm.PROMOTION_MANAGE)})


def _items_from(post) -> list[ItemIn]:
    items = []
    for i in range(ROWS):
        sku = _picked_ids(post, f"sku_{i}")
        if not sku:
            continue
        mode = post.get(f"mode_{i}", "live")
        if mode not in ("live", "flash"):
            raise ValidationFailed(_("Choose a live price or a flash allocation."), code="invalid_mode",
                                   details={"field": f"mode_{i}"})
        price = _money(post.get(f"price_{i}"), f"price_{i}")
        if mode == "live":
            items.append(ItemIn(sku_id=sku[0], live_price=price))
        else:
            cap = _int(post.get(f"cap_{i}"))
            if cap is None:
                raise ValidationFailed(_("Give the units of the flash allocation."), code="required",
                                       details={"field": f"cap_{i}"})
            items.append(ItemIn(sku_id=sku[0], flash_price=price, cap=cap,
                                limit=_int(post.get(f"limit_{i}")) or 1))
    return items


def _form_rows(post=None, session=None) -> list[dict]:
    rows = []
    if post is not None:
        for i in range(ROWS):
            rows.append({"i": i, "field": f"sku_{i}", "sku": _int(post.get(f"sku_{i}")), "mode": post.get(f"mode_{i}", "live"),
                         "price_text": post.get(f"price_{i}", ""), "cap": post.get(f"cap_{i}", ""),
                         "limit": post.get(f"limit_{i}", "1")})
        return rows
    items = list(session.items.select_related("flash_sale")) if session else []
    for i in range(ROWS):
        item = items[i] if i < len(items) else None
        sale = item.flash_sale if item else None
        price = (sale.price if sale else item.live_price) if item else None
        rows.append({"i": i, "field": f"sku_{i}", "sku": item.sku_id if item else None, "mode": "flash" if sale else "live",
                     "price_text": f"{price / 100:.2f}" if price is not None else "", "cap": sale.cap if sale else "",
                     "limit": sale.per_member_limit if sale else 1})
    return rows


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def _form(request, *, session=None, error=None, status=200) -> HttpResponse:
    post = request.POST if request.method == "POST" else None
    if post is not None:
        values = {"title": post.get("title", ""), "store": _int(post.get("store_id")), "host": _int(post.get("host_id")),
                  "starts_at": post.get("starts_at", ""), "ends_at": post.get("ends_at", "")}
    elif session is not None:
        values = {"title": session.title, "store": session.store_id, "host": session.host_id,
                  "starts_at": _local(session.starts_at), "ends_at": _local(session.ends_at)}
    else:
        values = {"title": "", "store": None, "host": None, "starts_at": "", "ends_at": ""}
    return render(request, "promotions/live_form.html", {
        "session": session, "values": values, "rows": _form_rows(post, session), "error": error,
        "modes": [("live", _("Live price")), ("flash", _("Flash allocation"))]}, status=status)


def _fields(request) -> dict:
    post = request.POST
    return {"title": post.get("title", ""), "host_id": (_picked_ids(post, "host_id") or [None])[0],
            "starts_at": _when(post.get("starts_at"), "starts_at", required=True),
            "ends_at": _when(post.get("ends_at"), "ends_at", required=True), "items": _items_from(post)}


@console_view(Perm.PROMOTION_MANAGE)
@require_http_methods(["GET", "POST"])
def live_create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _form(request)
    try:
        store = (_picked_ids(request.POST, "store_id") or [None])[0]
        session = services.live_session_create(actor=request.actor, store_id=store, **_fields(request))
    except NotFound:
        raise
    except DomainError as exc:
        return _form(request, error=_error(exc), status=exc.status)
    return redirect("promotions:live_detail", session.pk)


@console_view(Perm.PROMOTION_MANAGE)
@require_http_methods(["GET", "POST"])
def live_edit(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.live_session_get(actor=request.actor, session_id=session_id)
    if request.method == "GET":
        return _form(request, session=session)
    try:
        services.live_session_update(actor=request.actor, session_id=session.pk, **_fields(request))
    except NotFound:
        raise
    except DomainError as exc:
        return _form(request, session=session, error=_error(exc), status=exc.status)
    return redirect("promotions:live_detail", session.pk)


def _detail(request: HttpRequest, session_id: int, error=None, status: int = 200) -> HttpResponse:
    """One session: its products, its state, the host's link and QR, the acting guide's own link, the actions."""
    actor, now = request.actor, timezone.now()
    session = selectors.live_session_get(actor=actor, session_id=session_id)
    state = session.state_at(now)
    links = [{"link": link, "url": _link_url(request, link.code), "is_host": link.sharer_staff_id == session.host_id}
             for link in selectors.live_session_links(session)]
    mine = next((l for l in links if l["link"].sharer_staff_id == actor.pk), None)
    return render(request, "promotions/live_detail.html", {
        "session": session, "state": state, "state_label": LiveStatus(state).label, "links": links, "mine": mine,
        "may_share": mine is None and is_store_guide(actor, session.store),
        "items": session.items.select_related("sku__product", "flash_sale"),
        "may_manage": has_perm(actor, Perm.PROMOTION_MANAGE, session.store), "error": error,
        "may_edit": state == LiveStatus.SCHEDULED, "may_end": state == LiveStatus.LIVE,
        "may_cancel": state in (LiveStatus.SCHEDULED, LiveStatus.LIVE)}, status=status)


@console_view(Perm.PROMOTION_VIEW)
def live_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    return _detail(request, session_id)


@console_view(Perm.PROMOTION_MANAGE)
@require_http_methods(["POST"])
def live_close(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        services.live_session_close(actor=request.actor, session_id=session_id,
                                    cancel=request.POST.get("action") == "cancel")
    except NotFound:
        raise
    except DomainError as exc:
        return _detail(request, session_id, error=_error(exc), status=exc.status)
    return redirect("promotions:live_detail", session_id)


@console_view(Perm.PROMOTION_VIEW)
@require_http_methods(["POST"])
def live_share(request: HttpRequest, session_id: int) -> HttpResponse:
    """The acting guide's own link of the session (made once)."""
    try:
        services.live_share_link_for(actor=request.actor, session_id=session_id)
    except NotFound:
        raise
    except DomainError:
        pass  # not a guide of the store: the page offers no button then
    return redirect("promotions:live_detail", session_id)


@console_view(Perm.PROMOTION_VIEW)
def live_qr(request: HttpRequest, session_id: int, code: str) -> HttpResponse:
    """The QR code (PNG) of one of the session's links."""
    import qrcode
    from django.http import Http404

    session = selectors.live_session_get(actor=request.actor, session_id=session_id)
    if not any(link.code == code for link in selectors.live_session_links(session)):
        raise Http404
    qr = qrcode.QRCode(border=2, box_size=8)
    qr.add_data(_link_url(request, code))
    qr.make(fit=True)
    out = BytesIO()
    qr.make_image().get_image().save(out, format="PNG")
    response = HttpResponse(out.getvalue(), content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response
