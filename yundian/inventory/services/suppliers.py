"""Supplier master data and what each supplier charges per SKU (kept by HQ: purchase.approve at the root).

Suppliers live in `inventory` (not `catalog`): purchase orders, receipts and stock cost are inventory's, and a
SKU's catalogue entry must not depend on who supplies it; inventory may read catalog, not the other way round.
"""
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.locking import lock_one
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from ..models import PaymentTerms, Supplier, SupplierPrice
from ._common import clean_code, clean_text
from .ledger import resolve_skus

MAX_UNIT_COST = 10**10
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE_RE = re.compile(r"[0-9+()\- ]{3,32}")


def _root(actor: Staff) -> OrgNode | None:
    """The enterprise's root node if the actor keeps supplier master data there (purchase.approve), else None."""
    hq = OrgNode.objects.filter(enterprise_id=actor.enterprise_id, depth=0).first()
    return hq if hq is not None and has_perm(actor, Perm.PURCHASE_APPROVE, hq) else None


def may_keep_suppliers(actor: Staff) -> bool:
    """Whether the actor may add and change suppliers and their prices (what the pages offer)."""
    return _root(actor) is not None


def _hq(actor: Staff) -> OrgNode:
    """The enterprise's root node, where supplier master data is kept; 403 without purchase.approve there."""
    hq = _root(actor)
    if hq is None:
        raise Forbidden(_("Suppliers are kept by headquarters."), code="suppliers_kept_by_hq")
    return hq


def _whole(value: Any, field: str, low: int, high: int, message) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(message, code="invalid_number", details={"field": field})
    return value


def _lead_time(value: Any) -> int:
    return _whole(value, "lead_time_days", 0, 365, _("Lead time is 0 to 365 days."))


def _clean_fields(changes: dict) -> dict:
    """Validate the editable supplier fields present in `changes`."""
    out = {}
    for field, value in changes.items():
        if field == "name":
            out[field] = clean_text(value, "name", 120)
        elif field == "contact_name":
            out[field] = clean_text(value, "contact_name", 60, required=False)
        elif field == "phone":
            phone = clean_text(value, "phone", 32, required=False)
            if phone and not PHONE_RE.fullmatch(phone):
                raise ValidationFailed(_("Enter a phone number of digits, spaces, +, - or brackets."),
                                       code="invalid_phone", details={"field": "phone"})
            out[field] = phone
        elif field == "email":
            email = clean_text(value, "email", 120, required=False)
            if email and not EMAIL_RE.fullmatch(email):
                raise ValidationFailed(_("Enter a valid email address."), code="invalid_email",
                                       details={"field": "email"})
            out[field] = email
        elif field == "payment_terms":
            if value not in PaymentTerms.values:
                raise ValidationFailed(_("Unknown payment terms."), code="invalid_payment_terms",
                                       details={"field": "payment_terms"})
            out[field] = value
        elif field == "lead_time_days":
            out[field] = _lead_time(value)
        elif field == "is_active":
            if not isinstance(value, bool):
                raise ValidationFailed(_("Not a yes/no value."), code="invalid_flag", details={"field": "is_active"})
            out[field] = value
        else:
            raise ValidationFailed(_("This field cannot be changed."), code="unknown_field", details={"field": field})
    return out


@transaction.atomic
def supplier_create(*, actor: Staff, code: str, name: str, contact_name: str = "", phone: str = "", email: str = "",
                    payment_terms: str = PaymentTerms.NET_30, lead_time_days: int = 3) -> Supplier:
    """Add a supplier (purchase.approve at HQ); its code is unique in the enterprise (409). Audited."""
    hq = _hq(actor)
    fields = _clean_fields({"name": name, "contact_name": contact_name, "phone": phone, "email": email,
                            "payment_terms": payment_terms, "lead_time_days": lead_time_days})
    code = clean_code(code)
    try:
        with transaction.atomic():
            supplier = Supplier.objects.create(enterprise_id=actor.enterprise_id, code=code, **fields)
    except IntegrityError:
        raise Conflict(_("This code is already used."), code="supplier_code_taken", details={"field": "code"})
    audit_record(actor=actor, action="supplier.create", target=supplier, after={"code": code, **fields},
                 scope_path=hq.path)
    return supplier


