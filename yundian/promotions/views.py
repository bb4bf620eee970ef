"""Promotions pages. Console (HQ, regions, stores): every promotion with its results, creating promotions, coupon
campaigns (and issuing codes), flash sales and group buys. Public (/p/, no staff sign-in; a signed member token
says which member acts): the flash-sale page and its buy endpoint, group pages (open / join), share links.
Parse -> one service/selector -> render; domain errors re-render with the translated message and change nothing."""
import json
from datetime import datetime

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from yundian.core.errors import DomainError, NotFound, ValidationFailed
from yundian.core.exports import table_file
from yundian.core.money import Money
from yundian.core.numbers import parse_whole
from yundian.members import selectors as member_selectors
from yundian.members.models import IdentityKind
from yundian.members.normalize import mask_identity
from yundian.org import selectors as org_selectors
from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from . import selectors, services
from .member_tokens import member_from_token
from .member_pages import EXPIRED, STATUS_LABELS, coupon_status
from .models import CouponStatus, FlashSale, GroupBuyCampaign, GroupStatus, PromotionKind, UsageSource

CODE_STATUSES = [("", _("All")), (CouponStatus.AVAILABLE, STATUS_LABELS[CouponStatus.AVAILABLE]),
                 (CouponStatus.REDEEMED, STATUS_LABELS[CouponStatus.REDEEMED]),
                 (EXPIRED, STATUS_LABELS[EXPIRED]), (CouponStatus.VOID, STATUS_LABELS[CouponStatus.VOID])]

MAX_BODY = 4096


def _error(exc: DomainError) -> dict:
    return {"message": exc.message, "code": exc.code, "field": exc.details.get("field", "")}


def _int(value) -> int | None:
    """A whole number from a form field (a priority may be negative), else None."""
    value = (value or "").strip()
    number = parse_whole(value.removeprefix("-")) if len(value) < 12 else None
    return -number if number is not None and value.startswith("-") else number


def _money(value, field: str) -> int:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(_("This field is required."), code="required", details={"field": field})
    try:
        return Money.parse(value).amount
    except DomainError as exc:
        exc.details["field"] = field
        raise


def _when(value, field: str, *, required: bool = False) -> datetime | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationFailed(_("This field is required."), code="required", details={"field": field})
        return None
    parsed = parse_datetime(value) if len(value) <= 40 else None
    if parsed is None:
        raise ValidationFailed(_("Give a date and time."), code="invalid_datetime", details={"field": field})
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _ids(value: str, field: str) -> list[int]:
    parts = [p for p in (value or "").replace("，", ",").split(",") if p.strip()]
    out = []
    for part in parts[:500]:
        number = _int(part)
        if number is None or number <= 0:
            raise ValidationFailed(_("Give ids separated by commas."), code="invalid_ids", details={"field": field})
        out.append(number)
    return out


def _picked_ids(post, field: str) -> list[int]:
    """Ids from a picker (one hidden input per chosen item) or typed with commas (API-style clients)."""
    return _ids(",".join(post.getlist(field)), field)


def _submit(request: HttpRequest, work, done, *, template: str, context, errors: str, **extra) -> HttpResponse:
    """Run a console form's service call: `done(result)` on success; a domain error re-renders `template` with
    `context(request, <errors>=the error, **extra)` at the error's status (the service changed nothing). NotFound
    propagates (console_view turns it into a 404)."""
    try:
        result = work()
    except NotFound:
        raise
    except DomainError as exc:
        return render(request, template, context(request, **{errors: _error(exc)}, **extra), status=exc.status)
    return done(result)


def _managed_nodes(actor) -> list:
    return [n for n in org_selectors.org_node_list(actor=actor, include_inactive=False)
            if has_perm(actor, Perm.PROMOTION_MANAGE, n)]


# --- console ---------------------------------------------------------------------------------------------------------

def _overview_context(request, **extra) -> dict:
    actor = request.actor
    rows = selectors.overview(actor=actor)
    return {"rows": rows, "nodes": _managed_nodes(actor), "kinds": PromotionKind.choices,
            "may_manage": has_perm(actor, Perm.PROMOTION_MANAGE), "sources": dict(UsageSource.choices), **extra}


@console_view(Perm.PROMOTION_VIEW)
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "promotions/overview.html", _overview_context(request))


MAX_BUNDLE_ROWS = 4


def _audience_from(post) -> int | None:
    """The one audience (segment) picked, or None: for its members only."""
    picked = _picked_ids(post, "audience_id")
    return picked[0] if picked else None


