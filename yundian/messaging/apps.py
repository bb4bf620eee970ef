from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "yundian.messaging"
    label = "messaging"
    verbose_name = _("Messages")

    def ready(self) -> None:
        # messaging sits above members: it provides the 360° profile's message history and the storefront inbox
        from . import member_pages  # noqa: F401
