"""Back office (Django admin): members (read-only, phone numbers masked as 138****5678 — the console's member
pages show them in full to roles that may see personal data, and audit exports), tiers and the programme."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yundian.core.admin import ReadOnlyAdmin

from .models import IdentityKind, Member, MemberProgram, Tier
from .normalize import mask_identity


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "phone_masked", "tier", "home", "status", "channel", "created_at")
    list_filter = ("status", "channel", "tier")
    search_fields = ("name",)
    list_select_related = ("tier", "home")
    fields = ("name", "phone_masked", "identities_masked", "gender", "birthday", "channel", "status", "tier",
              "tier_since", "home", "guide", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("identities")

    @admin.display(description=_("phone"))
    def phone_masked(self, member):
        phones = [i.value for i in member.identities.all() if i.kind == IdentityKind.PHONE]
        return mask_identity(IdentityKind.PHONE, phones[0]) if phones else "–"

    @admin.display(description=_("identities"))
    def identities_masked(self, member):
        return ", ".join(f"{i.get_kind_display()}: {mask_identity(i.kind, i.value)}"
                         for i in member.identities.all()) or "–"


@admin.register(Tier)
class TierAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "rank", "min_growth", "discount_rate")
    

@admin.register(MemberProgram)
class MemberProgramAdmin(ReadOnlyAdmin):
    list_display = ("points_expiry_days", "default_points_per_yuan", "growth_window_days", "growth_per_yuan")
