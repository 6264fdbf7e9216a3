"""Forms of the credit query area: the public search and objection forms, the enterprise's statement
and the officers' answer and hide forms. Shape only; the rules are ``credit.query``'s."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qualitygov.credit.query import STATEMENT_MAX_LENGTH


def _styled(form: forms.Form) -> forms.Form:
    for field in form.fields.values():
        css = "form-check-input" if isinstance(field.widget, forms.CheckboxInput | forms.RadioSelect) else "form-control"
        field.widget.attrs.setdefault("class", css)
    return form


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class SearchForm(StyledForm):
    q = forms.CharField(label=_("企业名称或统一社会信用代码"), max_length=200, required=False,
                        widget=forms.TextInput(attrs={"placeholder": _("输入企业名称（至少 2 个字）或 18 位统一社会信用代码")}))


class ObjectionForm(StyledForm):
    name = forms.CharField(label=_("异议人姓名或名称"), max_length=100,
                           error_messages={"required": _("请填写异议人姓名或名称。")})
    contact = forms.CharField(label=_("联系方式（电话或电子邮箱）"), max_length=100,
                              error_messages={"required": _("请填写联系方式。")})
    grounds = forms.CharField(label=_("异议理由及证据"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6}),
                              error_messages={"required": _("请填写异议理由及证据。")},
                              help_text=_("请写明认为公示信息不准确之处及依据；联系方式仅供办理机关联系，不予公开。"))


class StatementForm(StyledForm):
    text = forms.CharField(label=_("情况说明"), max_length=STATEMENT_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 8}),
                           error_messages={"required": _("请填写情况说明。"),
                                           "max_length": _("情况说明不能超过 %(limit_value)d 个字（现为 %(show_value)d 个字）。")},
                           help_text=_("将在公示页面该条信用记录旁显示，最多 2000 字。"))


class AnswerForm(StyledForm):
    RESULT_CHOICES = [("rejected", _("异议不成立，维持公示")), ("upheld", _("异议成立，撤下该条公示信息"))]

    result = forms.ChoiceField(label=_("核查结论"), choices=RESULT_CHOICES, widget=forms.RadioSelect,
                               error_messages={"required": _("请选择核查结论。")})
    answer = forms.CharField(label=_("答复（核查情况及处理结果）"), widget=forms.Textarea(attrs={"rows": 5}),
                             error_messages={"required": _("请填写答复内容（核查情况及处理结果）。")})

    @property
    def upheld(self) -> bool:
        return self.cleaned_data.get("result") == "upheld"


class HideStatementForm(StyledForm):
    reason = forms.CharField(label=_("不予显示的理由"), widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("请说明不予显示的理由。")})
