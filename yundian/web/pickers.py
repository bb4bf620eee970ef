"""Searchable pickers: one search per kind (SKUs, products, categories, members, staff, stores, audiences, warehouses,
campaigns, tags, segments, message templates), each through its own context's scoped selector, so a picker offers
only what the actor may see (a store manager never finds another store's members). The widget (`widgets.Picker`) submits ids; this module turns a typed query into
options and ids back into labels.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yundian.catalog import selectors as catalog
from yundian.cdp import segments as cdp_segments, tags as cdp_tags
from yundian.inventory import selectors as stock
from yundian.members import selectors as members
from yundian.members.models import IdentityKind
from yundian.members.normalize import mask_identity
from yundian.messaging import selectors as messaging
from yundian.messaging.models import MessageChannel
from yundian.org import selectors as org
from yundian.org.models import Staff
from yundian.org.roles import NodeKind
from yundian.promotions import selectors as promotions
from yundian.promotions.models import CodeMode

MAX_OPTIONS = 20
MAX_QUERY = 64


@dataclass(frozen=True)
class Option:
    id: int
    label: str  # the name a person knows it by
    code: str  # the code beside it (SKU code, store code, masked phone)
    note: str = ""  # one more hint (the product of a SKU, the home store of a member)


@dataclass(frozen=True)
class PickerKind:
    key: str
    placeholder: str
    queryset: Callable[[Staff, str], QuerySet]  # (actor, query) -> what may be offered; "" = everything
    option: Callable[[Staff, object], Option]


def _sku_option(actor, sku) -> Option:
    options = " / ".join(str(v) for v in (sku.options or {}).values())
    variant = sku.name or options
    name = sku.product.name if not variant or variant == sku.product.name else f"{sku.product.name} {variant}"
    return Option(sku.pk, name, sku.code)


def _member_option(actor, member) -> Option:
    # always masked here: a picker is for choosing, not reading personal data
    return Option(member.pk, member.name or str(_("Member %(id)s") % {"id": member.pk}),
                  mask_identity(IdentityKind.PHONE, members.phone_of(member)), member.home.name)


def _template_option(actor, template) -> Option:
    # the channels it has a body for, in the channels' order: a journey's message step needs the one it sends on
    channels = {b.channel for b in template.bodies.all()}
    return Option(template.pk, template.name,
                  " · ".join(str(label) for value, label in MessageChannel.choices if value in channels),
                  template.node.name)


def _by_name_or_code(qs: QuerySet, query: str, *fields: str) -> QuerySet:
    if not query:
        return qs
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__icontains": query})
    return qs.filter(condition)


KINDS: dict[str, PickerKind] = {kind.key: kind for kind in [
    PickerKind("sku", _("Search SKUs by name, code or barcode"),
               lambda a, q: catalog.sku_list(actor=a, search=q or None, is_active=True), _sku_option),
    PickerKind("product", _("Search products by name or code"),
               lambda a, q: catalog.product_list(actor=a, search=q or None),
               lambda a, p: Option(p.pk, p.name, p.code, p.category.name if p.category_id else "")),
    PickerKind("category", _("Search categories by name or code"),
               lambda a, q: _by_name_or_code(catalog.category_list(actor=a, include_inactive=False), q, "name", "code"),
               lambda a, c: Option(c.pk, c.name, c.code)),
    PickerKind("member", _("Search members by name, phone or card"),
               lambda a, q: members.member_list(actor=a, search=q or None).prefetch_related("identities"),
               _member_option),
    PickerKind("staff", _("Search staff by name or user name"),
               lambda a, q: org.staff_list(actor=a, search=q or None),
               lambda a, s: Option(s.pk, s.display_name, s.user.username, s.home.name)),
    PickerKind("store", _("Search stores by name or code"),
               lambda a, q: org.org_node_list(actor=a, kind=NodeKind.STORE, search=q or None, include_inactive=False),
               lambda a, n: Option(n.pk, n.name, n.code)),
    PickerKind("node", _("Search HQ, regions and stores by name or code"),
               lambda a, q: org.org_node_list(actor=a, search=q or None, include_inactive=False),
               lambda a, n: Option(n.pk, n.name, n.code, n.get_kind_display())),
    PickerKind("audience", _("Search segments by name"),
               lambda a, q: members.audience_list(actor=a, search=q or None),
               lambda a, l: Option(l.pk, l.name, str(_("%(n)s members") % {"n": l.member_count}), l.node.name)),
    PickerKind("campaign", _("Search coupon campaigns (a code per member) by name"),
               lambda a, q: _by_name_or_code(promotions.campaign_list(actor=a).filter(code_mode=CodeMode.UNIQUE), q,
                                             "promotion__name"),
               lambda a, c: Option(c.pk, c.promotion.name, c.shared_code or c.get_code_mode_display(), c.node.name)),
    PickerKind("tag", _("Search tags by name or code"),
               lambda a, q: _by_name_or_code(cdp_tags.tag_list(actor=a).filter(is_active=True), q, "name", "code"),
               lambda a, t: Option(t.pk, t.name, t.code, t.group.name)),
    PickerKind("segment", _("Search segments by name"),
               lambda a, q: _by_name_or_code(cdp_segments.segment_list(actor=a), q, "name"),
               lambda a, s: Option(s.pk, s.name, str(_("%(n)s members") % {"n": s.size or 0}), s.node.name)),
    PickerKind("message_template", _("Search message templates by name"),
               lambda a, q: messaging.template_list(actor=a, include_inactive=False, search=q or None),
               _template_option),
    PickerKind("warehouse", _("Search warehouses by name or code"),
               lambda a, q: _by_name_or_code(stock.warehouse_list(actor=a).filter(is_active=True), q, "name", "code"),
               lambda a, w: Option(w.pk, w.name, w.code, w.get_kind_display())),
]}


def picker_search(*, actor: Staff, kind: str, query: str, limit: int = MAX_OPTIONS) -> list[Option]:
    """Up to `limit` options of `kind` matching `query` (name, code, ...), only from the actor's scope."""
    picker = KINDS[kind]
    query = (query or "").strip()[:MAX_QUERY]
    return [picker.option(actor, obj) for obj in picker.queryset(actor, query)[:limit]]


def picker_labels(*, actor: Staff, kind: str, ids: Iterable[int]) -> list[Option]:
    """The options for already chosen ids, in the given order; ids the actor may not see are left out."""
    wanted = [i for i in ids if isinstance(i, int) and 0 < i < 2**62][:200]
    if not wanted:
        return []
    picker = KINDS[kind]
    found = {obj.pk: picker.option(actor, obj) for obj in picker.queryset(actor, "").filter(pk__in=wanted)}
    return [found[i] for i in wanted if i in found]
