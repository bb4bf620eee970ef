"""Console pages of outside sales channels: the connections with their last sync, a form to connect one, a
"sync now" button and the orders each brought in (placed, refused and why, what the marketplace was told)."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST

from yundian.core.errors import DomainError
from yundian.org.console import console_view
from yundian.org.models import NodeKind, OrgNode
from yundian.org.roles import Perm
from yundian.org.selectors import scope_q

from . import channels_services as services
from .channel_models import ChannelOrder
from .channels import ADAPTERS


def _context(request: HttpRequest, **extra) -> dict:
    from . import channels_fake  # noqa: F401 - registers the reference adapter

    connections = list(services.channel_connection_list(actor=request.actor))
    for c in connections:
        c.last_run = c.runs.first()
    orders = list(ChannelOrder.objects.filter(connection__in=connections).select_related("connection", "order")
                  .order_by("-id")[:50])
    labels = {"placed": pgettext("channel order", "Placed"), "rejected": pgettext("channel order", "Refused"),
              "shipped": pgettext("channel order", "Shipped"), "cancelled": pgettext("channel order", "Cancelled"),
              "refunded": pgettext("channel order", "Refunded")}
    for o in orders:
        o.status_label = labels.get(o.status, o.status)
        o.pushed_label = labels.get(o.pushed_status, "")
    stores = OrgNode.objects.filter(scope_q(request.actor, Perm.ORDER_MANAGE), kind=NodeKind.STORE,
                                    is_active=True).order_by("code")
    return {"connections": connections, "orders": orders, "stores": stores, "kinds": [(k, ADAPTERS[k].label or k) for k in sorted(ADAPTERS)], **extra}


@console_view(Perm.ORDER_MANAGE)
@require_http_methods(["GET", "POST"])
def channel_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        p = request.POST
        try:
            store_id = int(p.get("store_id") or 0)
            services.channel_connection_create(actor=request.actor, store_id=store_id, kind=p.get("kind", ""),
                                               code=p.get("code", ""), name=p.get("name", ""),
                                               base_url=p.get("base_url", ""), api_key=p.get("api_key", ""))
        except DomainError as exc:
            return render(request, "integrations/channels.html", _context(request, form_error=exc, post=p),
                          status=exc.status)
        except ValueError:
            return render(request, "integrations/channels.html", _context(request, post=p), status=422)
        return redirect("integrations:channels")
    return render(request, "integrations/channels.html", _context(request))


@console_view(Perm.ORDER_MANAGE)
@require_POST
def channel_sync_now(request: HttpRequest, connection_id: int) -> HttpResponse:
    try:
        services.channel_sync(connection_id=connection_id, actor=request.actor)
    except DomainError as exc:
        return render(request, "integrations/channels.html", _context(request, form_error=exc), status=exc.status)
    return redirect("integrations:channels")
