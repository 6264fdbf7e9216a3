from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TraceConfig(AppConfig):
    name = "qualitygov.trace"
    label = "trace"
    verbose_name = _("追溯与召回")

    def ready(self):
        from qualitygov.core.context_processors import register_menu
        from qualitygov.trace.models import CaptureKey, EpcisEvent, Recall, RecallNotice

        # Items show to the roles that may view their model (the trace page to those who may read
        # events; capture jobs and keys to the entity's users and officers).
        register_menu(_("追溯与召回"), [
            (_("追溯查询"), "trace:trace", EpcisEvent),
            (_("缺陷产品召回"), "trace:recall_list", Recall),
            (_("召回工作报表"), "trace:recall_report", Recall),
            (_("召回通知"), "trace:recallnotice_list", RecallNotice),
            (_("追溯数据上报任务"), "trace:capturejob_list", CaptureKey),
            (_("追溯数据上报密钥"), "trace:capturekey_list", CaptureKey),
        ], order=35)
