from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "qualitygov.credit"
    label = "credit"
    verbose_name = _("质量信用")

    def ready(self):
        from qualitygov.core.context_processors import register_menu
        from qualitygov.credit.models import (
            CreditAccessLog,
            CreditObjection,
            CreditRecord,
            EntityStatement,
            ListEntry,
            RepairApplication,
            ScoreModel,
            SharingKey,
        )

        # Items show to the roles that may view their model; the dashboard and the scoring pages are
        # for officers (ScoreModel's roles), key management for the province (SharingKey's).
        register_menu(_("质量信用"), [
            (_("信用监管看板"), "credit:dashboard", ScoreModel),
            (_("信用档案"), "credit:creditrecord_list", CreditRecord),
            (_("严重违法失信名单与经营异常名录"), "credit:listentry_list", ListEntry),
            (_("信用修复申请"), "credit:repairapplication_list", RepairApplication),
            (_("信用信息异议"), "credit:creditobjection_list", CreditObjection),
            (_("主体情况说明"), "credit:entitystatement_list", EntityStatement),
            (_("信用评分模型"), "credit:scoremodel_list", ScoreModel),
            (_("信用评分批次"), "credit:scoringrun_list", ScoreModel),
            (_("信用档案查询记录"), "credit:accesslog_list", CreditAccessLog),
            (_("数据共享接口密钥"), "credit:sharingkey_list", SharingKey),
        ], order=20)
