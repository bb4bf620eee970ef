from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "yundian.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        # sales sits above members: it provides the orders section of the 360° profile (members never imports sales)
        from . import profile  # noqa: F401
