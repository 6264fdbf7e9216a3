"""Forms of the reward pages (shape only; the rules are ``complaints.rewards``')."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qualitygov.complaints.models import Reward


class _Styled(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.RadioSelect):
                continue
            css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
            field.widget.attrs["class"] = css


def _date(label, required=False):
    return forms.DateField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}),
                           help_text=_("留空为今天。") if not required else "")


class ProposeForm(_Styled):
    level = forms.TypedChoiceField(label=_("奖励等级"), choices=Reward.Level.choices, coerce=int,
                                   widget=forms.RadioSelect)
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ComputeForm(_Styled):
    """The calculator of the API and pages: any level and amounts, nothing stored."""

    level = forms.TypedChoiceField(label=_("奖励等级"), choices=Reward.Level.choices, coerce=int)
    fines = forms.DecimalField(label=_("罚款金额（元）"), min_value=0, max_digits=14, decimal_places=2, required=False)
    confiscations = forms.DecimalField(label=_("没收金额（元）"), min_value=0, max_digits=14, decimal_places=2,
                                       required=False)


class ApproveForm(_Styled):
    on = _date(_("批准日期"))
    finance_approved_on = _date(_("财政部门会签日期"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["finance_approved_on"].help_text = _("奖励金额在50万元以上的必填。")


class DateForm(_Styled):
    on = _date(_("日期"))


class PayForm(_Styled):
    on = _date(_("发放日期"))
    reference = forms.CharField(label=_("发放凭证号"), max_length=64)


class RefuseForm(_Styled):
    reason = forms.CharField(label=_("不予奖励理由"), widget=forms.Textarea(attrs={"rows": 2}))


# slug → (form, statuses in which the step is offered, title)
STEP_FORMS = {
    "approve": (ApproveForm, (Reward.Status.PROPOSED,), _("批准")),
    "notify": (DateForm, (Reward.Status.APPROVED,), _("告知举报人")),
    "claim": (DateForm, (Reward.Status.NOTIFIED,), _("登记申领")),
    "pay": (PayForm, (Reward.Status.CLAIMED,), _("登记发放")),
    "refuse": (RefuseForm, (Reward.Status.PROPOSED, Reward.Status.APPROVED, Reward.Status.NOTIFIED), _("不予奖励")),
}
