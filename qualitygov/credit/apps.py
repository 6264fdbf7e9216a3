from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "qualitygov.credit"
    label = "credit"
    verbose_name = _("质量信用")

    def ready(self):
        from qualitygov.core.context_processors import register_menu
        from qualitygov.credit.models import CreditRecord, ListEntry

        register_menu(_("质量信用"), [
            (_("信用档案"), "credit:creditrecord_list", CreditRecord),
            (_("严重违法失信名单与经营异常名录"), "credit:listentry_list", ListEntry),
        ], order=20)