def _maths_from(post) -> dict:
    kind = post.get("kind", "")
    maths: dict = {"category_ids": _picked_ids(post, "category_ids") or None,
                   "sku_ids": _picked_ids(post, "sku_ids") or None}
    if kind in ("percent_off",):
        maths["rate"] = post.get("rate", "").strip()
    elif kind == "amount_off":
        maths["amount"] = _money(post.get("amount"), "amount")
    elif kind in ("threshold_amount", "threshold_percent"):
        tiers = []
        for minimum, value in zip(post.getlist("tier_min"), post.getlist("tier_value")):
            if not minimum.strip() and not value.strip():
                continue
            if kind == "threshold_amount":
                tiers.append({"min": _money(minimum, "tiers"), "off": _money(value, "tiers")})
            else:
                tiers.append({"min": _money(minimum, "tiers"), "rate": value.strip()})
        maths["tiers"] = tiers
    elif kind == "buy_x_get_y":
        maths.update(buy_quantity=_int(post.get("buy_quantity")), get_quantity=_int(post.get("get_quantity")),
                     get_rate=post.get("get_rate", "0").strip() or "0")
    elif kind == "bundle":
        items = []
        for row in range(1, MAX_BUNDLE_ROWS + 1):  # one SKU picker and one quantity per row
            sku_id = post.get(f"bundle_sku_{row}", "")
            if sku_id.strip():
                items.append({"sku_id": _int(sku_id), "quantity": _int(post.get(f"bundle_quantity_{row}")) or 1})
        maths.update(bundle_items=items, bundle_price=_money(post.get("bundle_price"), "bundle_price"))
    return maths


@console_view(Perm.PROMOTION_MANAGE)
@require_http_methods(["POST"])
def promotion_create(request: HttpRequest) -> HttpResponse:
    post = request.POST

    def create():
        return services.promotion_create(
            actor=request.actor, node_id=_int(post.get("node_id")) or -1, code=post.get("code", ""),
            name=post.get("name", ""), kind=post.get("kind", ""), priority=_int(post.get("priority")) or 0,
            is_exclusive=post.get("is_exclusive") == "on", channels=post.getlist("channels") or None,
            audience_id=_audience_from(post), valid_from=_when(post.get("valid_from"), "valid_from"),
            valid_to=_when(post.get("valid_to"), "valid_to"),
            status="active" if post.get("activate") == "on" else "draft", **_maths_from(post))

    return _submit(request, create, lambda promotion: redirect("promotions:detail", promotion_id=promotion.pk),
                   template="promotions/overview.html", context=_overview_context, errors="form_errors", form=post)


@console_view(Perm.PROMOTION_VIEW)
def detail(request: HttpRequest, promotion_id: int) -> HttpResponse:
    actor = request.actor
    promotion = selectors.promotion_get(actor=actor, promotion_id=promotion_id)
    source = UsageSource.COUPON if promotion.requires_coupon else UsageSource.PROMOTION
    key = promotion.campaign.pk if promotion.requires_coupon else promotion.pk
    results = selectors.promotion_results(actor=actor, source=source, ids=[key]).get(key, selectors.Results())
    return render(request, "promotions/detail.html", {
        "promotion": promotion, "results": results, "may_manage": has_perm(actor, Perm.PROMOTION_MANAGE,
                                                                           promotion.node),
        "form_errors": request.session.pop("promotions_error", None) if hasattr(request, "session") else None})


@console_view(Perm.PROMOTION_MANAGE)
@require_http_methods(["POST"])
def set_status(request: HttpRequest, promotion_id: int) -> HttpResponse:
    try:
        services.promotion_set_status(actor=request.actor, promotion_id=promotion_id,
                                      status=request.POST.get("status", ""))
    except NotFound:
        raise
    except DomainError as exc:
        request.session["promotions_error"] = {"message": str(exc.message), "code": exc.code}
    return redirect("promotions:detail", promotion_id=promotion_id)


def _coupons_context(request, **extra) -> dict:
    actor = request.actor
    page = Paginator(selectors.campaign_list(actor=actor), 50).get_page(request.GET.get("page"))
    return {"page": page, "nodes": _managed_nodes(actor), "kinds": PromotionKind.choices,
            "may_manage": has_perm(actor, Perm.PROMOTION_MANAGE), "may_issue": has_perm(actor, Perm.COUPON_ISSUE),
            **extra}


@console_view(Perm.PROMOTION_VIEW)
def coupons(request: HttpRequest) -> HttpResponse:
    return render(request, "promotions/coupons.html", _coupons_context(request))


