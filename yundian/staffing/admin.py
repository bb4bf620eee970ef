"""Back office for the staffing set-up (standards, terms, availability, labour rules); plans and sign-ins read-only."""
from django.contrib import admin
from unfold.admin import ModelAdmin

from .models import Availability, LaborRules, ServiceStandard, ShiftPlan, SignInEntry, StaffTerms


@admin.register(ServiceStandard)
class ServiceStandardAdmin(ModelAdmin):
    list_display = ("store", "customers_per_staff_hour", "min_cover", "cashiers", "opening_staff", "closing_staff")
    autocomplete_fields = ("store",)


@admin.register(StaffTerms)
class StaffTermsAdmin(ModelAdmin):
    list_display = ("staff", "hourly_rate", "skills", "is_part_time", "is_shared")
    autocomplete_fields = ("staff",)


@admin.register(Availability)
class AvailabilityAdmin(ModelAdmin):
    list_display = ("staff", "weekday", "start_hour", "end_hour")
    autocomplete_fields = ("staff",)


@admin.register(LaborRules)
class LaborRulesAdmin(ModelAdmin):
    list_display = ("enterprise", "max_hours_day", "max_hours_week", "max_days_week", "min_rest_hours")


@admin.register(ShiftPlan)
class ShiftPlanAdmin(ModelAdmin):
    list_display = ("node", "week_start", "solver_status", "cost", "hours_short", "fixed_cost", "fixed_hours_short")
    readonly_fields = [f.name for f in ShiftPlan._meta.fields]


@admin.register(SignInEntry)
class SignInEntryAdmin(ModelAdmin):
    list_display = ("staff", "store", "kind", "source", "at")
    readonly_fields = [f.name for f in SignInEntry._meta.fields]

    def has_delete_permission(self, request, obj=None):
        return False
