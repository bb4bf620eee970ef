"""Barcode writes: attach/remove barcodes, generate internal codes from a locked sequence, weighed schemes."""
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.core.locking import lock_one
from yundian.org.models import Staff

from .. import barcodes as codes
from ..models import Barcode, BarcodeSequence, Sku, WeighedBarcodeScheme, WeighedValue, WEIGHED_PREFIXES
from ._common import require_catalog_manage, root_path
from .catalogue import _sku_get


def barcode_attach(*, actor: Staff, sku: Sku, code: str, is_primary: bool = False) -> Barcode:
    """Validate `code` (digits, length, check digit, not a weighed prefix) and attach it to `sku`.

    For callers that already checked permissions and hold the transaction.
    """
    if not isinstance(code, str):
        raise ValidationFailed(_("A barcode has digits only."), code="barcode_not_digits", details={"field": "code"})
    code = codes.normalise(code)
    if len(code) > codes.MAX_CODE_LENGTH:
        raise ValidationFailed(_("Too long."), code="too_long", details={"field": "code"})
    kind = codes.classify(code)
    if codes.is_weighed_prefix(code) and WeighedBarcodeScheme.objects.filter(
            enterprise_id=actor.enterprise_id, prefix=code[:2], is_active=True).exists():
        raise ValidationFailed(_("Barcodes starting with %(prefix)s are read as weighed items.") % {"prefix": code[:2]},
                               code="reserved_weighed_prefix", details={"field": "code", "prefix": code[:2]})
    other_forms = codes.lookup_forms(code)
    if Barcode.objects.filter(enterprise_id=actor.enterprise_id, code__in=other_forms).exists():
        raise Conflict(_("This barcode already belongs to a SKU."), code="barcode_taken",
                       details={"field": "code", "code": code})
    first = not sku.barcodes.exists()
    if is_primary and not first:
        Barcode.objects.filter(sku=sku, is_primary=True).update(is_primary=False)
    try:
        with transaction.atomic():
            return Barcode.objects.create(enterprise_id=actor.enterprise_id, sku=sku, code=code, kind=kind,
                                          is_primary=is_primary or first)
    except IntegrityError:
        raise Conflict(_("This barcode already belongs to a SKU."), code="barcode_taken",
                       details={"field": "code", "code": code})


def _next_internal_code(actor: Staff) -> str:
    """Take the next free internal code from the enterprise's sequence (row-locked; skips codes typed by hand)."""
    BarcodeSequence.objects.get_or_create(enterprise_id=actor.enterprise_id, prefix=codes.INTERNAL_PREFIX)
    sequence = lock_one(BarcodeSequence.objects.filter(enterprise_id=actor.enterprise_id,
                                                       prefix=codes.INTERNAL_PREFIX))
    value = sequence.next_value
    while True:
        code = codes.internal_code(value)
        value += 1
        if not Barcode.objects.filter(enterprise_id=actor.enterprise_id, code=code).exists():
            break
    BarcodeSequence.objects.filter(pk=sequence.pk).update(next_value=value)
    return code


def barcode_generate_for(*, actor: Staff, sku: Sku, is_primary: bool = False) -> Barcode:
    return barcode_attach(actor=actor, sku=sku, code=_next_internal_code(actor), is_primary=is_primary)


@transaction.atomic
def barcode_add(*, actor: Staff, sku_id: int, code: str, is_primary: bool = False) -> Barcode:
    """Attach an EAN-13 / UPC-A / EAN-8 / internal code to a SKU; unique per enterprise. Audited."""
    require_catalog_manage(actor)
    sku = _sku_get(actor, sku_id, lock=True)
    barcode = barcode_attach(actor=actor, sku=sku, code=code, is_primary=is_primary)
    audit_record(actor=actor, action="barcode.add", target=sku, scope_path=root_path(actor),
                 after={"code": barcode.code, "kind": barcode.kind, "primary": barcode.is_primary})
    return barcode


@transaction.atomic
def barcode_generate(*, actor: Staff, sku_id: int, is_primary: bool = False) -> Barcode:
    """Give a SKU a new internal code "20" + sequence + check digit. Takes the sequence row lock."""
    require_catalog_manage(actor)
    sku = _sku_get(actor, sku_id, lock=True)
    barcode = barcode_generate_for(actor=actor, sku=sku, is_primary=is_primary)
    audit_record(actor=actor, action="barcode.generate", target=sku, scope_path=root_path(actor),
                 after={"code": barcode.code, "kind": barcode.kind, "primary": barcode.is_primary})
    return barcode


@transaction.atomic
def barcode_remove(*, actor: Staff, sku_id: int, barcode_id: int) -> None:
    """Detach a barcode; if it was the primary one, the oldest remaining becomes primary."""
    require_catalog_manage(actor)
    sku = _sku_get(actor, sku_id, lock=True)
    barcode = Barcode.objects.filter(sku=sku, pk=barcode_id).first()
    if barcode is None:
        raise NotFound(_("Barcode not found."), code="barcode_not_found")
    was_primary, code = barcode.is_primary, barcode.code
    barcode.delete()
    if was_primary:
        successor = sku.barcodes.order_by("id").first()
        if successor:
            Barcode.objects.filter(pk=successor.pk).update(is_primary=True)
    audit_record(actor=actor, action="barcode.remove", target=sku, scope_path=root_path(actor),
                 before={"code": code, "primary": was_primary})


@transaction.atomic
def weighed_scheme_set(*, actor: Staff, prefix: str, value_kind: str, item_digits: int = 5,
                       is_active: bool = True) -> WeighedBarcodeScheme:
    """Create or change how the enterprise's scales print prefix `prefix` (21-29). Audited."""
    require_catalog_manage(actor)
    if prefix not in WEIGHED_PREFIXES:
        raise ValidationFailed(_("Weighed barcodes use prefixes 21 to 29."), code="invalid_prefix",
                               details={"field": "prefix"})
    if value_kind not in WeighedValue.values:
        raise ValidationFailed(_("The value is a weight or a price."), code="invalid_value_kind",
                               details={"field": "value_kind"})
    if isinstance(item_digits, bool) or not isinstance(item_digits, int) or not 4 <= item_digits <= 6:
        raise ValidationFailed(_("The item code has 4 to 6 digits."), code="invalid_item_digits",
                               details={"field": "item_digits"})
    if is_active and Barcode.objects.filter(enterprise_id=actor.enterprise_id, code__startswith=prefix,
                                            code__regex=r"^[0-9]{13}$").exists():
        raise Conflict(_("Some SKUs already have barcodes with this prefix."), code="prefix_in_use",
                       details={"prefix": prefix})
    scheme = lock_one(WeighedBarcodeScheme.objects.filter(enterprise_id=actor.enterprise_id, prefix=prefix))
    before = None
    if scheme is None:
        scheme = WeighedBarcodeScheme(enterprise_id=actor.enterprise_id, prefix=prefix)
    else:
        before = {"item_digits": scheme.item_digits, "value_kind": scheme.value_kind, "is_active": scheme.is_active}
    scheme.item_digits, scheme.value_digits = item_digits, 10 - item_digits
    scheme.value_kind, scheme.is_active = value_kind, bool(is_active)
    scheme.save()
    audit_record(actor=actor, action="weighed_scheme.set", target=scheme, scope_path=root_path(actor), before=before,
                 after={"prefix": prefix, "item_digits": item_digits, "value_kind": value_kind,
                        "is_active": scheme.is_active})
    return scheme
