"""Helpers for inventory documents: numbers, scoped lookups with locks, line cleaning for one warehouse."""
import uuid
from collections import defaultdict
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import NotFound, ValidationFailed
from yundian.core.locking import lock_one
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import scope_q

from ._common import MAX_LINES, clean_id, clean_quantity


def assign_number(obj: Model, prefix: str) -> None:
    """Give a just-created document its number, derived from its pk (no counter row to lock)."""
    obj.number = f"{prefix}{obj.pk:08d}"
    type(obj).objects.filter(pk=obj.pk).update(number=obj.number)


def temp_number() -> str:
    return "tmp-" + uuid.uuid4().hex[:20]


def get_scoped(model, *, actor: Staff, pk: int, path_field: str, code: str, lock: bool = False):
    """A document the actor may see (stock.view on `path_field`), optionally locked; 404 otherwise."""
    qs = model.objects.filter(scope_q(actor, Perm.STOCK_VIEW, path_field), enterprise_id=actor.enterprise_id, pk=pk)
    obj = lock_one(qs) if lock else qs.first()
    if obj is None:
        raise NotFound(_("Not found."), code=code)
    return obj


def clean_sku_lines(lines: Any, *, allow_negative: bool = False, allow_zero: bool = False) -> dict[int, int]:
    """Lines of (sku_id, quantity) for one warehouse -> {sku_id: quantity}; duplicates added up."""
    if not isinstance(lines, list | tuple) or not lines:
        raise ValidationFailed(_("At least one line is needed."), code="no_lines")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(_("Too many lines."), code="too_many_lines", details={"max": MAX_LINES})
    out: dict[int, int] = defaultdict(int)
    for index, raw in enumerate(lines):
        if isinstance(raw, dict):
            sku_id, quantity = raw.get("sku_id"), raw.get("quantity")
        elif isinstance(raw, list | tuple) and len(raw) == 2:
            sku_id, quantity = raw
        else:
            raise ValidationFailed(_("Each line is (sku_id, quantity)."), code="invalid_line", details={"line": index})
        try:
            sku_id = clean_id(sku_id, "sku_id")
            if allow_negative and isinstance(quantity, int) and not isinstance(quantity, bool) and quantity < 0:
                out[sku_id] -= clean_quantity(-quantity)
            else:
                out[sku_id] += clean_quantity(quantity, allow_zero=allow_zero)
        except ValidationFailed as exc:
            exc.details["line"] = index
            raise
    if allow_negative and any(q == 0 for q in out.values()):
        raise ValidationFailed(_("Quantities are whole numbers greater than zero."), code="invalid_quantity")
    return dict(out)
