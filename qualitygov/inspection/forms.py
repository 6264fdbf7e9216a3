"""Forms of the spot-check planning pages. They collect and type the input; the rules (budget,
Art. 15, rule in force, region) are the services' (``inspection.planning``), whose refusals are put
back on the form by ``add_service_errors``."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualitygov.core.models import ProductCategory, Region, region_q
from qualitygov.core.roles import VIEW, Role
from qualitygov.inspection import planning
from qualitygov.inspection.models import InspectionPlan, Stage, TestingLab

__all__ = ["PlanForm", "PlanEditForm", "QuotaForm", "DrawForm", "add_service_errors", "style_form"]

MAX_SEED = 2**63 - 1


def style_form(form: forms.BaseForm) -> None:
    """Bootstrap classes on every widget, as the registry's forms have."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            widget.attrs.setdefault("class", "qg-checks")
        elif isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's refusal on the form: per-field messages next to their field when the form has
    it, every other message above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.error_list)


def _labs_for(user):
    return TestingLab.objects.restrict(user, VIEW).filter(active=True)


class PlanForm(forms.Form):
    """A new plan of the user's unit; the province administrator may name the issuing region."""

    title = forms.CharField(label=_("计划名称"), max_length=200)
    region = forms.ModelChoiceField(label=_("组织单位所在区划"), queryset=Region.objects.none(), required=False,
                                    empty_label=_("本单位所在区划"), help_text=_("留空为本单位所在区划。"))
    period = forms.ChoiceField(label=_("计划周期"), choices=InspectionPlan.Period.choices)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label=_("季度"), choices=[("", "—"), *[(n, str(n)) for n in range(1, 5)]],
                                     coerce=int, empty_value=None, required=False,
                                     help_text=_("季度计划必填，年度计划不填。"))
    starts_on = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    ends_on = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    budget_cny = forms.DecimalField(label=_("预算（元）"), max_digits=14, decimal_places=2, min_value=0)
    labs = forms.ModelMultipleChoiceField(label=_("承检机构"), queryset=TestingLab.objects.none(), required=False,
                                          widget=forms.CheckboxSelectMultiple,
                                          help_text=_("不选表示任务分配时可选任一有效的检验机构。"))
    notes = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not (user.is_superuser or user.role == Role.PROVINCE_ADMIN):
            # Everyone else plans for their own unit (``planning.create_plan`` refuses any other region).
            del self.fields["region"]
        else:
            self.fields["region"].queryset = Region.objects.order_by("code")
        self.fields["labs"].queryset = _labs_for(user)
        self.initial.setdefault("year", timezone.localdate().year)
        self.initial.setdefault("period", InspectionPlan.Period.YEAR)
        style_form(self)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"title": data["title"], "period": data["period"], "year": data["year"], "quarter": data["quarter"],
                "starts_on": data["starts_on"], "ends_on": data["ends_on"], "budget_cny": data["budget_cny"],
                "region": data.get("region"), "labs": list(data["labs"]), "notes": data["notes"]}


class PlanEditForm(forms.ModelForm):
    """Changes to a draft plan. Period, year and issuing region make its code and stay as created."""

    class Meta:
        model = InspectionPlan
        fields = ["title", "starts_on", "ends_on", "budget_cny", "labs", "notes"]
        widgets = {"starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                   "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                   "labs": forms.CheckboxSelectMultiple, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # Labs already on the plan stay choosable even if since deactivated, so saving does not drop them.
        self.fields["labs"].queryset = (_labs_for(user) | self.instance.labs.all()).distinct()
        style_form(self)

    def save_through_service(self):
        """Save with ``planning.update_plan``, where the plan rules live (the window inside the
        period, the budget covering the quotas, labs with quotas kept); it raises on refusal."""
        data = self.cleaned_data
        return planning.update_plan(self.instance, user=self.user, title=data["title"], starts_on=data["starts_on"],
                                    ends_on=data["ends_on"], budget_cny=data["budget_cny"], labs=data["labs"],
                                    notes=data.get("notes", ""))


class QuotaForm(forms.Form):
    """A quota for a draft plan: ``planning.add_quota`` decides whether it may be added."""

    category = forms.ModelChoiceField(label=_("产品类别"), queryset=ProductCategory.objects.none(),
                                      empty_label=_("请选择"))
    region = forms.ModelChoiceField(label=_("抽样区域"), queryset=Region.objects.none(), empty_label=_("请选择"))
    stage = forms.ChoiceField(label=_("抽样环节"), choices=Stage.choices, initial=Stage.PRODUCTION)
    batches = forms.IntegerField(label=_("批次数"), min_value=1, max_value=100_000)
    unit_cost_cny = forms.DecimalField(label=_("每批次费用（元）"), max_digits=12, decimal_places=2, min_value=0,
                                       help_text=_("检验费与样品费之和的预算单价。"))
    lab = forms.ModelChoiceField(label=_("承检机构"), queryset=TestingLab.objects.none(), empty_label=_("请选择"))

    def __init__(self, *args, plan: InspectionPlan, user, **kwargs):
        kwargs.setdefault("prefix", "quota")
        super().__init__(*args, **kwargs)
        self.plan = plan
        # Leaf categories: implementation rules and samples belong to them, not to groups.
        self.fields["category"].queryset = ProductCategory.objects.filter(parent__isnull=False).order_by("code")
        self.fields["region"].queryset = Region.objects.filter(region_q("code", plan.region.prefix)).order_by("code")
        self.fields["region"].initial = plan.region_id
        labs = plan.labs.filter(active=True)
        self.fields["lab"].queryset = labs if labs.exists() else _labs_for(user)
        style_form(self)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"category": data["category"], "region": data["region"], "stage": data["stage"],
                "batches": data["batches"], "unit_cost_cny": data["unit_cost_cny"], "lab": data["lab"]}


class DrawForm(forms.Form):
    """The optional seed of a draw: blank draws a fresh seed from the CSPRNG; a stored seed re-creates
    a known draw."""

    seed = forms.IntegerField(label=_("随机种子"), required=False, min_value=0, max_value=MAX_SEED,
                              help_text=_("留空则由系统生成随机种子；填写已公开的种子可重现该次抽取。"),
                              widget=forms.NumberInput(attrs={"placeholder": _("留空自动生成")}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)
