from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuidesConfig(AppConfig):
    name = "yundian.guides"
    label = "guides"
    verbose_name = _("Guides")

    def ready(self) -> None:
        # guides sits above sales: it registers its commission hooks with sales (sales never imports guides)
        from . import hooks  # noqa: F401
