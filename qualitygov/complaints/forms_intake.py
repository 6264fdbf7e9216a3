"""Forms of the intake pages: the public submission form, the officers' entry form, following up a
submission and rating a closed complaint.

The forms only read the request into Python values; which materials are required (Art. 9–11, 24) is
decided by ``intake.submit`` alone, whose field-named refusals the views put back on these forms.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualitygov.complaints import intake
from qualitygov.complaints.models import Attachment, Case, Category, Channel, SalesChannel
from qualitygov.core.identifiers import IdentifierError, validate_uscc
from qualitygov.core.models import Region
from qualitygov.registry.models import MarketEntity

__all__ = ["FollowUpForm", "OfficerEntryForm", "SatisfactionForm", "SubmissionForm"]

KIND_CHOICES = [(Case.Kind.COMPLAINT, _("投诉（消费纠纷，请求调解）")), (Case.Kind.TIP_OFF, _("举报（涉嫌违法行为线索）")),
                (intake.BOTH, _("投诉并举报"))]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the list of uploads (type and size are checked by ``attachments``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


def _entity_by_uscc(value: str, field: str) -> MarketEntity | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        uscc = validate_uscc(value)
    except IdentifierError as exc:
        raise forms.ValidationError(exc.reason, code="invalid_uscc") from exc
    entity = MarketEntity.objects.select_related("region").filter(uscc=uscc).first()
    if entity is None:
        raise forms.ValidationError(_("未找到该统一社会信用代码的登记主体；不在登记范围内的，请直接填写名称和地址。"),
                                    code="unknown_entity")
    return entity


class SubmissionForm(forms.Form):
    """What a citizen sends: the kind, who they are, whom it is about, what happened, files."""

    kind = forms.ChoiceField(label=_("类型"), choices=KIND_CHOICES, initial=Case.Kind.COMPLAINT,
                             widget=forms.RadioSelect, required=False)
    anonymous = forms.BooleanField(label=_("匿名举报（不留姓名和联系方式，凭查询码和密码查询办理情况）"), required=False)
    name = forms.CharField(label=_("姓名"), max_length=100, required=False)
    phone = forms.CharField(label=_("电话号码"), max_length=32, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    address = forms.CharField(label=_("通讯地址"), max_length=255, required=False)
    email = forms.EmailField(label=_("电子邮箱（选填）"), required=False)
    id_number = forms.CharField(label=_("身份证件号码（选填）"), max_length=18, required=False)
    via_agent = forms.BooleanField(label=_("委托他人代为投诉"), required=False)
    agent_name = forms.CharField(label=_("受托人姓名"), max_length=100, required=False)
    agent_id_number = forms.CharField(label=_("受托人身份证件号码"), max_length=18, required=False)
    joint_complainants = forms.IntegerField(label=_("共同投诉人数"), min_value=1, max_value=999, initial=1,
                                            required=False)
    respondent_uscc = forms.CharField(label=_("被投诉举报人统一社会信用代码（从登记主体中选择后自动填写）"), max_length=18,
                                      required=False)
    respondent_name = forms.CharField(label=_("被投诉举报人名称（姓名）"), max_length=200, required=False)
    respondent_address = forms.CharField(label=_("被投诉举报人地址"), max_length=255, required=False)
    sales_channel = forms.ChoiceField(label=_("经营方式"), choices=SalesChannel.choices, initial=SalesChannel.OFFLINE,
                                      required=False)
    platform_name = forms.CharField(label=_("电商平台名称"), max_length=200, required=False)
    platform_uscc = forms.CharField(label=_("电商平台经营者统一社会信用代码（选填）"), max_length=18, required=False)
    occurred_region = forms.ModelChoiceField(
        label=_("违法行为发生地（举报）"), required=False,
        queryset=Region.objects.filter(level__in=[Region.Level.CITY, Region.Level.COUNTY]).order_by("code"),
        help_text=_("与被举报人所在地不同时选择。"))
    category = forms.ChoiceField(label=_("问题类别"), choices=Category.choices, initial=Category.OTHER, required=False)
    product_name = forms.CharField(label=_("商品或服务名称"), max_length=200, required=False)
    amount = forms.DecimalField(label=_("涉及金额（元）"), min_value=0, max_digits=14, decimal_places=2, required=False)
    aware_on = forms.DateField(label=_("知道权益受侵害的日期"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))
    for_personal_consumption = forms.BooleanField(label=_("为生活消费需要购买、使用商品或者接受服务"), required=False,
                                                  initial=True)
    request = forms.CharField(label=_("投诉请求"), required=False, max_length=intake.MAX_TEXT,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("例如：退货退款、更换、赔偿金额。"))
    description = forms.CharField(label=_("事实与理由（举报请写明具体线索）"), required=False, max_length=intake.MAX_TEXT,
                                  widget=forms.Textarea(attrs={"rows": 6}))
    files = MultipleFileField(label=_("证据材料（照片、购物凭证等）"), required=False,
                              help_text=_("JPG、PNG 或 PDF，每个不超过 10 MB，全部材料最多 5 个文件。"))
    authorisation_file = forms.FileField(label=_("授权委托书"), required=False,
                                         widget=forms.ClearableFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}))
    agent_id_file = forms.FileField(label=_("受托人身份证明"), required=False,
                                    widget=forms.ClearableFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect | forms.CheckboxInput):
                # Bootstrap's form-check layout keeps a long label beside its box (not under it on a phone).
                widget.attrs.setdefault("class", "form-check-input")
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", css)

    def clean_respondent_uscc(self):
        return _entity_by_uscc(self.cleaned_data.get("respondent_uscc"), "respondent_uscc")

    def clean_platform_uscc(self):
        return _entity_by_uscc(self.cleaned_data.get("platform_uscc"), "platform_uscc")

    def attachments(self) -> list[tuple]:
        """(upload, kind) pairs: evidence by its type, then the agent's documents."""
        data = self.cleaned_data
        pairs = [(upload, Attachment.Kind.DOCUMENT if (upload.name or "").lower().endswith(".pdf")
                  else Attachment.Kind.PHOTO) for upload in data.get("files") or []]
        if data.get("authorisation_file"):
            pairs.append((data["authorisation_file"], Attachment.Kind.AUTHORISATION))
        if data.get("agent_id_file"):
            pairs.append((data["agent_id_file"], Attachment.Kind.AGENT_ID))
        return pairs

    def submission_kwargs(self) -> dict:
        """The keyword arguments of ``intake.submit`` read from this form."""
        data = self.cleaned_data
        kind = data.get("kind") or ""
        complaint = kind in (Case.Kind.COMPLAINT, intake.BOTH)
        return {
            "kind": kind, "anonymous": data.get("anonymous", False), "name": data.get("name", ""),
            "phone": data.get("phone", ""), "address": data.get("address", ""), "email": data.get("email", ""),
            "id_number": data.get("id_number", ""), "via_agent": data.get("via_agent", False),
            "agent_name": data.get("agent_name", ""), "agent_id_number": data.get("agent_id_number", ""),
            "joint_complainants": data.get("joint_complainants") or 1,
            "respondent_entity": data.get("respondent_uscc"), "respondent_name": data.get("respondent_name", ""),
            "respondent_address": data.get("respondent_address", ""),
            "sales_channel": data.get("sales_channel") or SalesChannel.OFFLINE,
            "platform_entity": data.get("platform_uscc"), "platform_name": data.get("platform_name", ""),
            "occurred_region": data.get("occurred_region"), "category": data.get("category") or Category.OTHER,
            "product_name": data.get("product_name", ""), "amount": data.get("amount"),
            "aware_on": data.get("aware_on"),
            "for_personal_consumption": bool(data.get("for_personal_consumption")) if complaint else None,
            "request": data.get("request", ""), "description": data.get("description", ""),
            "attachments": self.attachments(),
        }

    def add_refusal(self, refusal) -> None:
        """Put a service refusal's field messages on the form (unknown fields as form errors)."""
        if hasattr(refusal, "error_dict"):
            for field, messages in refusal.message_dict.items():
                target = field if field in self.fields else None
                for message in messages:
                    self.add_error(target, message)
        else:
            for message in refusal.messages:
                self.add_error(None, message)


