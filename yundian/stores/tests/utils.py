"""Helpers for the store tests: a snapshot of every table a store write may touch, to prove failures change nothing."""
from django.contrib.auth import get_user_model

from yundian.core.models import AuditEntry, IdempotencyRecord
from yundian.inventory.models import Warehouse
from yundian.org.models import OrgNode, RoleAssignment, Staff
from yundian.stores.models import (StoreAssortment, StorefrontPolicy, StorefrontTheme, StoreProfile,
                                   StoreTemplate)


def counts() -> dict[str, int]:
    return {
        "nodes": OrgNode.objects.count(), "profiles": StoreProfile.objects.count(),
        "warehouses": Warehouse.objects.count(), "staff": Staff.objects.count(),
        "users": get_user_model().objects.count(), "roles": RoleAssignment.objects.count(),
        "assortment": StoreAssortment.objects.count(), "themes": StorefrontTheme.objects.count(),
        "templates": StoreTemplate.objects.count(), "policies": StorefrontPolicy.objects.count(),
        "audit": AuditEntry.objects.count(), "idempotency": IdempotencyRecord.objects.count(),
    }


def state() -> dict:
    """Counts plus the editable fields of profiles, themes, templates and policies."""
    return {
        **counts(),
        "profile_rows": list(StoreProfile.objects.order_by("id").values_list(
            "id", "address", "city", "latitude", "longitude", "phone", "opening_hours", "status", "pickup_enabled",
            "delivery_enabled", "min_days_cover", "max_days_cover")),
        "theme_rows": list(StorefrontTheme.objects.order_by("id").values_list(
            "id", "logo_url", "primary_color", "accent_color", "banner_url", "featured_product_ids", "notice")),
        "template_rows": list(StoreTemplate.objects.order_by("id").values_list(
            "id", "name", "price_list_id", "primary_color", "accent_color", "theme_palette", "theme_editable_fields",
            "staff_plan", "opening_hours", "min_days_cover", "max_days_cover", "is_active")),
        "policy_rows": list(StorefrontPolicy.objects.order_by("id").values_list("id", "allowed_palette", "editable_fields")),
    }
