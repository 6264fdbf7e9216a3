"""Back-office pages of the credit query area: objections (list with status and overdue filters,
detail with the answer form), the entities' statements (list, detail with the hide step) and the
enterprise's statement form for one of its published records. Every step calls ``credit.query``."""

from __future__ import annotations

import django_filters
import django_tables2 as tables
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views import View

from qualitygov.core.filtersets import BaseFilterSet, RegionPrefixFilter
from qualitygov.core.roles import ADD, CHANGE, VIEW, Role
from qualitygov.core.tables import BaseTable
from qualitygov.core.views import ObjectDetailView, ObjectListView, ScopedViewMixin
from qualitygov.credit import query
from qualitygov.credit.forms_query import AnswerForm, HideStatementForm, StatementForm
from qualitygov.credit.models import CreditObjection, CreditRecord, EntityStatement

OBJECTION_QS = CreditObjection.objects.select_related("entity", "record", "handled_by")
STATEMENT_QS = EntityStatement.objects.select_related("entity", "record", "submitted_by")


def _messages_of(exc: ValidationError) -> list[str]:
    return [str(message) for message in exc.messages]


# --- objections --------------------------------------------------------------------------------------

class CreditObjectionFilterSet(BaseFilterSet):
    search_fields = ("tracking_number__icontains", "entity__name__icontains", "entity__uscc__istartswith")
    status = django_filters.ChoiceFilter(choices=CreditObjection.Status.choices, label=gettext_lazy("状态"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=gettext_lazy("已超答复期限未答复"))
    region = RegionPrefixFilter(region_field="entity__region__code")

    class Meta:
        model = CreditObjection
        fields = ["q", "status", "overdue", "region"]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        late = {"status__in": CreditObjection.OPEN_STATUSES, "answer_due_on__lt": query._today()}
        return queryset.filter(**late) if value else queryset.exclude(**late)


class CreditObjectionTable(BaseTable):
    tracking_number = tables.Column(linkify=("credit:creditobjection_detail", [tables.A("pk")]))
    entity = tables.Column(order_by=("entity__name",), verbose_name=pgettext_lazy("field", "市场主体"))
    received_on = tables.DateColumn(format="Y-m-d")
    answer_due_on = tables.DateColumn(format="Y-m-d")
    answered_on = tables.DateColumn(format="Y-m-d")

    class Meta(BaseTable.Meta):
        model = CreditObjection
        fields = ("tracking_number", "entity", "received_on", "answer_due_on", "status", "answered_on")


OBJECTION_EXPORT = [("tracking_number", gettext_lazy("受理编号")), ("entity__name", gettext_lazy("市场主体名称")),
                    ("entity__uscc", gettext_lazy("统一社会信用代码")), ("record_id", gettext_lazy("信用记录编号")),
                    ("name", gettext_lazy("异议人")), ("contact", gettext_lazy("联系方式")),
                    ("received_on", gettext_lazy("收到日期")), ("answer_due_on", gettext_lazy("答复期限")),
                    ("status", gettext_lazy("状态")), ("answered_on", gettext_lazy("答复日期"))]


class CreditObjectionListView(ObjectListView):
    queryset = OBJECTION_QS
    filterset_class = CreditObjectionFilterSet
    table_class = CreditObjectionTable
    export_columns = OBJECTION_EXPORT


class CreditObjectionDetailView(ObjectDetailView):
    """One objection with the record it concerns and, while open, the answer form."""

    queryset = OBJECTION_QS
    template_name = "credit/query/objection_detail.html"

    def can_answer(self, obj) -> bool:
        return (obj.status in CreditObjection.OPEN_STATUSES and self.allowed(CHANGE)
                and self.restricted(CHANGE).filter(pk=obj.pk).exists())

    def get_extra_context(self, obj, form=None) -> dict:
        can_answer = self.can_answer(obj)
        return {"can_change_object": False, "can_delete_object": False, "can_answer": can_answer,
                "form": (form or AnswerForm()) if can_answer else None,
                "overdue": obj.status in CreditObjection.OPEN_STATUSES and obj.answer_due_on < query._today()}

    def post(self, request, *args, **kwargs):
        obj = self.get_object(CHANGE)
        if not self.can_answer(obj):
            raise PermissionDenied(_("该异议已答复，不能再次答复。"))
        form = AnswerForm(request.POST)
        if form.is_valid():
            try:
                query.answer_objection(obj, request.user, form.upheld, form.cleaned_data["answer"])
            except ValidationError as exc:
                for message in _messages_of(exc):
                    form.add_error(None, message)
            else:
                messages.success(request, _("已答复：%(obj)s") % {"obj": obj})
                return HttpResponseRedirect(reverse("credit:creditobjection_detail", args=[obj.pk]))
        context = {**self.common_context(), "object": obj, "title": str(obj),
                   "history_url": reverse(self.url_name("history"), args=[obj.pk]),
                   **self.get_extra_context(obj, form)}
        return render(request, self.template_name, context, status=400)


# --- statements --------------------------------------------------------------------------------------

class EntityStatementFilterSet(BaseFilterSet):
    search_fields = ("entity__name__icontains", "entity__uscc__istartswith", "text__icontains")
    visible = django_filters.BooleanFilter(label=gettext_lazy("公开显示"))
    region = RegionPrefixFilter(region_field="entity__region__code")

    class Meta:
        model = EntityStatement
        fields = ["q", "visible", "region"]


class EntityStatementTable(BaseTable):
    updated = tables.DateTimeColumn(format="Y-m-d H:i", linkify=("credit:entitystatement_detail", [tables.A("pk")]))
    entity = tables.Column(order_by=("entity__name",), verbose_name=pgettext_lazy("field", "市场主体"))
    record = tables.Column(verbose_name=gettext_lazy("信用记录"), linkify=True)
    text = tables.Column(verbose_name=gettext_lazy("情况说明"))

    class Meta(BaseTable.Meta):
        model = EntityStatement
        fields = ("updated", "entity", "record", "text", "visible")

    def render_text(self, value):
        return value if len(value) <= 60 else value[:60] + "…"


class EntityStatementListView(ObjectListView):
    """Statements in scope; for an enterprise user also its published records open for a statement."""

    queryset = STATEMENT_QS
    filterset_class = EntityStatementFilterSet
    table_class = EntityStatementTable
    template_name = "credit/query/statement_list.html"
    export_columns = [("entity__name", gettext_lazy("市场主体名称")), ("entity__uscc", gettext_lazy("统一社会信用代码")),
                      ("record_id", gettext_lazy("信用记录编号")), ("text", gettext_lazy("情况说明")),
                      ("visible", gettext_lazy("公开显示")), ("hidden_reason", gettext_lazy("不予显示的理由"))]


class EntityStatementDetailView(ObjectDetailView):
    """One statement; an officer in scope may hide it with a reason."""

    queryset = STATEMENT_QS
    template_name = "credit/query/statement_detail.html"

    def can_hide(self, obj) -> bool:
        user = self.request.user
        return (obj.visible and (user.is_superuser or user.role in query.OFFICER_ROLES)
                and self.restricted(CHANGE).filter(pk=obj.pk).exists())

    def get_extra_context(self, obj, form=None) -> dict:
        can_hide = self.can_hide(obj)
        user = self.request.user
        return {"can_change_object": False, "can_delete_object": False, "can_hide": can_hide,
                "form": (form or HideStatementForm()) if can_hide else None,
                "can_edit_text": user.role == Role.ENTERPRISE and user.entity_id == obj.entity_id}

    def post(self, request, *args, **kwargs):
        obj = self.get_object(CHANGE)
        if not self.can_hide(obj):
            raise PermissionDenied(_("您无权处理该情况说明。"))
        form = HideStatementForm(request.POST)
        if form.is_valid():
            try:
                query.hide_statement(obj, request.user, form.cleaned_data["reason"])
            except ValidationError as exc:
                for message in _messages_of(exc):
                    form.add_error(None, message)
            else:
                messages.success(request, _("该情况说明已不再公开显示。"))
                return HttpResponseRedirect(reverse("credit:entitystatement_detail", args=[obj.pk]))
        context = {**self.common_context(), "object": obj, "title": str(obj),
                   "history_url": reverse(self.url_name("history"), args=[obj.pk]),
                   **self.get_extra_context(obj, form)}
        return render(request, self.template_name, context, status=400)


class StatementAddView(ScopedViewMixin, View):
    """The enterprise's statement on one of its published records (a new text replaces the old)."""

    queryset = STATEMENT_QS
    template_name = "credit/query/statement_form.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and (user.role != Role.ENTERPRISE or not self.allowed(ADD)):
            raise PermissionDenied(_("只有市场主体的企业账号可以作出情况说明。"))
        return super().dispatch(request, *args, **kwargs)

    def _record(self) -> CreditRecord:
        # The enterprise's own records only: another entity's record is "not found".
        return get_object_or_404(CreditRecord.objects.restrict(self.request.user, VIEW).select_related("entity"),
                                 pk=self.kwargs["record"])

    def _render(self, record, form, status=200):
        existing = EntityStatement.objects.filter(record=record).first()
        context = {**self.common_context(), "record": record, "form": form, "existing": existing,
                   "title": _("情况说明：%(record)s") % {"record": record}}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, record):
        record = self._record()
        existing = EntityStatement.objects.filter(record=record).first()
        return self._render(record, StatementForm(initial={"text": existing.text} if existing else None))

    def post(self, request, record):
        record = self._record()
        form = StatementForm(request.POST)
        if form.is_valid():
            try:
                statement = query.submit_statement(record, request.user, form.cleaned_data["text"])
            except ValidationError as exc:
                for message in _messages_of(exc):
                    form.add_error(None, message)
            else:
                messages.success(request, _("情况说明已保存，将在公示页面该条记录旁显示。"))
                return HttpResponseRedirect(reverse("credit:entitystatement_detail", args=[statement.pk]))
        return self._render(record, form, status=400)


class StatementRecordsView(ScopedViewMixin, View):
    """The enterprise's published records, each with its statement (if any) and the link to write one."""

    queryset = STATEMENT_QS
    template_name = "credit/query/statement_records.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.role != Role.ENTERPRISE:
            raise PermissionDenied(_("只有市场主体的企业账号可以作出情况说明。"))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        context = {**self.common_context(), "records": query.statement_records(request.user),
                   "title": _("可作出情况说明的公示信息")}
        return render(request, self.template_name, context)


__all__ = ["CreditObjectionDetailView", "CreditObjectionListView", "EntityStatementDetailView",
           "EntityStatementListView", "StatementAddView", "StatementRecordsView"]
