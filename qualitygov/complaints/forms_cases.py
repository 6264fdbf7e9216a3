"""One form per handling step, used by the case page and the API alike. ``form.step_kwargs()`` gives the
keyword arguments of the ``handling`` function of that step (``handling.STEP_FUNCTIONS``); the rules
themselves are checked there, not here."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualitygov.complaints import handling
from qualitygov.complaints.filtersets import officers_for
from qualitygov.complaints.models import Case, Category, RespondentNotice
from qualitygov.core.models import ProductCategory, Region


def _date_field(label=None):
    return forms.DateField(label=label or _("日期"), initial=timezone.localdate,
                           widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"},
                                                  format="%Y-%m-%d"))


def _text(label, required=True, rows=2):
    return forms.CharField(label=label, required=required,
                           widget=forms.Textarea(attrs={"rows": rows, "class": "form-control form-control-sm"}))


def _line(label, required=True, max_length=200):
    return forms.CharField(label=label, required=required, max_length=max_length,
                           widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}))


def _select(field):
    field.widget.attrs.setdefault("class", "form-select form-select-sm")
    return field


def _units():
    return Region.objects.filter(level__in=[Region.Level.COUNTY, Region.Level.CITY, Region.Level.PROVINCE])


class StepForm(forms.Form):
    """A step's form; ``case`` and ``user`` let a form narrow its choices."""

    on = _date_field()

    def __init__(self, *args, case: Case, user, **kwargs):
        self.case, self.user = case, user
        super().__init__(*args, **kwargs)
        # The date goes last on the page.
        self.fields["on"] = self.fields.pop("on")

    def step_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class AssignForm(StepForm):
    officer = _select(forms.ModelChoiceField(label=_("承办人"), queryset=None))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers_for(self.user)


class NoteForm(StepForm):
    text = _text(_("备注"))


class CodeForm(StepForm):
    category = _select(forms.ChoiceField(label=_("问题类别"), choices=Category.choices))
    product_category = _select(forms.ModelChoiceField(label=_("产品类别"), required=False,
                                                      queryset=ProductCategory.objects.all()))
    product_name = _line(_("商品或服务名称"), required=False)
    respondent_uscc = _line(_("被投诉举报主体统一社会信用代码"), required=False, max_length=18)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.update(category=self.case.category, product_category=self.case.product_category_id,
                                product_name=self.case.product_name,
                                respondent_uscc=getattr(self.case.respondent_entity, "uscc", ""))

    def clean_respondent_uscc(self):
        from qualitygov.registry.models import MarketEntity

        value = (self.cleaned_data.get("respondent_uscc") or "").strip().upper()
        if not value:
            return None
        entity = MarketEntity.objects.filter(uscc=value).first()
        if entity is None:
            raise forms.ValidationError(_("登记系统中没有该统一社会信用代码的市场主体。"))
        return entity

    def step_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {"on": data["on"], "category": data["category"], "product_name": data.get("product_name") or None}
        if data.get("product_category") is not None:
            kwargs["product_category"] = data["product_category"]
        entity = data.get("respondent_uscc")
        if entity is not None and entity.pk != self.case.respondent_entity_id:
            kwargs["respondent_entity"] = entity
        return kwargs


class TransferForm(StepForm):
    to_unit = _select(forms.ModelChoiceField(label=_("移送至"), queryset=None))
    reason = _text(_("移送理由"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_unit"].queryset = _units().exclude(pk=self.case.handling_unit_id)


class DisputeForm(StepForm):
    other_unit = _select(forms.ModelChoiceField(label=_("争议单位"), queryset=None))
    reason = _text(_("争议理由"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["other_unit"].queryset = _units().exclude(pk=self.case.handling_unit_id)


class ResolveDisputeForm(StepForm):
    decided_unit = _select(forms.ModelChoiceField(label=_("确定的承办单位"), queryset=None))
    note = _text(_("说明"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        dispute = handling.open_dispute(self.case)
        pks = [dispute.raised_by_unit_id, dispute.other_unit_id] if dispute else []
        self.fields["decided_unit"].queryset = Region.objects.filter(pk__in=pks)


class RejectForm(StepForm):
    ground = _select(forms.ChoiceField(label=_("不予受理理由"), choices=Case.RejectionGround.choices))
    note = _text(_("说明"), required=False)


class RecordForm(StepForm):
    record = _text(_("调解记录"), required=False)


class PauseForm(StepForm):
    reason = _line(_("检定、检验、检测或鉴定事项"))


class NoticeForm(StepForm):
    kind = _select(forms.ChoiceField(label=_("通知类型"), choices=()))
    message = _text(_("补充说明（不得包含投诉举报人信息）"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind = (RespondentNotice.Kind.MEDIATION if self.case.kind == Case.Kind.COMPLAINT
                else RespondentNotice.Kind.INQUIRY)
        self.fields["kind"].choices = [(kind.value, kind.label)]


class EndMediationForm(StepForm):
    outcome = _select(forms.ChoiceField(label=_("调解结果"), choices=Case.MediationOutcome.choices))
    record = _text(_("调解记录"), required=False)


class ClueForm(StepForm):
    text = _text(_("违法线索"))


class ReasonForm(StepForm):
    reason = _text(_("理由"))


class VerifyForm(StepForm):
    violation_found = forms.BooleanField(label=_("核查属实（存在违法行为）"), required=False)
    findings = _text(_("核查结果"))


class FilingForm(StepForm):
    decision = _select(forms.ChoiceField(label=_("立案决定"), choices=Case.FilingDecision.choices))
    enforcement_case_number = _line(_("立案编号"), required=False, max_length=64)
    note = _text(_("说明"), required=False)


class PenaltyForm(StepForm):
    penalty_decision_number = _line(_("处罚决定书文号"), max_length=64)
    decided_on = _date_field(_("处罚决定日期"))
    fine_amount = forms.DecimalField(label=_("罚款金额（元）"), required=False, min_value=0, max_digits=14,
                                     decimal_places=2)
    confiscation_amount = forms.DecimalField(label=_("没收金额（元）"), required=False, min_value=0, max_digits=14,
                                             decimal_places=2)
    penalty_types = forms.MultipleChoiceField(label=_("处罚种类"), required=False, choices=(),
                                              widget=forms.CheckboxSelectMultiple)
    enforcement_case_number = _line(_("立案编号"), required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        from qualitygov.credit.publication import PenaltyType

        super().__init__(*args, **kwargs)
        self.fields["penalty_types"].choices = PenaltyType.choices
        for name in ("fine_amount", "confiscation_amount"):
            self.fields[name].widget.attrs["class"] = "form-control form-control-sm"


class CloseForm(StepForm):
    outcome = _text(_("处理结果"))


STEP_FORMS: dict[str, type[StepForm]] = {
    "assign": AssignForm, "note": NoteForm, "code": CodeForm, "transfer": TransferForm, "dispute": DisputeForm,
    "resolve_dispute": ResolveDisputeForm, "accept": StepForm, "reject": RejectForm, "start_mediation": RecordForm,
    "pause": PauseForm, "resume": StepForm, "notice": NoticeForm, "end_mediation": EndMediationForm,
    "notify_end": StepForm, "clue": ClueForm, "start_verification": StepForm, "extend_verification": ReasonForm,
    "verify": VerifyForm, "decide_filing": FilingForm, "notify_reporter": StepForm, "link_penalty": PenaltyForm,
    "close": CloseForm,
}
