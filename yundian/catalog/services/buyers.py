"""Category buyers (采购): HQ names the buyer who owns a category's range and supply; the diagnosis routes that
category's problems to them (a category without one inherits its parent's)."""
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import NotFound, ValidationFailed
from yundian.org.models import Staff

from ..models import Category, CategoryBuyer
from ._common import require_catalog_manage, root_path


@transaction.atomic
def category_buyer_assign(*, actor: Staff, category_id: int, buyer_id: int) -> CategoryBuyer:
    """Make `buyer_id` (an active staff member of the enterprise) the buyer of the category, replacing the one
    before. Needs catalog.manage at HQ; audited."""
    require_catalog_manage(actor)
    category = Category.objects.filter(pk=category_id, enterprise_id=actor.enterprise_id).first() \
        if isinstance(category_id, int) else None
    if category is None:
        raise NotFound(_("Category not found."), code="category_not_found")
    buyer = Staff.objects.filter(pk=buyer_id, enterprise_id=actor.enterprise_id, is_active=True).first() \
        if isinstance(buyer_id, int) else None
    if buyer is None:
        raise ValidationFailed(_("Pick an active staff member of the enterprise as the buyer."),
                               code="invalid_buyer", details={"field": "buyer"})
    row = CategoryBuyer.objects.select_for_update().filter(category=category).first()
    before = {"buyer": row.buyer_id} if row else None
    if row is None:
        row = CategoryBuyer.objects.create(enterprise_id=actor.enterprise_id, category=category, buyer=buyer)
    else:
        row.buyer = buyer
        row.save(update_fields=["buyer", "updated_at"])
    audit_record(actor=actor, action="catalog.category_buyer_assign", target=row, scope_path=root_path(actor),
                 before=before, after={"category": category.pk, "buyer": buyer.pk})
    return row


@transaction.atomic
def category_buyer_remove(*, actor: Staff, category_id: int) -> None:
    """The category goes back to inheriting its parent's buyer. Needs catalog.manage at HQ; audited."""
    require_catalog_manage(actor)
    row = CategoryBuyer.objects.filter(category_id=category_id, enterprise_id=actor.enterprise_id).first()
    if row is None:
        raise NotFound(_("Category not found."), code="category_not_found")
    audit_record(actor=actor, action="catalog.category_buyer_remove", target=row, scope_path=root_path(actor),
                 before={"category": row.category_id, "buyer": row.buyer_id})
    row.delete()
