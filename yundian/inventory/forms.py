"""Console forms for the stock documents: turn what a person typed (ids from the pickers, SKU codes or barcodes,
whole numbers, yuan amounts) into the arguments the services take.

Only parsing happens here. Scope, permissions, quantities > 0, sources, reason codes and states are the
services' checks; a service error is attached to the form (`add_service_error`) so the page shows its message.
"""
import re
from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from yundian.catalog.barcodes import MAX_CODE_LENGTH, lookup_forms, normalise
from yundian.catalog.models import Barcode, Sku
from yundian.core.errors import DomainError
from yundian.core.money import Money
from yundian.core.text import clean_text
from yundian.org.models import Staff
from yundian.org.roles import Perm

from . import selectors
from .models import AdjustmentReason, Supplier, Warehouse, WarehouseKind

MAX_FORM_LINES = 300  # rows one form takes (Django's DATA_UPLOAD_MAX_NUMBER_FIELDS is 1000)
MAX_ID = 2**62
BLANK_ROWS = 3
_WHOLE_RE = re.compile(r"[+-]?[0-9]{1,18}")  # ASCII digits only: int() would also take "1_000" and other scripts
WHOLE_NUMBER = forms.IntegerField.default_error_messages["invalid"]  # "Enter a whole number." (Django's, translated)


def parse_whole(text: str) -> int:
    """A typed whole number (sign allowed; its range is the service's check). Raises forms.ValidationError."""
    text = (text or "").strip()
    if not _WHOLE_RE.fullmatch(text):
        raise forms.ValidationError(WHOLE_NUMBER, code="invalid")
    return int(text)


def parse_id(text: str) -> int:
    """A picked id: a positive whole number below MAX_ID. Raises forms.ValidationError."""
    number = parse_whole(text)
    if not 0 < number < MAX_ID:
        raise forms.ValidationError(WHOLE_NUMBER, code="invalid")
    return number


def positive_int(value) -> int | None:
    """A query or form value as a positive whole number below MAX_ID (an id, a quantity), or None: a filter or
    choice that does not parse is simply not applied."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < MAX_ID else None


class WholeField(forms.Field):
    """A typed whole number (ASCII digits, optional sign); its range is the service's check."""

    parse = staticmethod(parse_whole)

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        return self.parse(str(value))


class IdField(WholeField):
    """A picked id: a positive whole number. Whether the actor may use it is the service's check (404 if not)."""

    parse = staticmethod(parse_id)


class IdListField(forms.Field):
    """Several picked ids (checkboxes); each a positive whole number."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value):
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        return sorted({parse_id(str(raw)) for raw in values})


# --- the pickers' choices (what the actor may use; the services check again) --------------------------------

def managed_warehouses(actor: Staff, *, perm: str = Perm.STOCK_MANAGE,
                       kinds=(WarehouseKind.STORE, WarehouseKind.CENTRAL)):
    return selectors.warehouse_list(actor=actor, perm=perm).filter(kind__in=kinds, is_active=True).order_by("code")


def peer_warehouses(actor: Staff):
    """Warehouses a transfer may be asked from: the enterprise's active store and central warehouses (a store asks
    another store or HQ; the service does not require the source to be in the requester's scope)."""
    return Warehouse.objects.filter(enterprise_id=actor.enterprise_id, is_active=True,
                                    kind__in=[WarehouseKind.STORE, WarehouseKind.CENTRAL]).order_by("code")


def central_warehouses(actor: Staff):
    """Central warehouses an order may go to HQ from (enterprise-wide, as the purchasing service allows)."""
    return Warehouse.objects.filter(enterprise_id=actor.enterprise_id, is_active=True,
                                    kind=WarehouseKind.CENTRAL).order_by("code")


def suppliers(actor: Staff):
    return Supplier.objects.filter(enterprise_id=actor.enterprise_id, is_active=True).order_by("code")


def skus_by_code(enterprise_id: int, codes: list[str]) -> dict[str, int]:
    """{typed code: sku_id} for SKU codes (exact) or barcodes (as a scanner reads them); unknown codes left out."""
    wanted = sorted(set(codes))
    found = dict(Sku.objects.filter(enterprise_id=enterprise_id, code__in=wanted).values_list("code", "pk"))
    rest = {code: normalise(code) for code in wanted if code not in found}
    forms_of = {code: lookup_forms(n) for code, n in rest.items() if n and len(n) <= MAX_CODE_LENGTH}
    all_forms = sorted({f for fs in forms_of.values() for f in fs})
    if all_forms:
        barcodes = dict(Barcode.objects.filter(enterprise_id=enterprise_id, code__in=all_forms)
                        .values_list("code", "sku_id"))
        for code, fs in forms_of.items():
            hit = next((barcodes[f] for f in fs if f in barcodes), None)
            if hit is not None:
                found[code] = hit
    return found


