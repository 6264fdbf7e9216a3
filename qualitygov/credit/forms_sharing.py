"""The form of a sharing key (issue 4 item 7); ``sharing.issue_key`` checks the rules again."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qualitygov.credit.models import SharingKey
from qualitygov.credit.sharing import SHARING_FIELDS


class IssueKeyForm(forms.Form):
    """Name, department, fields, rate limit and expiry of a new key."""

    name = forms.CharField(label=_("名称"), max_length=128,
                           widget=forms.TextInput(attrs={"class": "form-control"}),
                           help_text=_("如：省地方金融管理局企业信贷查询"))
    department = forms.ChoiceField(label=_("部门类别"), choices=SharingKey.Department.choices,
                                   widget=forms.Select(attrs={"class": "form-select"}))
    department_name = forms.CharField(label=_("部门全称"), max_length=128,
                                      widget=forms.TextInput(attrs={"class": "form-control"}),
                                      help_text=_("查询记录中向市场主体显示的查询方名称。"))
    fields = forms.MultipleChoiceField(label=_("可读字段"), choices=list(SHARING_FIELDS.items()),
                                       widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": _("请至少选择一个可读字段。")})
    rate_limit_per_minute = forms.IntegerField(label=_("每分钟请求上限"), min_value=1, max_value=100_000, initial=60,
                                               widget=forms.NumberInput(attrs={"class": "form-control"}))
    expires_on = forms.DateField(label=_("有效期至"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
                                 help_text=_("留空为长期有效，可随时停用。"))
