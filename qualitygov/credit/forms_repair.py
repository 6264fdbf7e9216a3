"""Forms of the credit-repair pages. They check shape only; the rules (eligibility, periods, states,
who may act) are ``credit.repair``'s and its ``RepairRefused`` messages are shown on the page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from qualitygov.credit import repair
from qualitygov.credit.forms import DATE_WIDGET, _StyledForm
from qualitygov.credit.repair import conditions_for


def _condition_fields(form: forms.Form, target: str, prefix: str = "cond_") -> None:
    for name, label in conditions_for(target).items():
        form.fields[prefix + name] = forms.BooleanField(label=_gettext(label), required=False)


def _conditions(form: forms.Form, target: str, prefix: str = "cond_") -> dict:
    return {name: bool(form.cleaned_data.get(prefix + name)) for name in conditions_for(target)}


class ApplyForm(_StyledForm):
    """The enterprise's application for one chosen subject: reason, conditions declared, commitment."""

    subject = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("申请理由"), widget=forms.Textarea(attrs={"rows": 4}),
                             help_text=_("说明履行处罚、整改和消除不良影响的情况。"))
    commitment = forms.BooleanField(label=_("本单位承诺所提交材料真实有效，并将依法诚信经营（信用承诺）"), required=False)

    def __init__(self, *args, target: str, **kwargs):
        self.target = target
        super().__init__(*args, **kwargs)
        _condition_fields(self, target)

    def conditions(self) -> dict:
        return _conditions(self, self.target)


class AcceptForm(_StyledForm):
    """受理."""

    on = forms.DateField(label=_("受理日期"), widget=DATE_WIDGET, initial=repair.today)
    note = forms.CharField(label=_("受理意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RefuseForm(_StyledForm):
    """不予受理, with reasons."""

    on = forms.DateField(label=_("决定日期"), widget=DATE_WIDGET, initial=repair.today)
    reasons = forms.CharField(label=_("不予受理理由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DecideForm(_StyledForm):
    """准予 or 不予修复, with reasons; an approval confirms the target's conditions."""

    decision = forms.ChoiceField(label=_("决定"), choices=[("approve", _("准予修复")), ("deny", _("不予修复"))],
                                 widget=forms.RadioSelect)
    on = forms.DateField(label=_("决定日期"), widget=DATE_WIDGET, initial=repair.today)
    verification = forms.CharField(label=_("核实情况"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reasons = forms.CharField(label=_("决定理由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, target: str, **kwargs):
        self.target = target
        super().__init__(*args, **kwargs)
        self.fields["decision"].widget.attrs["class"] = "form-check-input"
        _condition_fields(self, target, prefix="confirm_")
        for name in conditions_for(target):
            field = self.fields["confirm_" + name]
            field.label = _gettext("核实确认：%(condition)s") % {"condition": field.label}

    def confirmed(self) -> dict:
        return _conditions(self, self.target, prefix="confirm_")


class WithdrawForm(_StyledForm):
    """The enterprise withdraws its open application (a confirmation only)."""


# The steps of the detail page: slug → (form class, who takes it: "officer" or "enterprise", open status).
STEP_FORMS = {
    "accept": (AcceptForm, "officer", "submitted"),
    "refuse": (RefuseForm, "officer", "submitted"),
    "decide": (DecideForm, "officer", "accepted"),
    "withdraw": (WithdrawForm, "enterprise", None),
}