def _supplier_locked(actor: Staff, supplier_id: Any) -> Supplier:
    if isinstance(supplier_id, bool) or not isinstance(supplier_id, int):
        raise NotFound(_("Supplier not found."), code="supplier_not_found")
    supplier = lock_one(Supplier.objects.filter(enterprise_id=actor.enterprise_id, pk=supplier_id))
    if supplier is None:
        raise NotFound(_("Supplier not found."), code="supplier_not_found")
    return supplier


@transaction.atomic
def supplier_update(*, actor: Staff, supplier_id: int, changes: dict) -> Supplier:
    """Change a supplier's name, contact, payment terms, lead time or active flag (purchase.approve at HQ).
    Locks the supplier row; audited with before and after. An inactive supplier takes no new orders."""
    hq = _hq(actor)
    supplier = _supplier_locked(actor, supplier_id)
    if not isinstance(changes, dict) or not changes:
        raise ValidationFailed(_("Nothing to change."), code="nothing_to_change")
    fields = _clean_fields(changes)
    before = {f: getattr(supplier, f) for f in fields}
    for field, value in fields.items():
        setattr(supplier, field, value)
    supplier.save(update_fields=[*fields, "updated_at"])
    audit_record(actor=actor, action="supplier.update", target=supplier, before=before, after=fields,
                 scope_path=hq.path)
    return supplier


@transaction.atomic
def supplier_price_set(*, actor: Staff, supplier_id: int, sku_id: int, unit_cost: int,
                       lead_time_days: int | None = None, is_preferred: bool = False) -> SupplierPrice:
    """Set what a supplier charges for a SKU (fen per unit) and its lead time (default: the supplier's).
    `is_preferred` makes it the SKU's one preferred supplier (the others lose the flag). Locks the supplier
    row; a price change is audited with the old and new cost."""
    hq = _hq(actor)
    supplier = _supplier_locked(actor, supplier_id)
    if isinstance(sku_id, bool) or not isinstance(sku_id, int) or sku_id <= 0:
        raise ValidationFailed(_("Not a valid id."), code="invalid_id", details={"field": "sku_id"})
    resolve_skus(enterprise_id=actor.enterprise_id, sku_ids=[sku_id])
    unit_cost = _whole(unit_cost, "unit_cost", 0, MAX_UNIT_COST, _("A cost is a whole number of fen from 0 upwards."))
    lead = supplier.lead_time_days if lead_time_days is None else _lead_time(lead_time_days)
    if not isinstance(is_preferred, bool):
        raise ValidationFailed(_("Not a yes/no value."), code="invalid_flag", details={"field": "is_preferred"})
    current = SupplierPrice.objects.filter(supplier=supplier, sku_id=sku_id).first()
    before = ({"unit_cost": current.unit_cost, "lead_time_days": current.lead_time_days,
               "is_preferred": current.is_preferred} if current else None)
    try:
        with transaction.atomic():
            if is_preferred:
                SupplierPrice.objects.filter(sku_id=sku_id, is_preferred=True).exclude(supplier=supplier).update(
                    is_preferred=False)
            price, _created = SupplierPrice.objects.update_or_create(
                supplier=supplier, sku_id=sku_id,
                defaults={"enterprise_id": actor.enterprise_id, "unit_cost": unit_cost, "lead_time_days": lead,
                          "is_preferred": is_preferred})
    except IntegrityError:  # another supplier was made preferred for this SKU at the same moment
        raise Conflict(_("Another change to this SKU's suppliers came first; try again."),
                       code="supplier_price_conflict")
    after = {"unit_cost": unit_cost, "lead_time_days": lead, "is_preferred": is_preferred}
    audit_record(actor=actor, action="supplier_price.set", target=supplier, before=before,
                 after={"sku_id": sku_id, **after}, scope_path=hq.path)
    return price


@transaction.atomic
def supplier_price_remove(*, actor: Staff, supplier_id: int, sku_id: int) -> None:
    """The supplier no longer sells the SKU (404 `supplier_price_not_found` if it did not). Audited."""
    hq = _hq(actor)
    supplier = _supplier_locked(actor, supplier_id)
    price = SupplierPrice.objects.filter(supplier=supplier, sku_id=sku_id).first() if isinstance(sku_id, int) else None
    if price is None:
        raise NotFound(_("This supplier has no price for the SKU."), code="supplier_price_not_found")
    price.delete()
    audit_record(actor=actor, action="supplier_price.remove", target=supplier,
                 before={"sku_id": sku_id, "unit_cost": price.unit_cost}, scope_path=hq.path)
