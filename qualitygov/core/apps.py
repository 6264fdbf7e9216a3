from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "qualitygov.core"
    label = "core"
    verbose_name = _("基础")

    def ready(self):
        from qualitygov.core import signals  # noqa: F401  (connects the audit handlers)