@console_view(Perm.PROMOTION_MANAGE)
@require_http_methods(["POST"])
def coupon_campaign_create(request: HttpRequest) -> HttpResponse:
    post = request.POST

    def create():
        total = post.get("total_limit", "").strip()
        services.coupon_campaign_create(
            actor=request.actor, node_id=_int(post.get("node_id")) or -1, code=post.get("code", ""),
            name=post.get("name", ""), kind=post.get("kind", ""), code_mode=post.get("code_mode", "unique"),
            shared_code=post.get("shared_code", ""), total_limit=_int(total) if total else None,
            per_member_limit=_int(post.get("per_member_limit")) or 1,
            restore_rule=post.get("restore_rule", "cancel_or_return"), audience_id=_audience_from(post),
            valid_from=_when(post.get("valid_from"), "valid_from"), valid_to=_when(post.get("valid_to"), "valid_to"),
            **_maths_from(post))

    return _submit(request, create, lambda _: redirect("promotions:coupons"),
                   template="promotions/coupons.html", context=_coupons_context, errors="form_errors", form=post)


@console_view(Perm.COUPON_ISSUE)
@require_http_methods(["POST"])
def coupon_issue(request: HttpRequest, campaign_id: int) -> HttpResponse:
    post = request.POST

    def issue():
        count = _int(post.get("count"))
        member_ids = _picked_ids(post, "member_ids") or None
        return services.coupon_issue(actor=request.actor, campaign_id=campaign_id,
                                     count=count if member_ids is None else None, member_ids=member_ids)

    def show(issued) -> HttpResponse:
        return render(request, "promotions/coupons.html",
                      _coupons_context(request, issued=issued, issue_campaign=campaign_id))

    return _submit(request, issue, show, template="promotions/coupons.html", context=_coupons_context,
                   errors="issue_errors", issue_campaign=campaign_id)


