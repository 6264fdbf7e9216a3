from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionConfig(AppConfig):
    name = "qualitygov.inspection"
    label = "inspection"
    verbose_name = _("监督抽查")

    def ready(self):
        from qualitygov.core.context_processors import register_menu
        from qualitygov.inspection.models import (
            ImplementationRule, InspectionPlan, InspectionTask, RandomDraw, TestingLab,
        )

        register_menu(_("监督抽查"), [
            (_("抽查计划"), "inspection:inspectionplan_list", InspectionPlan),
            (_("抽样任务"), "inspection:inspectiontask_list", InspectionTask),
            (_("随机抽取记录"), "inspection:randomdraw_list", RandomDraw),
            (_("实施细则"), "inspection:implementationrule_list", ImplementationRule),
            (_("检验机构"), "inspection:testinglab_list", TestingLab),
        ], order=30)
