from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CdpConfig(AppConfig):
    name = "yundian.cdp"
    label = "cdp"
    verbose_name = _("Customer data")
