"""An audit entry as a person reads it: the action as translated words ("Approved · adjustment"), the record by its
model's name, and before/after as rows of field / before / after (field names and choice values translated, money
in yuan) instead of the stored JSON."""
import json
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import pgettext_lazy

from .money import Money
from .when import format_when

VERBS = {
    "create": pgettext_lazy("audit log", "Created"), "created": pgettext_lazy("audit log", "Created"), "update": pgettext_lazy("audit log", "Changed"), "edited": pgettext_lazy("audit log", "Changed"),
    "set": pgettext_lazy("audit log", "Set"), "add": pgettext_lazy("audit log", "Added"), "remove": pgettext_lazy("audit log", "Removed"), "approve": pgettext_lazy("audit log", "Approved"), "approved": pgettext_lazy("audit log", "Approved"),
    "reject": pgettext_lazy("audit log", "Rejected"), "rejected": pgettext_lazy("audit log", "Rejected"), "requested": pgettext_lazy("audit log", "Approval requested"), "used": pgettext_lazy("audit log", "Used"),
    "void": pgettext_lazy("audit log", "Voided"), "voided": pgettext_lazy("audit log", "Voided"), "cancel": pgettext_lazy("audit log", "Cancelled"), "cancelled": pgettext_lazy("audit log", "Cancelled"),
    "revoke": pgettext_lazy("audit log", "Revoked"), "issue": pgettext_lazy("audit log", "Issued"), "submit": pgettext_lazy("audit log", "Submitted"), "merge": pgettext_lazy("audit log", "Merged"),
    "unmerge": pgettext_lazy("audit log", "Merge undone"), "import": pgettext_lazy("audit log", "Imported"), "export": pgettext_lazy("audit log", "Exported"), "erase": pgettext_lazy("audit log", "Erased"),
    "handover": pgettext_lazy("audit log", "Handed over"), "assign": pgettext_lazy("audit log", "Assigned"), "unbind": pgettext_lazy("audit log", "Unbound"), "open": pgettext_lazy("audit log", "Opened"),
    "opened": pgettext_lazy("audit log", "Opened"), "close": pgettext_lazy("audit log", "Closed"), "closed": pgettext_lazy("audit log", "Closed"), "settled": pgettext_lazy("audit log", "Settled"),
    "start": pgettext_lazy("audit log", "Started"), "stop": pgettext_lazy("audit log", "Stopped"), "release": pgettext_lazy("audit log", "Released"), "status": pgettext_lazy("audit log", "Status changed"),
    "deactivate": pgettext_lazy("audit log", "Deactivated"), "generate": pgettext_lazy("audit log", "Generated"), "reprinted": pgettext_lazy("audit log", "Reprinted"),
    "adjust": pgettext_lazy("audit log", "Adjusted"), "adjusted": pgettext_lazy("audit log", "Adjusted"), "topup": pgettext_lazy("audit log", "Topped up"), "topup_refund": pgettext_lazy("audit log", "Top-up refunded"),
    "base_change": pgettext_lazy("audit log", "Base price changed"), "price_override": pgettext_lazy("audit log", "Price overridden"), "pin_failed": pgettext_lazy("audit log", "Wrong PIN"),
    "media_add": pgettext_lazy("audit log", "Image added"), "media_remove": pgettext_lazy("audit log", "Image removed"), "seed": pgettext_lazy("audit log", "Demo data loaded"),
    "seed_catalog": pgettext_lazy("audit log", "Demo data loaded"), "bootstrap": pgettext_lazy("audit log", "Set up"), "post": pgettext_lazy("audit log", "Posted"),
    "preorder_allocated": pgettext_lazy("audit log", "Pre-order stock allocated"),
    "request": pgettext_lazy("audit log", "Requested"), "login": pgettext_lazy("audit log", "Signed in"),
    "login_failed": pgettext_lazy("audit log", "Sign-in failed"),
    "refresh": pgettext_lazy("audit log", "Refreshed"), "snapshot": pgettext_lazy("audit log", "Snapshot taken"),
    "archive": pgettext_lazy("audit log", "Archived"),
}
# keys services write whose model field has no name of its own (or that are not fields at all)
FIELD_LABELS = {
    "status": pgettext_lazy("audit log", "Status"), "quantity": pgettext_lazy("audit log", "Quantity"), "reason": pgettext_lazy("audit log", "Reason"), "price": pgettext_lazy("audit log", "Price"),
    "base_price": pgettext_lazy("audit log", "Base price"), "paid_total": pgettext_lazy("audit log", "Paid"), "refunded_total": pgettext_lazy("audit log", "Refunded"), "total": pgettext_lazy("audit log", "Total"),
    "amount": pgettext_lazy("audit log", "Amount"), "points": pgettext_lazy("audit log", "Points"), "on_hand": pgettext_lazy("audit log", "On hand"), "name": pgettext_lazy("audit log", "Name"), "code": pgettext_lazy("audit log", "Code"),
    "is_active": pgettext_lazy("audit log", "Active"), "lines": pgettext_lazy("audit log", "Lines"), "note": pgettext_lazy("audit log", "Note"), "channel": pgettext_lazy("audit log", "Channel"), "kind": pgettext_lazy("audit log", "Kind"),
    "order_id": pgettext_lazy("audit log", "Order"), "member_id": pgettext_lazy("audit log", "Member"), "store_id": pgettext_lazy("audit log", "Store"), "sku_id": pgettext_lazy("audit log", "SKU"),
    "warehouse_id": pgettext_lazy("audit log", "Warehouse"), "approved_by": pgettext_lazy("audit log", "Approved by"), "guide_id": pgettext_lazy("audit log", "Guide"), "tier": pgettext_lazy("audit log", "Tier"),
    "valid_from": pgettext_lazy("audit log", "Valid from"), "valid_to": pgettext_lazy("audit log", "Valid to"), "action": pgettext_lazy("audit log", "Action"), "value": pgettext_lazy("audit log", "Value"),
}
MONEY_KEYS = {"price", "base_price", "amount", "total", "subtotal", "paid_total", "refunded_total", "discount_total",
              "unit_cost", "value", "floor_price", "opening_float", "counted", "expected", "over_short"}
