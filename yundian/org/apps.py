from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "yundian.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        # the per-process caches of the sale's reads (core.cache) reload when these change
        from yundian.core.cache import ORG, watch
        from .models import Enterprise, OrgNode, RoleAssignment, Staff
        for model in (Enterprise, OrgNode, Staff, RoleAssignment):
            watch(model, ORG)
