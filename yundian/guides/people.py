"""Who works a store: its guides and its manager (the one who takes what no guide holds)."""
from yundian.org.models import OrgNode, RoleAssignment, Staff
from yundian.org.roles import Role


def store_manager_of(store: OrgNode) -> Staff | None:
    """The store's first active store manager (by id), or None."""
    staff_ids = RoleAssignment.objects.filter(role=Role.STORE_MANAGER, node=store).values("staff_id")
    return Staff.objects.filter(pk__in=staff_ids, is_active=True).order_by("id").first()


def guides_of(store: OrgNode) -> list[Staff]:
    """Active staff holding the guide role at the store, by name."""
    staff_ids = RoleAssignment.objects.filter(role=Role.GUIDE, node=store).values("staff_id")
    return list(Staff.objects.filter(pk__in=staff_ids, is_active=True).order_by("display_name", "id"))
