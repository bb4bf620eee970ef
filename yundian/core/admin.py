from django.contrib import admin
from unfold.admin import ModelAdmin, StackedInline, TabularInline

from .models import AuditEntry


class ReadOnlyMixin:
    """For records only services may write (ledgers, orders, stock documents): the admin shows, never edits."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        """Every field a read-only class lists is shown read-only, its display methods among them, so the class
        names its fields once (no `readonly_fields = fields`)."""
        return self.fields or super().get_readonly_fields(request, obj)


class ReadOnlyAdmin(ReadOnlyMixin, ModelAdmin):
    pass


class ReadOnlyTabularInline(ReadOnlyMixin, TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class ReadOnlyStackedInline(ReadOnlyMixin, StackedInline):
    extra = 0
    can_delete = False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the audit log is insert-only."""

    list_display = ("at", "actor_label", "action", "target_type", "target_id")
    list_filter = ("action", "target_type")
    search_fields = ("actor_label", "target_id")
