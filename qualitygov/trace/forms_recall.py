"""Forms of the recall pages (shape only; the rules are ``trace.recalls``')."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class _Styled(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field.widget, forms.CheckboxInput):
                css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
                field.widget.attrs["class"] = css


class ReportForm(_Styled):
    hazard = forms.CharField(label=_("缺陷或伤害情况"), widget=forms.Textarea(attrs={"rows": 3}))
    aware_on = forms.DateField(label=_("获知日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reported_on = forms.DateField(label=_("报告日期"), widget=forms.DateInput(attrs={"type": "date"}))
    batches = forms.CharField(label=_("涉及批次"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("每行一个：GS1 数字链接或元素串（商品条码加批号；仅商品条码表示全部批次）。"))


class InvestigateForm(_Styled):
    findings = forms.CharField(label=_("缺陷调查情况"), widget=forms.Textarea(attrs={"rows": 3}))
    defect_confirmed = forms.ChoiceField(label=_("调查结论"), choices=[
        ("", _("调查继续")), ("yes", _("确认存在缺陷")), ("no", _("未发现缺陷"))], required=False)


class PlanForm(_Styled):
    batches = forms.CharField(label=_("涉及批次"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    quantity_made = forms.DecimalField(label=_("生产数量"), required=False, min_value=0)
    quantity_sold = forms.DecimalField(label=_("销售数量"), required=False, min_value=0)
    channels = forms.CharField(label=_("销售渠道与地区"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    defect_cause = forms.CharField(label=_("缺陷及原因"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    remedy = forms.CharField(label=_("补救措施"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    notification = forms.CharField(label=_("通知方式"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    consumer_advice = forms.CharField(
        label=_("消费者应采取的措施"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("公告中告诉消费者如何停止使用、退货或获得补救。"))
    timetable = forms.CharField(label=_("进度安排"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DateStepForm(_Styled):
    on = forms.DateField(label=_("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class ProgressForm(_Styled):
    period_end = forms.DateField(label=_("报告期截止日"), widget=forms.DateInput(attrs={"type": "date"}))
    quantity_recovered = forms.DecimalField(label=_("累计召回数量"), min_value=0)
    text = forms.CharField(label=_("进展情况"), widget=forms.Textarea(attrs={"rows": 3}))


class CompleteForm(_Styled):
    completed_on = forms.DateField(label=_("完成日期"), widget=forms.DateInput(attrs={"type": "date"}))
    quantity_recovered = forms.DecimalField(label=_("累计召回数量"), required=False, min_value=0)
    summary = forms.CharField(label=_("总结报告"), widget=forms.Textarea(attrs={"rows": 3}))


class AcknowledgeForm(_Styled):
    notice = forms.IntegerField(widget=forms.HiddenInput)
    quantity_returned = forms.DecimalField(label=_("已退回数量"), min_value=0)


# step slug → (form, who: "officer" | "both", statuses in which it is offered, title)
STEP_FORMS = {
    "investigate": (InvestigateForm, "officer", ("reported", "investigating"), _("缺陷调查")),
    "plan": (PlanForm, "both", ("reported", "investigating"), _("备案召回计划")),
    "order": (DateStepForm, "officer", ("investigating", "planned", "in_progress"), _("责令召回")),
    "start": (DateStepForm, "both", ("planned",), _("开始实施召回")),
    "progress": (ProgressForm, "both", ("in_progress",), _("报告召回进展")),
    "complete": (CompleteForm, "both", ("in_progress",), _("完成召回（总结报告）")),
    "publish": (DateStepForm, "officer", ("planned", "in_progress", "completed"), _("公告召回")),
}
