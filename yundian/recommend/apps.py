from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecommendConfig(AppConfig):
    name = "yundian.recommend"
    label = "recommend"
    verbose_name = _("Recommendations")

    def ready(self) -> None:
        # recommend sits above stores and sales: it fills their storefront blocks through their hooks
        from . import hooks  # noqa: F401