# --- document forms ------------------------------------------------------------------------------------------

@dataclass
class Row:
    """One typed line, kept as typed so a form with an error shows it again."""

    sku: str = ""
    quantity: str = ""
    cost: str = ""
    error: str = ""


class LinesForm(forms.Form):
    """Header fields plus line rows posted as parallel lists `line_sku`, `line_quantity` (and `line_cost`).

    `cleaned_data["lines"]` is a list of {"sku_id", "quantity"[, "unit_cost"]}; blank rows are skipped. A service
    error naming a line (details["line"]) is shown on that row.
    """

    with_cost = False

    def __init__(self, data=None, *, actor: Staff, **kwargs):
        super().__init__(data, **kwargs)
        self.actor = actor
        self.error_code = ""
        self.line_rows: list[int] = []  # index in self.rows of each cleaned line
        self._too_many = False
        if data is None:
            self.rows = []
        else:
            skus, quantities, costs = (data.getlist("line_sku"), data.getlist("line_quantity"),
                                       data.getlist("line_cost"))
            count = max(len(skus), len(quantities), len(costs) if self.with_cost else 0)
            if count > MAX_FORM_LINES:
                self.rows = []
                self._too_many = True
            else:
                pick = lambda values, i: values[i].strip()[:64] if i < len(values) else ""  # noqa: E731
                self.rows = [Row(pick(skus, i), pick(quantities, i), pick(costs, i) if self.with_cost else "")
                             for i in range(count)]

    def clean(self):
        cleaned = super().clean()
        if self._too_many:
            raise forms.ValidationError(_("Too many lines for one form (at most %(max)d).") % {"max": MAX_FORM_LINES},
                                        code="too_many_lines")
        typed = [(i, row) for i, row in enumerate(self.rows) if row.sku or row.quantity or row.cost]
        known = skus_by_code(self.actor.enterprise_id, [row.sku for _i, row in typed if row.sku])
        lines, problems = [], []
        for index, row in typed:
            try:
                if not row.sku:
                    raise forms.ValidationError(_("Enter a SKU code or barcode."), code="required")
                self._text(row.sku, "line_sku")
                if row.sku not in known:
                    raise forms.ValidationError(_("No SKU has the code or barcode “%(code)s”.") % {"code": row.sku},
                                                code="sku_not_found")
                line = {"sku_id": known[row.sku], "quantity": parse_whole(row.quantity)}
                if self.with_cost and (cost := self._cost(row.cost)) is not None:
                    line["unit_cost"] = cost
            except forms.ValidationError as exc:
                row.error = " ".join(str(m) for m in exc.messages)
                problems.append(_("Line %(number)d: %(message)s") % {"number": index + 1, "message": row.error})
                continue
            lines.append(line)
            self.line_rows.append(index)
        if problems:
            raise forms.ValidationError(problems)
        cleaned["lines"] = lines
        return cleaned

    @staticmethod
    def _text(text: str, field: str) -> None:
        """Typed codes go through the same text check as every service (no control characters)."""
        try:
            clean_text(text, field, 64, required=False)
        except DomainError as exc:
            raise forms.ValidationError(str(exc.message), code=exc.code)

    @staticmethod
    def _cost(text: str) -> int | None:
        """A unit cost typed in yuan ("12.50") -> fen; blank is None (the supplier's price). Money.parse refuses
        anything else."""
        if not text:
            return None
        try:
            return Money.parse(text).amount
        except DomainError as exc:
            raise forms.ValidationError(str(exc.message), code=exc.code)

    def add_service_error(self, exc: DomainError) -> None:
        """Show a service's error (its translated message) on the form, on the line it names if any."""
        message = str(exc.message)
        line = exc.details.get("line") if isinstance(exc.details, dict) else None
        if isinstance(line, int) and 0 <= line < len(self.line_rows):
            row_index = self.line_rows[line]
            self.rows[row_index].error = message
            message = _("Line %(number)d: %(message)s") % {"number": row_index + 1, "message": message}
        self.error_code = exc.code
        self.add_error(None, message)

    def display_rows(self) -> list[Row]:
        """The rows to render: what was typed plus blank rows to fill in (at least one, BLANK_ROWS in all)."""
        blank = max(BLANK_ROWS - len(self.rows), 1 if self.rows else BLANK_ROWS)
        return self.rows + [Row() for _i in range(blank)]


