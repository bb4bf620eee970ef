from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuidesConfig(AppConfig):
    name = "yundian.guides"
    label = "guides"
    verbose_name = _("Guides")

    def ready(self) -> None:
        # the per-process caches of the sale's reads (core.cache) reload when these change
        from yundian.core.cache import PLANS, watch
        from .models import CommissionPlan
        watch(CommissionPlan, PLANS)
        # guides sits above sales: it registers its commission hooks with sales (sales never imports guides)
        from . import hooks  # noqa: F401
