from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "yundian.members"
    label = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        # the per-process caches of the sale's reads (core.cache) reload when these change
        from yundian.core.cache import PROGRAMME, watch
        from .models import MemberProgram, PointsRule, Tier
        for model in (MemberProgram, PointsRule, Tier):
            watch(model, PROGRAMME)
