from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionConfig(AppConfig):
    name = "qualitygov.inspection"
    label = "inspection"
    verbose_name = _("监督抽查")

    def ready(self):
        from qualitygov.core.context_processors import register_menu
        from qualitygov.inspection.models import (
            ImplementationRule,
            InspectionPlan,
            InspectionTask,
            Objection,
            RandomDraw,
            Rectification,
            Sample,
            TestingLab,
            TestReport,
        )

        register_menu(_("监督抽查"), [
            (_("抽查计划"), "inspection:inspectionplan_list", InspectionPlan),
            (_("抽样任务"), "inspection:inspectiontask_list", InspectionTask),
            (_("随机抽取记录"), "inspection:randomdraw_list", RandomDraw),
            (_("实施细则"), "inspection:implementationrule_list", ImplementationRule),
            (_("检验机构"), "inspection:testinglab_list", TestingLab),
        ], order=30)
        register_menu(_("抽样与检验"), [
            (_("抽样单"), "inspection:sample_list", Sample),
            (_("录入抽样单"), "inspection:sample_add", Sample),
            (_("批量上传检验结果"), "inspection:result_upload", TestReport),
            (_("复检申请"), "inspection:objection_list", Objection),
            (_("待处理的复检申请"), "inspection:objection_pending", Objection),
            (_("整改"), "inspection:rectification_list", Rectification),
            (_("逾期未整改"), "inspection:rectification_overdue", Rectification),
            (_("抽检统计"), "inspection:statistics", InspectionPlan),
        ], order=31)
