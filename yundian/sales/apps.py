from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "yundian.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        # sales sits above members: it provides the orders section of the 360° profile (members never imports sales)
        from . import profile  # noqa: F401
        # a failed group buy (promotions) refunds each paid member's order through sales
        from yundian.promotions.hooks import on_group_buy_refund

        from .services.fulfilment import refund_group_buy_order
        on_group_buy_refund(refund_group_buy_order)
        # the gross margin reports join sales to the stock ledger's cost, so they are added from here
        from . import margin
        margin.register()
