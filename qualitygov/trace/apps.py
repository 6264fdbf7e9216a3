from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TraceConfig(AppConfig):
    name = "qualitygov.trace"
    label = "trace"
    verbose_name = _("追溯与召回")
