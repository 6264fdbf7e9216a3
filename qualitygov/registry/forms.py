"""Forms for the registry pages; choices are limited to what the user's scope allows."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qualitygov.core.identifiers import IdentifierError, validate_gtin, validate_uscc
from qualitygov.core.models import Industry, ProductCategory, Region, region_q
from qualitygov.core.roles import Role
from qualitygov.registry.models import Licence, MarketEntity, Product, QualityPerson


class ScopedModelForm(forms.ModelForm):
    """A ModelForm that knows its user and narrows region and entity choices to the user's scope."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            widget = field.widget
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            widget.attrs.setdefault("class", css)
        if "region" in self.fields and user is not None and user.role != Role.ENTERPRISE:
            regions = Region.objects.filter(level=Region.Level.COUNTY)
            if user.region_prefix:
                regions = regions.filter(region_q("code", user.region_prefix))
            self.fields["region"].queryset = regions
        for name in ("entity", "producer"):
            if name in self.fields and user is not None:
                # Entities are chosen by USCC: a province holds millions, too many for a drop-down.
                old = self.fields[name]
                self.fields[name] = forms.ModelChoiceField(
                    queryset=MarketEntity.objects.restrict(user, "view"), to_field_name="uscc",
                    label=old.label, widget=forms.TextInput(attrs={"class": "form-control", "maxlength": 18,
                                                                   "placeholder": "9122010…"}),
                    help_text=_("输入该市场主体的统一社会信用代码。"),
                    error_messages={"invalid_choice": _("未找到该统一社会信用代码对应的市场主体，或该主体不在您的范围内。"),
                                    "required": _("请填写市场主体的统一社会信用代码。")})
                instance = kwargs.get("instance")
                current = getattr(instance, f"{name}_id", None) if instance is not None else None
                if current:
                    self.initial[name] = MarketEntity.objects.filter(pk=current).values_list("uscc", flat=True).first()
                elif user.role == Role.ENTERPRISE and user.entity_id:
                    self.initial[name] = MarketEntity.objects.filter(pk=user.entity_id).values_list(
                        "uscc", flat=True).first()


class MarketEntityForm(ScopedModelForm):
    class Meta:
        model = MarketEntity
        fields = ["uscc", "name", "legal_representative", "region", "industry", "address", "size_class",
                  "registration_date", "status", "phone"]
        widgets = {"registration_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["industry"].queryset = Industry.objects.filter(level=Industry.Level.DIVISION)
        if self.user is not None and self.user.role == Role.ENTERPRISE:
            # An enterprise keeps its contact details current; its registered facts come from registration.
            for name in list(self.fields):
                if name not in MarketEntity.enterprise_editable_fields:
                    self.fields[name].disabled = True

    def clean_uscc(self):
        try:
            return validate_uscc(self.cleaned_data["uscc"])
        except IdentifierError as exc:
            raise forms.ValidationError(exc.reason, code=exc.code) from exc


class QualityPersonForm(ScopedModelForm):
    class Meta:
        model = QualityPerson
        fields = ["entity", "name", "position", "phone", "email", "appointed_on", "certificate_no"]
        widgets = {"appointed_on": forms.DateInput(attrs={"type": "date"})}


class ProductForm(ScopedModelForm):
    class Meta:
        model = Product
        fields = ["producer", "name", "brand", "model", "category", "gtin", "is_key"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = ProductCategory.objects.filter(parent__isnull=False)

    def clean_gtin(self):
        value = (self.cleaned_data.get("gtin") or "").strip()
        if not value:
            return None
        try:
            return validate_gtin(value)
        except IdentifierError as exc:
            raise forms.ValidationError(exc.reason, code=exc.code) from exc


class LicenceForm(ScopedModelForm):
    class Meta:
        model = Licence
        fields = ["entity", "kind", "number", "issuer", "scope", "issued_on", "valid_until", "status"]
        widgets = {"issued_on": forms.DateInput(attrs={"type": "date"}),
                   "valid_until": forms.DateInput(attrs={"type": "date"}),
                   "scope": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        data = super().clean()
        issued, until = data.get("issued_on"), data.get("valid_until")
        if issued and until and until < issued:
            self.add_error("valid_until", _("有效期截止日不能早于发证日期。"))
        return data