MONEY_SUFFIXES = ("_fen", "_price", "_total", "_amount")


@dataclass(frozen=True)
class ChangeRow:
    field: str
    label: str
    before: str
    after: str
    changed: bool


def _model(target_type: str):
    try:
        return apps.get_model(target_type)
    except (LookupError, ValueError):
        return None


def record_label(target_type: str) -> str:
    """"sales.order" -> the model's translated name (订单); anything else as stored."""
    model = _model(target_type)
    return str(model._meta.verbose_name) if model is not None else target_type


def action_label(action: str) -> str:
    """"adjustment.approve" -> "Approved"; an action we have no words for stays as its code."""
    verb = VERBS.get(action.rsplit(".", 1)[-1])
    return str(verb) if verb is not None else action


def _field(model, name: str):
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return None if field.auto_created and not field.concrete else field  # a reverse relation is no column


def _related(field, value):
    """The record a foreign key pointed at, by its name ("Store A" for warehouse 2); its id if it is gone."""
    try:
        return str(field.related_model._default_manager.filter(pk=value).first() or value)
    except (TypeError, ValueError):
        return str(value)


def _value(field, key: str, value) -> str:
    if value is None or value == "":
        return "–"
    if field is not None and field.many_to_one and isinstance(value, (int, str)):
        return _related(field, value)
    if isinstance(value, bool):
        return str(pgettext_lazy("audit log", "Yes") if value else pgettext_lazy("audit log", "No"))
    if isinstance(value, int) and (key in MONEY_KEYS or key.endswith(MONEY_SUFFIXES)):
        return Money(value).format()
    choices = dict(field.flatchoices) if field is not None and getattr(field, "choices", None) else {}
    if isinstance(value, str) and value in choices:
        return str(choices[value])
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        from django.utils.dateparse import parse_datetime

        moment = parse_datetime(value)
        if moment is not None:
            return format_when(moment)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def change_rows(target_type: str, before: dict | None, after: dict | None) -> list[ChangeRow]:
    """One row per field present before or after, in the order they were written."""
    before = before if isinstance(before, dict) else ({} if before is None else {"value": before})
    after = after if isinstance(after, dict) else ({} if after is None else {"value": after})
    model = _model(target_type)
    rows = []
    for key in list(dict.fromkeys([*before, *after])):
        field = _field(model, key)
        if key in FIELD_LABELS:
            label = str(FIELD_LABELS[key])
        elif field is not None and str(field.verbose_name) != field.name.replace("_", " "):
            label = str(field.verbose_name)  # named in the model, translated
        elif field is not None and field.is_relation and field.related_model is not None:
            label = str(field.related_model._meta.verbose_name)  # an unnamed foreign key: what it points at
        else:
            label = key.replace("_", " ")
        shown_before = _value(field, key, before.get(key)) if key in before else "–"
        shown_after = _value(field, key, after.get(key)) if key in after else "–"
        rows.append(ChangeRow(key, label, shown_before, shown_after, before.get(key) != after.get(key)))
    return rows
