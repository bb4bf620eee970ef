from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """The top of the dependency order: what the chain exchanges with other systems — webhooks to receivers, ERP
    import and export jobs, outside marketplace channels. It reads every context below it; none imports it."""

    name = "yundian.integrations"
    label = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        from . import channels_fake  # noqa: F401 - registers the reference marketplace adapter
