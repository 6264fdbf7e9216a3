"""Recall pages (issue 5, item 6) in the "trace" namespace: ``recall_list`` (filters: status, kind,
published, progress overdue), ``recall_add`` (the report), ``recall_detail`` (the steps this user may
take, and the holder's acknowledgement of its notice) and ``recall_history``. Every step is one call to
``trace.recalls``; a refusal is shown on the page in Chinese and nothing is written."""

from __future__ import annotations

import django_filters
import django_tables2 as tables
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View

from qualitygov.core.filtersets import BaseFilterSet, RegionPrefixFilter
from qualitygov.core.roles import ADD, Role
from qualitygov.core.tables import BaseTable
from qualitygov.core.views import ObjectDetailView, ObjectListView, ScopedViewMixin
from qualitygov.registry.models import MarketEntity
from qualitygov.trace import recalls
from qualitygov.trace.forms_recall import STEP_FORMS, AcknowledgeForm, ReportForm
from qualitygov.trace.models import Recall, RecallNotice

RECALL_QS = Recall.objects.select_related("producer", "producer__region", "product")
RECALL_EXPORT = [("number", _("召回编号")), ("producer__name", _("生产者")), ("producer__region__name", _("所在区划")),
                 ("kind", _("召回类型")), ("status", _("状态")), ("aware_on", _("获知日期")), ("reported_on", _("报告日期")),
                 ("report_due_on", _("报告期限")), ("quantity_sold", _("销售数量")),
                 ("quantity_recovered", _("已召回数量")), ("published_on", _("公告日期"))]


class RecallFilterSet(BaseFilterSet):
    """Filters of the recall list: status, kind, published, progress overdue, region."""

    search_fields = ("number__icontains", "producer__name__icontains")
    status = django_filters.MultipleChoiceFilter(choices=Recall.Status.choices, label=_("状态"))
    kind = django_filters.ChoiceFilter(choices=Recall.Kind.choices, label=_("召回类型"))
    published = django_filters.BooleanFilter(label=_("已公告"))
    overdue = django_filters.ChoiceFilter(choices=[("yes", _("进展报告已超期"))], method="filter_overdue",
                                          label=_("进展报告"))
    region = RegionPrefixFilter(region_field="producer__region__code")

    class Meta:
        model = Recall
        fields = ["q", "status", "kind", "published", "overdue", "region"]

    def filter_overdue(self, queryset, name, value):
        return recalls.overdue_progress(queryset=queryset) if value == "yes" else queryset


class RecallTable(BaseTable):
    number = tables.Column(linkify=("trace:recall_detail", [tables.A("pk")]))
    producer = tables.Column(order_by=("producer__name",))

    class Meta(BaseTable.Meta):
        model = Recall
        fields = ("number", "producer", "product", "kind", "status", "reported_on", "report_due_on", "published")


class RecallListView(ObjectListView):
    title = _("缺陷产品召回")


