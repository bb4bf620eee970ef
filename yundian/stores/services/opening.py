"""One-click opening (开店): a store from a template, all in one transaction, idempotent by client key."""
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import NotFound, ValidationFailed
from yundian.core.idempotency import run_idempotent
from yundian.inventory.models import Warehouse, WarehouseKind
from yundian.inventory.services import warehouse_create
from yundian.org import selectors as org_selectors
from yundian.org import services as org_services
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import NodeKind, Perm, Role

from .. import selectors
from ..models import StoreProfile, StoreTemplate
from .profiles import create_profile_rows, profile_snapshot

ROLE_USERNAME = {Role.STORE_MANAGER: "manager", Role.GUIDE: "guide", Role.AUDITOR: "auditor"}
ROLE_DISPLAY = {Role.STORE_MANAGER: _("%(store)s manager"), Role.GUIDE: _("%(store)s guide %(n)d"),
                Role.AUDITOR: _("%(store)s auditor %(n)d")}


@dataclass
class StoreOpening:
    """What opening created. `accounts` carry initial passwords only on the first answer, never on a replay."""

    store: OrgNode
    profile: StoreProfile
    warehouse: Warehouse
    accounts: list[dict] = field(default_factory=list)  # {"staff_id", "username", "role", "password" (or None)}
    replayed: bool = False


def _initial_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters; shown once, to be changed at first sign-in


def _template_for_opening(actor: Staff, template_id) -> StoreTemplate:
    if isinstance(template_id, bool) or not isinstance(template_id, int):
        raise ValidationFailed(_("Ids are positive whole numbers."), code="invalid_ids", details={"field": "template_id"})
    template = (selectors.store_template_list(actor=actor).filter(pk=template_id)
                .select_related("price_list__node").first())
    if template is None:
        raise NotFound(_("Store template not found."), code="template_not_found")
    if not template.is_active:
        raise ValidationFailed(_("This template is retired."), code="template_inactive", details={"field": "template_id"})
    return template


def _check_price_list(template: StoreTemplate, parent: OrgNode) -> None:
    """Prices are never copied per store: the template's price list must apply where the store opens."""
    price_list = template.price_list
    if price_list is None:
        return
    if not price_list.is_active or not parent.path.startswith(price_list.node.path):
        raise ValidationFailed(_("The template's price list does not apply under this parent node."),
                               code="price_list_not_applicable",
                               details={"price_list": price_list.code, "node": price_list.node.name})


def _open(actor: Staff, template: StoreTemplate, parent_id: int, code: str, name: str, fields: dict,
          passwords: dict[int, str]) -> dict:
    parent = org_selectors.org_node_get(actor=actor, node_id=parent_id)
    org_selectors.require(actor, Perm.STORE_OPEN, parent)
    _check_price_list(template, parent)
    node = org_services.org_node_create(actor=actor, parent_id=parent.id, kind=NodeKind.STORE, name=name, code=code)
    profile = create_profile_rows(node=node, enterprise_code=actor.enterprise.code, template=template, fields=fields)
    warehouse = warehouse_create(actor=actor, node_id=node.id, kind=WarehouseKind.STORE, code=f"WH-{node.code}",
                                 name=gettext_now("%(store)s stock room") % {"store": node.name})
    prefix = f"{actor.enterprise.code}-{node.code}".lower()
    accounts = []
    for item in template.staff_plan:
        role, count = item["role"], item["count"]
        for n in range(1, count + 1):
            short = ROLE_USERNAME[role] if count == 1 else f"{ROLE_USERNAME[role]}-{n}"
            password = _initial_password()
            staff = org_services.staff_create(
                actor=actor, home_id=node.id, username=f"{prefix}-{short}", password=password, role=role,
                display_name=(str(ROLE_DISPLAY[role]) % {"store": node.name, "n": n})[:80],
            )
            passwords[staff.pk] = password
            accounts.append({"staff_id": staff.pk, "username": staff.user.username, "role": role})
    body = {"store_id": node.id, "profile_id": profile.id, "warehouse_id": warehouse.id, "slug": profile.slug,
            "accounts": accounts}
    audit_record(actor=actor, action="store.open", target=node, scope_path=node.path,
                 after={"template": template.code, "profile": profile_snapshot(profile), "warehouse": warehouse.code,
                        "accounts": [a["username"] for a in accounts]})
    return body


@transaction.atomic
def store_open_from_template(*, actor: Staff, template_id: int, parent_id: int, code: str, name: str, address: str,
                             city: str, latitude: Decimal | str | float, longitude: Decimal | str | float,
                             phone: str = "", time_zone: str = "", client_key: str) -> StoreOpening:
    """Open a store in one click: org node, profile, store warehouse, staff accounts, assortment and theme.

    One transaction: any failure (a taken code or username, a bad field, a failing step) leaves nothing behind.
    Idempotent per actor and `client_key`: the same key and request return the first opening (without its
    passwords, which are shown once); the same key with another request is a 409. Needs store.open on the parent
    and everything the steps need (org.manage, warehouse.manage, staff.manage). No row locks beyond the steps'.
    """
    if not isinstance(client_key, str) or not client_key.strip():
        raise ValidationFailed(_("A client key is required so that a repeated request opens no second store."),
                               code="client_key_required", details={"field": "client_key"})
    template = _template_for_opening(actor, template_id)
    fields = {"address": address, "city": city, "latitude": latitude, "longitude": longitude, "phone": phone}
    if time_zone:  # blank: the site's time zone (the profile's default)
        fields["time_zone"] = time_zone
    payload = {"template_id": template_id, "parent_id": parent_id, "code": code, "name": name,
               **{k: str(v) if isinstance(v, Decimal | float) else v for k, v in fields.items()}}
    passwords: dict[int, str] = {}

    def work():
        return 201, _open(actor, template, parent_id, code, name, fields, passwords)

    _status, body, replayed = run_idempotent(scope="store_open", owner=f"staff:{actor.pk}", key=client_key,
                                             payload=payload, work=work)
    profile = StoreProfile.objects.select_related("node").get(pk=body["profile_id"])
    warehouse = Warehouse.objects.get(pk=body["warehouse_id"])
    accounts = [{**a, "password": None if replayed else passwords[a["staff_id"]]} for a in body["accounts"]]
    return StoreOpening(profile.node, profile, warehouse, accounts, replayed)
