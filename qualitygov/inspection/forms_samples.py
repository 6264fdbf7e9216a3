"""Forms of the sampling-record, lab-result and follow-up pages.

They only collect and type the input; every rule (two samplers, samplers never test, custody order,
the objection window, Art. 17 order…) is the services' and their Chinese messages are put back on
these forms by the views.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualitygov.core.models import User, region_prefix, region_q
from qualitygov.core.roles import Role
from qualitygov.inspection.models import (
    CustodyEvent,
    Enforcement,
    InspectionTask,
    SampleAttachment,
    TestingLab,
    TestItem,
)
from qualitygov.registry.models import Product

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class BootstrapForm(forms.Form):
    """Bootstrap classes on every widget."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)

    def add_service_error(self, exc: ValidationError) -> None:
        """Put a service's refusal on the form: per-field messages on their fields, the rest on top."""
        if hasattr(exc, "error_dict"):
            for name, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        else:
            for message in exc.messages:
                self.add_error(None, message)


class UserChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        region = f" · {obj.region.name}" if obj.region_id else ""
        return f"{obj.display_name}（{obj.username}）{region}"


def sampler_choices(task: InspectionTask):
    """Inspectors of the planning unit's region, and whoever the draw assigned to the task."""
    plan_region = task.quota.plan.region_id
    return (User.objects.filter(is_active=True, role=Role.INSPECTOR)
            .filter(region_q("region_id", region_prefix(plan_region)) | _pk_in(task.inspectors.all()))
            .select_related("region").distinct().order_by("username"))


def _pk_in(queryset):
    from django.db.models import Q

    return Q(pk__in=queryset.values("pk"))


class SamplersMixin:
    def _init_samplers(self, task: InspectionTask) -> None:
        self.fields["inspectors"] = UserChoiceField(
            queryset=sampler_choices(task), label=_("抽样人员"), required=False,
            help_text=_("至少两名执法检查人员；默认为随机抽取的人员。"),
            widget=forms.SelectMultiple(attrs={"class": "form-select", "size": 6}))
        if not self.is_bound:
            self.initial.setdefault("inspectors", list(task.inspectors.values_list("pk", flat=True)))
            self.initial.setdefault("sampled_on", _default_sampled_on(task))


def _default_sampled_on(task: InspectionTask):
    plan = task.quota.plan
    return min(max(timezone.localdate(), plan.starts_on), plan.ends_on)