@console_view(Perm.PROMOTION_VIEW)
def coupon_codes(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """A campaign's issued codes, again and at any time: code, member (masked), issued by and when, status;
    filter by status; CSV export of the same rows."""
    campaign = selectors.campaign_get(actor=request.actor, campaign_id=campaign_id)
    status = request.GET.get("status", "")
    if status not in dict(CODE_STATUSES):
        status = ""
    coupons = selectors.coupon_list(actor=request.actor, campaign_id=campaign.pk,
                                    status=None if status in ("", EXPIRED) else status)
    if status == EXPIRED:
        coupons = coupons.filter(status=CouponStatus.AVAILABLE)
    now = timezone.now()

    def row(coupon) -> dict:
        shown = coupon_status(coupon, now)
        member = coupon.member
        return {"code": coupon.code, "status": shown, "status_label": str(STATUS_LABELS[shown]),
                "member": (member.name or f"#{member.pk}") if member else "",
                "member_id": member.pk if member else None,
                "phone": mask_identity(IdentityKind.PHONE, member_selectors.phone_of(member)) if member else "",
                "issued_by": coupon.issued_by.display_name if coupon.issued_by_id else "",
                "issued_at": coupon.issued_at}

    if request.GET.get("format") == "csv":
        rows = [r for r in (row(c) for c in coupons.iterator(chunk_size=2000))
                if status != EXPIRED or r["status"] == EXPIRED]
        content_type, body = table_file(
            [_("Code"), _("Status"), _("Member"), _("Phone"), _("Issued by"), _("Issued at")],
            [[r["code"], r["status_label"], r["member"], r["phone"], r["issued_by"], r["issued_at"]] for r in rows],
            "csv")
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="coupons-{campaign.promotion.code}.csv"'
        return response
    page = Paginator(coupons, 100).get_page(request.GET.get("page"))
    rows = [row(c) for c in page]
    if status == EXPIRED:
        rows = [r for r in rows if r["status"] == EXPIRED]
    return render(request, "promotions/coupon_codes.html", {
        "campaign": campaign, "page": page, "rows": rows, "status": status, "statuses": CODE_STATUSES})


def _flash_context(request, **extra) -> dict:
    actor = request.actor
    sales = list(selectors.flash_sale_list(actor=actor)[:100])
    results = selectors.promotion_results(actor=actor, source=UsageSource.FLASH_SALE, ids=[s.pk for s in sales])
    groups = list(selectors.group_buy_list(actor=actor)[:100])
    group_results = selectors.promotion_results(actor=actor, source=UsageSource.GROUP_BUY, ids=[g.pk for g in groups])
    return {"sales": [(s, results.get(s.pk, selectors.Results())) for s in sales],
            "groups": [(g, group_results.get(g.pk, selectors.Results())) for g in groups],
            "nodes": _managed_nodes(actor), "may_manage": has_perm(actor, Perm.PROMOTION_MANAGE), "now": timezone.now(),
            **extra}


@console_view(Perm.PROMOTION_VIEW)
def flash_and_groups(request: HttpRequest) -> HttpResponse:
    return render(request, "promotions/flash_groups.html", _flash_context(request))


@console_view(Perm.PROMOTION_MANAGE)
@require_http_methods(["POST"])
def flash_sale_create(request: HttpRequest) -> HttpResponse:
    post = request.POST

    def create():
        services.flash_sale_create(
            actor=request.actor, node_id=_int(post.get("node_id")) or -1, code=post.get("code", ""),
            name=post.get("name", ""), sku_id=_int(post.get("sku_id")) or -1, price=_money(post.get("price"), "price"),
            cap=_int(post.get("cap")) or 0, per_member_limit=_int(post.get("per_member_limit")) or 1,
            starts_at=_when(post.get("starts_at"), "starts_at", required=True),
            ends_at=_when(post.get("ends_at"), "ends_at", required=True))

    return _submit(request, create, lambda _: redirect("promotions:flash_groups"),
                   template="promotions/flash_groups.html", context=_flash_context, errors="flash_errors", form=post)


@console_view(Perm.PROMOTION_MANAGE)
@require_http_methods(["POST"])
def group_buy_create(request: HttpRequest) -> HttpResponse:
    post = request.POST

    def create():
        tiers = [{"size": _int(size) or 0, "price": _money(price, "price_tiers")}
                 for size, price in zip(post.getlist("tier_size"), post.getlist("tier_price")) if size.strip()]
        services.group_buy_create(
            actor=request.actor, node_id=_int(post.get("node_id")) or -1, code=post.get("code", ""),
            name=post.get("name", ""), sku_id=_int(post.get("sku_id")) or -1, price_tiers=tiers,
            cap=_int(post.get("cap")) or 0, window_minutes=_int(post.get("window_minutes")) or 0,
            starts_at=_when(post.get("starts_at"), "starts_at", required=True),
            ends_at=_when(post.get("ends_at"), "ends_at", required=True))

    return _submit(request, create, lambda _: redirect("promotions:flash_groups"),
                   template="promotions/flash_groups.html", context=_flash_context, errors="group_errors", form=post)


# --- public (/p/) ----------------------------------------------------------------------------------------------------

def _json_error(exc: DomainError) -> JsonResponse:
    return JsonResponse({"error": exc.as_dict()}, status=exc.status)


def _body(request: HttpRequest) -> dict:
    """A JSON object body (or a form post) of at most MAX_BODY bytes; 400 otherwise."""
    if request.content_type == "application/json":
        if len(request.body) > MAX_BODY:
            raise ValidationFailed(_("The request is too large."), code="payload_too_large")
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise DomainError(_("The request body is not valid JSON."), code="malformed_body")
        if not isinstance(data, dict):
            raise DomainError(_("The request body is not valid JSON."), code="malformed_body")
        return data
    return {k: v for k, v in request.POST.items()}


def _member(data: dict, enterprise_id: int) -> int:
    member_id, token_enterprise = member_from_token(data.get("member_token"))
    if token_enterprise != enterprise_id:
        raise NotFound(_("Not found."))
    return member_id


def _quantity(value) -> int:
    if isinstance(value, str):
        value = parse_whole(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def flash_page(request: HttpRequest, flash_sale_id: int) -> HttpResponse:
    sale = FlashSale.objects.filter(pk=flash_sale_id, is_active=True).select_related("sku__product").first()
    if sale is None:
        raise Http404
    now = timezone.now()
    return render(request, "promotions/public_flash.html", {
        "sale": sale, "left": sale.cap - sale.sold, "now": now, "running": sale.starts_at <= now < sale.ends_at,
        "token": request.GET.get("t", "")[:200]})


@csrf_exempt  # no cookie auth: the member token in the body is the credential
@require_http_methods(["POST"])
def flash_buy(request: HttpRequest, flash_sale_id: int) -> JsonResponse:
    """Buy in a flash sale: 201 with the claim, 409 sold_out / member_limit_reached, 401 without a valid token."""
    try:
        data = _body(request)
        member_id, enterprise_id = member_from_token(data.get("member_token"))
        result = services.flash_sale_buy(flash_sale_id=flash_sale_id, member_id=member_id, enterprise_id=enterprise_id,
                                         client_ref=data.get("client_ref"), quantity=_quantity(data.get("quantity", 1)))
    except DomainError as exc:
        return _json_error(exc)
    claim = result.claim
    return JsonResponse({"claim_id": claim.pk, "quantity": claim.quantity, "expires_at": claim.expires_at.isoformat(),
                         "replayed": result.replayed}, status=200 if result.replayed else 201)


def group_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        group = services.groups.group_for_token(token)
    except NotFound:
        raise Http404
    places = group.members.select_related("member").order_by("id")
    return render(request, "promotions/public_group.html", {
        "group": group, "campaign": group.campaign, "places": places, "left": group.size - group.joined_count,
        "open": group.status == GroupStatus.OPEN and group.expires_at > timezone.now(),
        "token": request.GET.get("t", "")[:200]})


@csrf_exempt
@require_http_methods(["POST"])
def group_open(request: HttpRequest, campaign_id: int) -> JsonResponse:
    try:
        data = _body(request)
        campaign = GroupBuyCampaign.objects.filter(pk=campaign_id).values_list("enterprise_id", flat=True).first()
        if campaign is None:
            raise NotFound(_("Group buy not found."), code="group_buy_not_found")
        group = services.group_open(campaign_id=campaign_id, member_id=_member(data, campaign),
                                    size=_quantity(data.get("size")))
    except DomainError as exc:
        return _json_error(exc)
    return JsonResponse({"token": group.token, "size": group.size, "price": group.price,
                         "expires_at": group.expires_at.isoformat(),
                         "url": reverse("promotions_public:group", args=[group.token])}, status=201)


@csrf_exempt
@require_http_methods(["POST"])
def group_join(request: HttpRequest, token: str) -> JsonResponse:
    try:
        data = _body(request)
        group = services.groups.group_for_token(token)
        place = services.group_join(token=token, member_id=_member(data, group.campaign.enterprise_id))
    except DomainError as exc:
        return _json_error(exc)
    return JsonResponse({"place_id": place.pk, "price": group.price}, status=201)


@csrf_exempt
@require_http_methods(["POST"])
def share(request: HttpRequest) -> JsonResponse:
    """A member shares a store (and product): their link, created once."""
    from yundian.org.models import OrgNode

    try:
        data = _body(request)
        store_id, product_id = data.get("store_id"), data.get("product_id")
        enterprise_id = OrgNode.objects.filter(pk=store_id).values_list("enterprise_id", flat=True).first() \
            if isinstance(store_id, int) else None
        if enterprise_id is None:
            raise NotFound(_("Store not found."), code="store_not_found")
        link = services.share_link_create(member_id=_member(data, enterprise_id), store_id=store_id,
                                          product_id=product_id)
    except DomainError as exc:
        return _json_error(exc)
    return JsonResponse({"code": link.code, "url": reverse("promotions_public:share_link", args=[link.code])},
                        status=201)


SHARE_COOKIE = "yd_share"
VISITOR_COOKIE = "yd_sv"  # a random id per browser: a share link opened again from it is not a second open


def share_link(request: HttpRequest, code: str) -> HttpResponse:
    """Follow a share link: count the visit, remember the link (a cookie the storefront checkout passes on to the
    order as its share code) and go to the product (or the store) on the storefront."""
    from yundian.stores.models import StoreProfile

    import secrets

    visitor = request.COOKIES.get(VISITOR_COOKIE, "")[:32]
    if not (visitor.isalnum() and len(visitor) >= 16):
        visitor = secrets.token_hex(16)
    try:
        link = services.referral_link_visit(code, visitor=visitor)
    except NotFound:
        raise Http404
    profile = StoreProfile.objects.filter(node_id=link.store_id).first()
    if profile is None:
        raise Http404
    target = (reverse("stores:storefront_product", args=[profile.slug, link.product_id]) if link.product_id
              else reverse("stores:storefront", args=[profile.slug]))
    if link.source.startswith("live:") and link.source[5:].isdigit():  # a live session's link: its page
        target = reverse("storefront_deals:live", args=[profile.slug, int(link.source[5:])])
    response = redirect(target)
    response.set_cookie(SHARE_COOKIE, link.code, max_age=7 * 24 * 3600, httponly=True, samesite="Lax")
    response.set_cookie(VISITOR_COOKIE, visitor, max_age=365 * 24 * 3600, httponly=True, samesite="Lax")
    return response


def record_share_sign_up(request: HttpRequest, member) -> None:
    """members' storefront sign-up hook: the share link in the browser's cookie brought this new member in."""
    code = request.COOKIES.get(SHARE_COOKIE, "")[:24]
    if code:
        services.share_link_signup(code=code, member_id=member.pk)
