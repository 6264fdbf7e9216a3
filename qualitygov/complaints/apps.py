from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "qualitygov.complaints"
    label = "complaints"
    verbose_name = _("投诉举报")

    def ready(self):
        from qualitygov.complaints.models import Case, RespondentNotice, Reward
        from qualitygov.core.context_processors import register_menu

        # Items show to the roles that may view their model: officers work the cases; the respondent's
        # enterprise users see only the notices addressed to their entity.
        register_menu(_("投诉举报"), [
            (_("投诉举报案件"), "complaints:case_list", Case),
            (_("期限提醒"), "complaints:case-due", Case),
            (_("登记投诉举报"), "complaints:intake-entry", Case),
            (_("举报奖励"), "complaints:reward_list", Reward),
            (_("可拟定奖励的举报案件"), "complaints:reward_eligible", Reward),
            (_("投诉举报处理通知"), "complaints:case-notices", RespondentNotice),
            (_("投诉举报统计分析"), "complaints:stats-dashboard", Case),
        ], order=38)