class SampleForm(SamplersMixin, BootstrapForm):
    """A sampling record (抽样单) for one task; quantities default to the rule version's."""

    sampled_on = forms.DateField(label=_("抽样日期"), widget=DATE)
    product = forms.ModelChoiceField(queryset=Product.objects.none(), label=_("登记产品"), required=False,
                                     help_text=_("被抽样企业登记的该类别产品（可不选）。"))
    product_name = forms.CharField(label=_("样品名称"), max_length=200, required=False)
    brand = forms.CharField(label=_("商标"), max_length=100, required=False)
    specification = forms.CharField(label=_("规格型号"), max_length=100, required=False)
    batch_number = forms.CharField(label=_("生产批号"), max_length=64, required=False)
    production_date = forms.DateField(label=_("生产日期"), required=False, widget=DATE)
    lot_size = forms.IntegerField(label=_("批量"), required=False, min_value=0)
    test_quantity = forms.IntegerField(label=_("检验样品数量"), min_value=0)
    spare_quantity = forms.IntegerField(label=_("备用样品数量"), min_value=0)
    sample_unit = forms.CharField(label=_("计量单位"), max_length=16, required=False)
    sample_cost_cny = forms.DecimalField(label=_("样品费用（元）"), max_digits=12, decimal_places=2, required=False)
    cost_paid_on = forms.DateField(label=_("样品费支付日期"), required=False, widget=DATE)
    place = forms.CharField(label=_("抽样地点"), max_length=200, required=False)
    seal_number = forms.CharField(label=_("封条编号"), max_length=64, required=False)

    field_order = ["sampled_on", "inspectors", "product", "product_name", "brand", "specification", "batch_number",
                   "production_date", "lot_size", "test_quantity", "spare_quantity", "sample_unit",
                   "sample_cost_cny", "cost_paid_on", "place", "seal_number"]

    def __init__(self, *args, task: InspectionTask, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task
        self._init_samplers(task)
        self.order_fields(self.field_order)
        quota = task.quota
        self.fields["product"].queryset = (Product.objects.restrict(user).filter(
            producer=task.entity, category__code__startswith=quota.category_id).order_by("name"))
        version = quota.rule_version
        if not self.is_bound:
            self.initial.setdefault("test_quantity", version.test_sample_count)
            self.initial.setdefault("spare_quantity", version.spare_sample_count)
            self.initial.setdefault("sample_unit", version.sample_unit)
        self.fields["test_quantity"].help_text = _("实施细则要求至少 %(n)d %(unit)s。") % {
            "n": version.test_sample_count, "unit": version.sample_unit}
        self.fields["spare_quantity"].help_text = _("实施细则要求至少 %(n)d %(unit)s。") % {
            "n": version.spare_sample_count, "unit": version.sample_unit}

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["inspectors"] = list(data["inspectors"] or [])
        data["sample_cost_cny"] = data["sample_cost_cny"] or 0
        return data


class RefusalForm(SamplersMixin, BootstrapForm):
    """The record of a refusal to be sampled (拒检)."""

    sampled_on = forms.DateField(label=_("抽样日期"), widget=DATE)
    place = forms.CharField(label=_("抽样地点"), max_length=200, required=False)
    reason = forms.CharField(label=_("拒检情况"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                             help_text=_("时间、人员、理由，以及已告知的法律后果。"))

    def __init__(self, *args, task: InspectionTask, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task
        self._init_samplers(task)
        self.order_fields(["sampled_on", "inspectors", "place", "reason"])

    def add_service_error(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict") and "refusal_reason" in exc.error_dict:
            # The service names the model field; the form calls it ``reason``.
            exc = ValidationError({("reason" if k == "refusal_reason" else k): v for k, v in exc.error_dict.items()})
        super().add_service_error(exc)


class CustodyForm(BootstrapForm):
    """The next custody step of one portion."""

    portion = forms.ChoiceField(label=_("样品部分"), choices=CustodyEvent.Portion.choices, widget=forms.HiddenInput)
    event = forms.ChoiceField(label=_("环节"), choices=CustodyEvent.Event.choices)
    happened_at = forms.DateTimeField(label=_("时间"), required=False, widget=DATETIME,
                                      help_text=_("留空为当前时间。"))
    location = forms.CharField(label=_("地点"), max_length=200, required=False)
    seal_number = forms.CharField(label=_("封条编号"), max_length=64, required=False)
    note = forms.CharField(label=_("备注"), max_length=255, required=False)


class AttachmentForm(BootstrapForm):
    kind = forms.ChoiceField(label=_("附件类型"), choices=SampleAttachment.Kind.choices)
    file = forms.FileField(label=_("文件"), help_text=_("JPG、PNG 或 PDF，不超过 10 MB。"))


class NotifyForm(BootstrapForm):
    on = forms.DateField(label=_("告知日期"), required=False, widget=DATE, help_text=_("留空为今天。"))


class ReceiptForm(BootstrapForm):
    received_on = forms.DateField(label=_("企业收到结果日期"), required=False, widget=DATE, help_text=_("留空为今天。"))


class ObjectionForm(BootstrapForm):
    grounds = forms.CharField(label=_("异议理由"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class AcceptObjectionForm(BootstrapForm):
    reinspection_lab = forms.ModelChoiceField(queryset=TestingLab.objects.filter(active=True), label=_("复检机构"),
                                              help_text=_("须为原检验机构以外的检验机构。"))
    on = forms.DateField(label=_("受理日期"), required=False, widget=DATE, help_text=_("留空为今天。"))


class RejectObjectionForm(BootstrapForm):
    rejection_reason = forms.CharField(label=_("不予受理理由"), max_length=255, required=False)


class RectificationOrderForm(BootstrapForm):
    deadline = forms.DateField(label=_("整改期限"), widget=DATE)


class RectificationReportForm(BootstrapForm):
    entity_report = forms.CharField(label=_("整改报告"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RecheckForm(BootstrapForm):
    passed = forms.TypedChoiceField(label=_("复查结论"), coerce=lambda value: value == "1",
                                    choices=[("1", _("复查合格")), ("0", _("复查仍不合格"))])
    note = forms.CharField(label=_("复查情况"), max_length=255, required=False)
    rechecked_on = forms.DateField(label=_("复查日期"), required=False, widget=DATE, help_text=_("留空为今天。"))


class EscalateForm(BootstrapForm):
    """One Art. 17 step; the action comes from the button pressed."""

    action = forms.ChoiceField(choices=Enforcement.Action.choices, widget=forms.HiddenInput)
    decision_number = forms.CharField(label=_("决定书文号"), max_length=64, required=False)
    decided_on = forms.DateField(label=_("决定日期"), required=False, widget=DATE, help_text=_("留空为今天。"))
    until = forms.DateField(label=_("整顿期限"), required=False, widget=DATE)
    note = forms.CharField(label=_("说明"), max_length=255, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.prefix != f"escalate_{Enforcement.Action.SUSPENSION}":
            # Only a suspension runs until a date (责令停业，限期整顿).
            del self.fields["until"]

    def clean(self):
        data = super().clean()
        data.setdefault("until", None)
        return data


class ResultForm(BootstrapForm):
    """A lab's report: one row per test item of the sample's rule version.

    Nothing is judged here: rows left empty are not sent, so the service names them as missing;
    the hidden ``rule_version`` is the version the form was drawn for, so a report written against
    another edition is refused by the service rather than silently re-labelled.
    """

    report_number = forms.CharField(label=_("检验报告编号"), max_length=64, required=False)
    tested_on = forms.DateField(label=_("检验完成日期"), widget=DATE)
    rule_version = forms.CharField(widget=forms.HiddenInput, required=False)

    VERDICTS = [("", _("按限值判定")), ("pass", _("合格")), ("fail", _("不合格"))]

    def __init__(self, *args, items: list[TestItem], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        self.item_rows = []
        for item in items:
            value = forms.CharField(label=_("实测值"), max_length=100, required=False,
                                    widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}))
            unit = forms.CharField(label=_("单位"), max_length=16, required=False,
                                   widget=forms.TextInput(attrs={"class": "form-control form-control-sm",
                                                                 "placeholder": item.unit}))
            verdict = forms.ChoiceField(label=_("单项判定"), choices=self.VERDICTS, required=False,
                                        widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
            self.fields[f"value_{item.code}"] = value
            self.fields[f"unit_{item.code}"] = unit
            self.fields[f"verdict_{item.code}"] = verdict

    def rows(self):
        """(item, value field, unit field, verdict field, errors) per item, for the template."""
        item_errors = getattr(self, "item_errors", {})
        return [(item, self[f"value_{item.code}"], self[f"unit_{item.code}"], self[f"verdict_{item.code}"],
                 item_errors.get(item.code, [])) for item in self.items]

    def submitted_items(self) -> dict:
        """Item code → ``catalogue.ItemResult`` for every row with anything filled in."""
        from qualitygov.inspection.catalogue import ItemResult

        data = self.cleaned_data
        submitted = {}
        for item in self.items:
            value = (data.get(f"value_{item.code}") or "").strip()
            unit = (data.get(f"unit_{item.code}") or "").strip()
            verdict = data.get(f"verdict_{item.code}") or ""
            if not (value or unit or verdict):
                continue
            submitted[item.code] = ItemResult(value=value or None, unit=unit or None, verdict=verdict or None)
        return submitted

    def add_service_error(self, exc: ValidationError) -> None:
        """Per-item problems (keyed by item code) go on their rows; the rest on the fields or on top."""
        codes = {item.code for item in self.items}
        self.item_errors: dict[str, list[str]] = {}
        if hasattr(exc, "error_dict"):
            for key, messages in exc.message_dict.items():
                if key in codes:
                    self.item_errors.setdefault(key, []).extend(messages)
                elif key in self.fields and key != "rule_version":
                    for message in messages:
                        self.add_error(key, message)
                else:
                    for message in messages:
                        self.add_error(None, message)
        else:
            for message in exc.messages:
                self.add_error(None, message)


class UploadForm(BootstrapForm):
    file = forms.FileField(label=_("结果文件"), help_text=_("CSV（UTF-8 或 GB18030）或 JSON，每行一个检验项目。"))
    dry_run = forms.BooleanField(label=_("仅校验，不写入"), required=False)
