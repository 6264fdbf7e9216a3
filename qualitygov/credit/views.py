"""Credit ledger pages: read-only (list, detail, history). Records are written only by
``credit.services``, so there are no add, edit or delete pages. The credit-list pages (issue 4,
item 4) add a listing form and the removal steps, each a call to ``credit.lists``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views import View

from qualitygov.core.roles import ADD, CHANGE
from qualitygov.core.text import join_list
from qualitygov.core.views import ObjectDetailView, ObjectHistoryView, ObjectListView, ScopedViewMixin
from qualitygov.credit import lists
from qualitygov.credit.filtersets import ListEntryFilterSet
from qualitygov.credit.forms import ACTION_FORMS, ListEntityForm
from qualitygov.credit.models import CreditRecord, ListEntry
from qualitygov.credit.tables import ListEntryTable

RECORD_QS = CreditRecord.objects.select_related("entity", "entity__region", "recorded_by")

RECORD_EXPORT = [("entity__uscc", _("统一社会信用代码")), ("entity__name", pgettext_lazy("field", "市场主体")),
                 ("kind", _("信用事项")), ("polarity", _("性质")), ("occurred_on", _("发生日期")),
                 ("summary", _("摘要")), ("department", _("认定部门")), ("source_module", _("来源模块")),
                 ("source_type", _("来源记录类型")), ("source_id", _("来源记录编号")), ("publishable", _("可公示")),
                 ("publish_from", _("公示起始日")), ("publish_min_until", _("最短公示期满日")),
                 ("publish_until", _("最长公示期满日")), ("state", _("状态"))]


def read_only_object_urls(prefix: str, name: str, queryset, *, filterset_class, table_class, export_columns,
                          detail_view=ObjectDetailView) -> list:
    """The list, detail and history pages of a model whose records only a service writes."""
    return [
        path(f"{prefix}/", ObjectListView.as_view(queryset=queryset, filterset_class=filterset_class,
                                                  table_class=table_class, export_columns=export_columns),
             name=f"{name}_list"),
        path(f"{prefix}/<int:pk>/", detail_view.as_view(queryset=queryset), name=f"{name}_detail"),
        path(f"{prefix}/<int:pk>/history/", ObjectHistoryView.as_view(queryset=queryset), name=f"{name}_history"),
    ]


# Labels of the well-known keys of ``CreditRecord.details``; other keys are shown under their own name.
DETAIL_LABELS = {
    "decision_number": _("决定书文号"),
    "legal_basis": _("法律依据"),
    "penalty_types": _("处罚种类"),
    "amount": _("罚没金额（元）"),
    "field": _("所属领域"),
    "restriction_until": _("限制期限至"),
    "failing_items": _("不合格项目"),
    "product": _("产品"),
    "batch": _("批次"),
    "reason": _("原因"),
}


def detail_rows(details: dict) -> list[tuple[str, str]]:
    """(label, text) pairs for a record's details, known keys first, in Chinese."""
    from qualitygov.credit.publication import PenaltyType, SensitiveField

    choice_labels = {"penalty_types": dict(PenaltyType.choices), "field": dict(SensitiveField.choices)}

    def text(key, value) -> str:
        labels = choice_labels.get(key, {})
        if isinstance(value, list):
            return join_list(text(key, v) if not isinstance(v, dict) else _dict_text(v) for v in value)
        if isinstance(value, dict):
            return _dict_text(value)
        return str(labels.get(value, value))

    known = [k for k in DETAIL_LABELS if k in details]
    others = sorted(k for k in details if k not in DETAIL_LABELS)
    return [(str(DETAIL_LABELS.get(k, k)), text(k, details[k])) for k in known + others]


def _dict_text(value: dict) -> str:
    return "，".join(f"{k}：{v}" for k, v in value.items())


class CreditRecordDetailView(ObjectDetailView):
    """One record of a credit file, with its source, publication window and details."""

    def get_extra_context(self, obj) -> dict:
        return {"detail_rows": detail_rows(obj.details or {})}


# --- The credit lists (issue 4, item 4): back-office pages over ``credit.lists`` -------------------

ENTRY_QS = ListEntry.objects.select_related("entity", "entity__region", "listed_by", "removed_by")

ENTRY_EXPORT = [("entity__uscc", _("统一社会信用代码")), ("entity__name", pgettext_lazy("field", "市场主体")),
                ("entity__region__name", _("所在区划")), ("kind", _("名单类型")), ("status", _("状态")),
                ("grounds", _("列入事由")), ("legal_basis", _("列入依据")), ("decision_number", _("列入决定书文号")),
                ("department", _("作出决定的部门")), ("listed_on", _("列入日期")),
                ("early_removal_from", _("可申请提前移出日期")), ("removal_due_on", _("期满移出日期")),
                ("removed_on", _("移出日期")), ("removal_reason", _("移出原因")), ("removal_note", _("移出说明"))]


