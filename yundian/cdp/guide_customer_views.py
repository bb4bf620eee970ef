"""A guide's "my customers" (客情维护) on a phone: the guides context's customer list with each member's tags and a
next-best-action hint read from them. Lives in cdp because the tags do (guides sits below cdp)."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from yundian.guides import customers as guide_customers
from yundian.guides.models import ContactChannel, ContactOutcome
from yundian.org.console import console_view
from yundian.org.roles import Perm

from .models import ComputedKey, MemberTag
from .tags import tag_visible_q

# computed tag value -> what to do next (first match in this order wins)
HINTS = [
    ((ComputedKey.LIFECYCLE, "at_risk"), _("Slipping away: call with a personal offer.")),
    ((ComputedKey.LIFECYCLE, "dormant"), _("Dormant: send a win-back coupon.")),
    ((ComputedKey.LIFECYCLE, "lost"), _("Lost: a friendly hello and what's new.")),
    ((ComputedKey.LIFECYCLE, "new"), _("New: invite them back for a second purchase.")),
    ((ComputedKey.LIFECYCLE, "won_back"), _("Won back: thank them and keep in touch.")),
    ((ComputedKey.RFM_GROUP, "important_value"), _("Top customer: VIP care, first look at new arrivals.")),
    ((ComputedKey.RFM_GROUP, "important_retention"), _("Valuable but quieter: invite them to visit.")),
    ((ComputedKey.RFM_GROUP, "important_winback"), _("Big spender gone quiet: call them personally.")),
    ((ComputedKey.CLV_BAND, "top"), _("High lifetime value: look after them first.")),
]


def hint_for(customer, tags: list) -> str:
    held = {(t.computed_key, t.value) for t in tags}
    for key, text in HINTS:
        if key in held:
            return str(text)
    if customer.birthday_soon:
        return str(_("Birthday this week: send wishes and the birthday gift."))
    if customer.coupons:
        return str(_("Has unused coupons: remind them before they expire."))
    if customer.last_purchase is None:
        return str(_("Never bought: invite them to the store."))
    return ""


@console_view(Perm.TASK_WORK)
def my_customers(request: HttpRequest) -> HttpResponse:
    rows = guide_customers.my_customers(actor=request.actor, search=request.GET.get("q", ""))
    tags: dict[int, list] = {}
    for held in (MemberTag.objects.filter(member_id__in=[c.member.pk for c in rows])
                 .filter(tag_visible_q(request.actor, "tag__"), tag__is_active=True)
                 .select_related("tag").order_by("tag__group_id", "tag_id")):
        tags.setdefault(held.member_id, []).append(held.tag)
    for customer in rows:
        customer.tags = tags.get(customer.member.pk, [])
        customer.hint = hint_for(customer, customer.tags)
    return render(request, "guides/phone/customers.html", {
        "tab": "customers", "rows": rows, "q": request.GET.get("q", "")[:40],
        "channels": ContactChannel.choices, "outcomes": ContactOutcome.choices})
