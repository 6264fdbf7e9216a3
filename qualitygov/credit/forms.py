"""Forms of the credit-list pages. They check shape only; the rules (duplicates, dates, the Order 44
terms) are ``credit.lists``' and its ``ListRefused`` messages are shown on the page."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualitygov.core.roles import VIEW
from qualitygov.credit.lists import EARLY_REMOVAL_CONDITIONS
from qualitygov.credit.models import ListEntry
from qualitygov.registry.models import MarketEntity

DATE_WIDGET = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")


class _StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else "form-control"
            if isinstance(field.widget, forms.Select):
                css = "form-select"
            field.widget.attrs.setdefault("class", css)


class ListEntityForm(_StyledForm):
    """A listing decision; the entity is named by its USCC and must be in the officer's scope."""

    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=18)
    kind = forms.ChoiceField(label=_("名单类型"), choices=ListEntry.Kind.choices)
    grounds = forms.CharField(label=_("列入事由"), widget=forms.Textarea(attrs={"rows": 3}))
    legal_basis = forms.CharField(label=_("列入依据"), max_length=255)
    decision_number = forms.CharField(label=_("列入决定书文号"), max_length=64)
    department = forms.CharField(label=_("作出决定的部门"), max_length=128)
    listed_on = forms.DateField(label=_("列入日期"), widget=DATE_WIDGET, initial=timezone.localdate)

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_uscc(self):
        uscc = self.cleaned_data["uscc"].strip().upper()
        # Scope through restrict(): an officer can only list entities of the own region.
        entity = MarketEntity.objects.restrict(self.user, VIEW).filter(uscc=uscc).first()
        if entity is None:
            raise forms.ValidationError(_("未找到该统一社会信用代码的市场主体，或不在您的辖区内。"))
        self.cleaned_data["entity"] = entity
        return uscc


class EarlyRemovalForm(_StyledForm):
    """Early removal from the serious-violation list: the three Order 44 conditions and the date."""

    on = forms.DateField(label=_("移出日期"), widget=DATE_WIDGET, initial=timezone.localdate)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in EARLY_REMOVAL_CONDITIONS.items():
            self.fields[name] = forms.BooleanField(label=_(label), required=False)

    def conditions(self) -> dict:
        return {name: bool(self.cleaned_data.get(name)) for name in EARLY_REMOVAL_CONDITIONS}


class CorrectionForm(_StyledForm):
    """Removal from the abnormal-operation list after correction."""

    note = forms.CharField(label=_("改正情况"), widget=forms.Textarea(attrs={"rows": 2}))
    on = forms.DateField(label=_("移出日期"), widget=DATE_WIDGET, initial=timezone.localdate)


class RevokeForm(_StyledForm):
    """The listing decision was revoked."""

    reason = forms.CharField(label=_("撤销原因"), widget=forms.Textarea(attrs={"rows": 2}))
    on = forms.DateField(label=_("撤销日期"), widget=DATE_WIDGET, initial=timezone.localdate)


# The steps of the detail page: URL slug → (form, which list it applies to or None for both).
ACTION_FORMS = {
    "remove-early": (EarlyRemovalForm, ListEntry.Kind.SERIOUS_VIOLATION),
    "remove-on-correction": (CorrectionForm, ListEntry.Kind.ABNORMAL_OPERATION),
    "revoke": (RevokeForm, None),
}
