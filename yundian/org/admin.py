"""Back-office CRUD (Django admin, unfold theme). Business writes go through services; the admin is for support staff."""
from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from .models import ApiToken, AuditDigest, Enterprise, OrgNode, RoleAssignment, Staff


@admin.register(Enterprise)
class EnterpriseAdmin(ModelAdmin):
    list_display = ("name", "code", "currency", "created_at")
    search_fields = ("name", "code")


@admin.register(OrgNode)
class OrgNodeAdmin(ModelAdmin):
    list_display = ("name", "code", "kind", "path", "is_active")
    list_filter = ("kind", "is_active", "enterprise")
    search_fields = ("name", "code")
    readonly_fields = ("path", "depth")


class RoleInline(TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ("node",)


@admin.register(Staff)
class StaffAdmin(ModelAdmin):
    list_display = ("display_name", "user", "home", "is_active")
    list_filter = ("is_active", "enterprise")
    search_fields = ("display_name", "user__username", "employee_no")
    inlines = [RoleInline]
    autocomplete_fields = ("home",)


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdmin):
    list_display = ("name", "staff", "prefix", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("prefix", "key_hash", "last_used_at")


@admin.register(AuditDigest)
class AuditDigestAdmin(ModelAdmin):
    list_display = ("enterprise", "day", "total")