class RecallDetailView(ObjectDetailView):
    """One recall with its scope, notices, progress and the steps this user may take."""

    template_name = "trace/recall/detail.html"

    def steps_for(self, obj) -> list[str]:
        user = self.request.user
        officer = recalls.can_act_as_officer(user, obj)
        producer = recalls.can_act_as_producer(user, obj)
        out = []
        for slug, (_form, who, statuses, _title) in STEP_FORMS.items():
            if obj.status in statuses and (officer or (who == "both" and producer)):
                if slug == "publish" and obj.published:
                    continue
                if slug == "order" and obj.kind == Recall.Kind.ORDERED:
                    continue
                out.append(slug)
        return out

    def own_notices(self, obj):
        user = self.request.user
        if user.role != Role.ENTERPRISE or obj.status not in (Recall.Status.PLANNED, Recall.Status.IN_PROGRESS):
            return []
        return list(RecallNotice.objects.filter(recall=obj, entity_id=user.entity_id))

    def get_extra_context(self, obj, forms: dict | None = None) -> dict:
        forms = forms or {}
        steps = {slug: (STEP_FORMS[slug][3], forms.get(slug) or STEP_FORMS[slug][0](prefix=slug))
                 for slug in self.steps_for(obj)}
        notices = RecallNotice.objects.restrict(self.request.user).filter(recall=obj).select_related("entity")
        return {"can_change_object": False, "can_delete_object": False, "steps": steps,
                "report_late": recalls.is_report_late(obj), "progress_due": recalls.progress_due_on(obj),
                "effectiveness": recalls.effectiveness(obj), "notices": notices,
                "progress_rows": obj.progress.all(), "ack_notices": self.own_notices(obj),
                "ack_form": forms.get("acknowledge") or AcknowledgeForm(prefix="acknowledge")}

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        slug = request.POST.get("step", "")
        if slug == "acknowledge":
            form = AcknowledgeForm(request.POST, prefix="acknowledge")
            if form.is_valid():
                notice = next((n for n in self.own_notices(obj) if n.pk == form.cleaned_data["notice"]), None)
                if notice is None:
                    raise PermissionDenied(_("不能确认这份召回通知。"))
                return self._run(obj, form, slug, recalls.acknowledge_notice, notice, request.user,
                                 form.cleaned_data["quantity_returned"])
            return self._render(obj, slug, form)
        if slug not in self.steps_for(obj):
            raise PermissionDenied(_("不能对该召回执行此操作。"))
        form = STEP_FORMS[slug][0](request.POST, prefix=slug)
        if not form.is_valid():
            return self._render(obj, slug, form)
        data, user = form.cleaned_data, request.user
        if slug == "investigate":
            confirmed = {"yes": True, "no": False}.get(data["defect_confirmed"])
            return self._run(obj, form, slug, recalls.investigate, obj, user, data["findings"], confirmed)
        if slug == "plan":
            values = {k: v for k, v in data.items() if k != "batches"}
            return self._run(obj, form, slug, recalls.file_plan, obj, user, batches=data["batches"] or None, **values)
        if slug == "order":
            return self._run(obj, form, slug, recalls.order_recall, obj, user, on=data["on"])
        if slug == "start":
            return self._run(obj, form, slug, recalls.start, obj, user, data["on"])
        if slug == "progress":
            return self._run(obj, form, slug, recalls.report_progress, obj, user, data["period_end"],
                             data["quantity_recovered"], data["text"])
        if slug == "complete":
            return self._run(obj, form, slug, recalls.complete, obj, user, data["summary"], data["completed_on"],
                             data["quantity_recovered"])
        return self._run(obj, form, slug, recalls.publish, obj, user, data["on"])

    def _run(self, obj, form, slug, function, *args, **kwargs):
        try:
            function(*args, **kwargs)
        except recalls.RecallRefused as refused:
            for field, errors in (refused.message_dict.items() if hasattr(refused, "error_dict") else
                                  [(None, refused.messages)]):
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
            return self._render(Recall.objects.get(pk=obj.pk), slug, form)
        messages.success(self.request, _("已办理：%(obj)s") % {"obj": obj})
        return HttpResponseRedirect(reverse("trace:recall_detail", args=[obj.pk]))

    def _render(self, obj, slug, form):
        context = {**self.common_context(), "object": obj, "title": str(obj),
                   "history_url": reverse(self.url_name("history"), args=[obj.pk]),
                   **self.get_extra_context(obj, {slug: form})}
        return render(self.request, self.template_name, context, status=400)


class RecallAddView(ScopedViewMixin, View):
    """The report: an enterprise user for its own entity (officers record reports through the API)."""

    queryset = RECALL_QS
    template_name = "trace/recall/add.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and (request.user.role != Role.ENTERPRISE or not self.allowed(ADD)
                                              or request.user.entity_id is None):
            raise PermissionDenied(_("只有生产企业的用户可以在此报告召回。"))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self._render(ReportForm())

    def post(self, request):
        form = ReportForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            producer = MarketEntity.objects.get(pk=request.user.entity_id)
            try:
                recall = recalls.report(producer, None, data["hazard"], data["aware_on"], data["reported_on"],
                                        data["batches"], request.user)
            except recalls.RecallRefused as refused:
                for field, errors in (refused.message_dict.items() if hasattr(refused, "error_dict") else
                                      [(None, refused.messages)]):
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(request, _("已报告：%(obj)s") % {"obj": recall})
                return HttpResponseRedirect(reverse("trace:recall_detail", args=[recall.pk]))
        return self._render(form, status=400)

    def _render(self, form, status=200):
        return render(self.request, self.template_name, {**self.common_context(), "form": form,
                                                         "title": _("报告缺陷产品")}, status=status)


class RecallNoticeListView(ScopedViewMixin, View):
    """The recall notices addressed to the user's entity (a holder of recalled goods) or, for officers,
    to the entities of their region; the holder confirms a notice and reports what it has returned.
    A holder sees its own notice and the recall's public facts (product, batches, defect, remedy), not
    the recall's scope (other holders and their quantities)."""

    queryset = RecallNotice.objects.select_related("recall", "recall__producer", "recall__product", "entity")
    template_name = "trace/recall/notices.html"

    def _notices(self):
        return self.queryset.restrict(self.request.user).order_by("-sent_on", "-id")[:200]

    def get(self, request, form=None, status=200, failed_notice=None):
        return render(request, self.template_name, {
            "title": _("召回通知"), "notices": self._notices(), "form": form, "failed_notice": failed_notice,
            "acknowledging": request.user.role == Role.ENTERPRISE,
        }, status=status)

    def post(self, request):
        form = AcknowledgeForm(request.POST, prefix="acknowledge")
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        notice = self.queryset.restrict(request.user).filter(pk=form.cleaned_data["notice"]).first()
        if notice is None:
            raise PermissionDenied(_("不能确认这份召回通知。"))
        try:
            recalls.acknowledge_notice(notice, request.user, form.cleaned_data["quantity_returned"])
        except recalls.RecallRefused as refused:
            for message in refused.messages:
                form.add_error(None, message)
            return self.get(request, form=form, status=400, failed_notice=notice.pk)
        messages.success(request, _("已确认召回通知：%(number)s") % {"number": notice.recall.number})
        return HttpResponseRedirect(reverse("trace:recallnotice_list"))