class PurchaseOrderForm(LinesForm):
    with_cost = True
    warehouse = IdField(label=_("Receiving warehouse"))
    supplier = IdField(label=_("Supplier"), required=False)
    source_warehouse = IdField(label=_("Central warehouse (order from HQ)"), required=False)
    tolerance_percent = WholeField(label=_("Receiving tolerance (%)"), required=False, initial=5)
    note = forms.CharField(label=_("Note"), required=False, strip=False)

    def choices(self) -> dict:
        return {"warehouses": managed_warehouses(self.actor), "suppliers": suppliers(self.actor),
                "sources": central_warehouses(self.actor)}


class TransferForm(LinesForm):
    from_warehouse = IdField(label=_("From"))
    to_warehouse = IdField(label=_("To"))
    note = forms.CharField(label=_("Note"), required=False, strip=False)

    def choices(self) -> dict:
        return {"from_warehouses": peer_warehouses(self.actor), "to_warehouses": managed_warehouses(self.actor)}


class AllocationForm(LinesForm):
    from_warehouse = IdField(label=_("From central warehouse"))
    stores = IdListField(label=_("To stores"), required=False)
    note = forms.CharField(label=_("Note"), required=False, strip=False)

    def choices(self) -> dict:
        return {"sources": managed_warehouses(self.actor, kinds=(WarehouseKind.CENTRAL,)),
                "stores": managed_warehouses(self.actor, kinds=(WarehouseKind.STORE,))}

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("stores") and "stores" not in self.errors:
            self.add_error("stores", forms.ValidationError(_("Choose at least one store."), code="no_stores"))
        return cleaned

    def allocation_lines(self) -> list[tuple[int, int, int]]:
        """The same SKU set to every chosen store: [(to_warehouse_id, sku_id, quantity)]."""
        return [(store, line["sku_id"], line["quantity"]) for store in self.cleaned_data["stores"]
                for line in self.cleaned_data["lines"]]


class AdjustmentForm(LinesForm):
    warehouse = IdField(label=_("Warehouse"))
    reason = forms.CharField(label=_("Reason"), required=False)  # the service checks the code
    note = forms.CharField(label=_("Note"), required=False, strip=False)

    def choices(self) -> dict:
        return {"warehouses": managed_warehouses(self.actor, perm=Perm.STOCK_ADJUST),
                "reasons": AdjustmentReason.choices}


class QuantitiesForm(forms.Form):
    """Per-line quantities on a document's detail page (receive, ship): `qty_<sku_id>` for each of its SKUs."""

    reference = forms.CharField(label=_("Delivery note"), required=False, strip=False)

    def __init__(self, data=None, *, sku_ids: list[int], initial_quantities: dict[int, int], blank_is_zero: bool,
                 **kwargs):
        super().__init__(data, **kwargs)
        self.sku_ids = sku_ids
        self.initial_quantities = initial_quantities
        self.blank_is_zero = blank_is_zero  # receiving an order: blank = not now; a transfer: 0 would write off
        self.error_code = ""

    def typed(self, sku_id: int) -> str:
        if self.is_bound:
            return (self.data.get(f"qty_{sku_id}") or "").strip()[:24]
        return str(self.initial_quantities.get(sku_id, 0))

    def clean(self):
        cleaned = super().clean()
        quantities, problems = {}, []
        for sku_id in self.sku_ids:
            text = self.typed(sku_id)
            try:
                if not text and not self.blank_is_zero:
                    raise forms.ValidationError(_("Enter a quantity for every line (0 if none)."), code="required")
                quantities[sku_id] = parse_whole(text) if text else 0
            except forms.ValidationError as exc:
                problems.extend(exc.messages)
        if problems:
            raise forms.ValidationError(sorted(set(problems)))
        cleaned["quantities"] = quantities
        return cleaned

    def add_service_error(self, exc: DomainError) -> None:
        self.error_code = exc.code
        self.add_error(None, str(exc.message))


def status_filter(value: str | None, choices) -> str | None:
    """A status from a list page's filter, if it is one of the model's."""
    return value if value in dict(choices) else None