def entry_url(entry: ListEntry) -> str:
    """The back-office page of a list entry (the model has no ``get_absolute_url``)."""
    return reverse("credit:listentry_detail", args=[entry.pk])


def _refusal_messages(exc: ValidationError) -> list[str]:
    return [str(message) for message in exc.messages]


class ListEntryDetailView(ObjectDetailView):
    """One list entry with the steps an officer may take on it (early removal, removal on correction,
    revocation); each POST goes to the ``credit.lists`` service and a refusal is shown on the page."""

    def can_act(self, obj) -> bool:
        return (obj.status == ListEntry.Status.LISTED and self.allowed(CHANGE)
                and self.restricted(CHANGE).filter(pk=obj.pk).exists())

    def get_extra_context(self, obj, forms: dict | None = None) -> dict:
        can_act = self.can_act(obj)
        steps = {}
        if can_act:
            forms = forms or {}
            for slug, (form_class, kind) in ACTION_FORMS.items():
                if kind is None or kind == obj.kind:
                    steps[slug] = forms.get(slug) or form_class(prefix=slug)
        # No generic edit or delete: an entry changes only through the steps (CHANGE means "remove").
        return {"can_change_object": False, "can_delete_object": False,
                "can_act": can_act, "steps": steps, "early_ready": obj.early_removal_from is not None
                and obj.early_removal_from <= timezone.localdate()}

    def post(self, request, *args, **kwargs):
        obj = self.get_object(CHANGE)
        slug = request.POST.get("step", "")
        if slug not in ACTION_FORMS or not self.can_act(obj):
            raise PermissionDenied(_("不能对该名单记录执行此操作。"))
        form_class, _kind = ACTION_FORMS[slug]
        form = form_class(request.POST, prefix=slug)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if slug == "remove-early":
                    lists.remove_early(obj, user=request.user, on=data["on"], conditions=form.conditions())
                elif slug == "remove-on-correction":
                    lists.remove_on_correction(obj, user=request.user, on=data["on"], note=data["note"])
                else:
                    lists.revoke_listing(obj, user=request.user, on=data["on"], reason=data["reason"])
            except lists.ListRefused as exc:
                for message in _refusal_messages(exc):
                    form.add_error(None, message)
            else:
                messages.success(request, _("已办理：%(obj)s") % {"obj": obj})
                return HttpResponseRedirect(entry_url(obj))
        return self._render(obj, {slug: form}, status=400)

    def _render(self, obj, forms, status):
        context = {**self.common_context(), "object": obj, "title": str(obj), "history_url": reverse(self.url_name("history"), args=[obj.pk]),
                   **self.get_extra_context(obj, forms)}
        return render(self.request, "credit/listentry_detail.html", context, status=status)


class ListEntryAddView(ScopedViewMixin, View):
    """A listing decision: the form's entity, kind, grounds, basis, number, department and date go to
    ``lists.list_entity``; a duplicate or any other refusal is shown on the form, nothing written."""

    queryset = ENTRY_QS
    template_name = "core/object_edit.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.allowed(ADD):
            raise PermissionDenied(_("您没有作出列入决定的权限。"))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self._render(ListEntityForm(user=request.user, initial=request.GET.dict()))

    def post(self, request):
        form = ListEntityForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry = lists.list_entity(data["entity"], kind=data["kind"], grounds=data["grounds"],
                                          legal_basis=data["legal_basis"], decision_number=data["decision_number"],
                                          department=data["department"], listed_on=data["listed_on"],
                                          user=request.user)
            except lists.ListRefused as exc:
                for message in _refusal_messages(exc):
                    form.add_error(None, message)
            else:
                messages.success(request, _("已列入：%(obj)s") % {"obj": entry})
                return HttpResponseRedirect(entry_url(entry))
        return self._render(form, status=400)

    def _render(self, form, status=200):
        context = {**self.common_context(), "form": form, "object": ListEntry(),
                   "title": _("作出列入决定")}
        return render(self.request, self.template_name, context, status=status)


def list_entry_urls(prefix: str = "lists") -> list:
    """The credit-list pages: list (filters, export), add (a listing decision), detail with the removal
    steps, history. Names follow ``object_urls``: ``listentry_list`` etc."""
    return [
        path(f"{prefix}/", ObjectListView.as_view(queryset=ENTRY_QS, filterset_class=ListEntryFilterSet,
                                                  table_class=ListEntryTable, export_columns=ENTRY_EXPORT),
             name="listentry_list"),
        path(f"{prefix}/add/", ListEntryAddView.as_view(), name="listentry_add"),
        path(f"{prefix}/<int:pk>/", ListEntryDetailView.as_view(queryset=ENTRY_QS), name="listentry_detail"),
        path(f"{prefix}/<int:pk>/history/", ObjectHistoryView.as_view(queryset=ENTRY_QS), name="listentry_history"),
    ]