class OfficerEntryForm(SubmissionForm):
    """A submission received by phone, letter, counter or fax, entered by an officer (Art. 8, 9 ¶2)."""

    channel = forms.ChoiceField(label=_("收到渠道"), choices=[(c, Channel(c).label) for c in intake.OFFICER_CHANNELS])
    received_on = forms.DateField(label=_("收到日期"), widget=forms.DateInput(attrs={"type": "date"}))

    field_order = ["channel", "received_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()
        self.fields["channel"].widget.attrs["class"] = "form-select"
        self.fields["received_on"].widget.attrs["class"] = "form-control"

    def clean_received_on(self):
        day = self.cleaned_data["received_on"]
        today = timezone.localdate()
        if day > today:
            raise forms.ValidationError(_("收到日期不能晚于今天。"), code="future")
        if day < today - dt.timedelta(days=60):
            raise forms.ValidationError(_("收到日期不能早于 60 天前：请核对日期。"), code="too_old")
        return day

    def received_at(self) -> dt.datetime:
        """Now when received today, else noon (Beijing time) of the day it was received."""
        day = self.cleaned_data["received_on"]
        if day == timezone.localdate():
            return timezone.now()
        return timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))

    def submission_kwargs(self) -> dict:
        return {**super().submission_kwargs(), "channel": self.cleaned_data["channel"],
                "received_at": self.received_at()}


class FollowUpForm(forms.Form):
    """Tracking number + phone number (named submitters) or query code + password (anonymous)."""

    tracking_number = forms.CharField(label=_("登记编号"), max_length=24, required=False)
    phone = forms.CharField(label=_("提交时填写的电话号码"), max_length=32, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel"}))
    query_code = forms.CharField(label=_("查询码"), max_length=16, required=False)
    password = forms.CharField(label=_("查询密码"), max_length=32, required=False,
                               widget=forms.PasswordInput(render_value=False))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
            field.widget.attrs.setdefault("autocomplete", "off")

    def clean(self):
        data = super().clean()
        named = data.get("tracking_number") or data.get("phone")
        anonymous = data.get("query_code") or data.get("password")
        if named and not (data.get("tracking_number") and data.get("phone")):
            raise forms.ValidationError(_("请同时填写登记编号和提交时填写的电话号码。"), code="incomplete")
        if anonymous and not named and not (data.get("query_code") and data.get("password")):
            raise forms.ValidationError(_("请同时填写查询码和查询密码。"), code="incomplete")
        if not named and not anonymous:
            raise forms.ValidationError(_("请填写登记编号和电话号码，或匿名举报的查询码和查询密码。"), code="incomplete")
        return data


class SatisfactionForm(forms.Form):
    """The complainant's rating of a closed complaint."""

    satisfaction = forms.TypedChoiceField(label=_("满意度"), coerce=int,
                                          widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                                          choices=[(5, _("5 非常满意")), (4, _("4 满意")), (3, _("3 一般")),
                                                   (2, _("2 不满意")), (1, _("1 非常不满意"))])
    comment = forms.CharField(label=_("评价（选填）"), max_length=1000, required=False,
                              widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}))
