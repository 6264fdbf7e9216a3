"""Recall pages (issue 5, item 6) in the "trace" namespace: ``recall_list`` (filters: status, kind,
published, progress overdue; badges), ``recall_add`` (the report; an officer starts one from a traced
batch), ``recall_report`` (the officers' follow-up), ``recall_detail`` (the steps this user may take,
and the holder's acknowledgement of its notice) and ``recall_history``. Every step is one call to
``trace.recalls``; a refusal is shown on the page in Chinese and nothing is written."""

from __future__ import annotations

import django_filters
import django_tables2 as tables
from dateutil.relativedelta import relativedelta
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views import View

from qualitygov.core.filtersets import BaseFilterSet, RegionPrefixFilter
from qualitygov.core.roles import ADD, VIEW, Role
from qualitygov.core.tables import BaseTable
from qualitygov.core.views import ObjectDetailView, ObjectListView, ScopedViewMixin
from qualitygov.registry.models import MarketEntity
from qualitygov.trace import recalls, tracing
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


STATUS_BADGES = {Recall.Status.REPORTED: "text-bg-warning", Recall.Status.INVESTIGATING: "text-bg-info",
                 Recall.Status.PLANNED: "text-bg-primary", Recall.Status.IN_PROGRESS: "text-bg-primary",
                 Recall.Status.COMPLETED: "text-bg-success", Recall.Status.CLOSED_NO_DEFECT: "text-bg-secondary"}


def _badge(css: str, text, element_id: str = "") -> str:
    return format_html('<span class="badge {}"{}>{}</span>', css,
                       format_html(' data-badge="{}"', element_id) if element_id else "", text)


class RecallTable(BaseTable):
    """The recall list with badges: status, report late against the 2-working-day clock, next progress
    report (overdue in red), published."""

    number = tables.Column(linkify=("trace:recall_detail", [tables.A("pk")]))
    producer = tables.Column(order_by=("producer__name",))
    progress_base = tables.Column(verbose_name=_("下次进展报告"), empty_values=(), orderable=False)

    class Meta(BaseTable.Meta):
        model = Recall
        fields = ("number", "producer", "product", "kind", "status", "reported_on", "report_due_on", "progress_base",
                  "published")
        row_attrs = {"data-number": lambda record: record.number}

    def render_status(self, record):
        return _badge(STATUS_BADGES.get(record.status, "text-bg-secondary"), record.get_status_display(), "status")

    def render_report_due_on(self, record, value):
        late = recalls.is_report_late(record)
        text = value.isoformat()
        return format_html("{} {}", text, _badge("text-bg-warning", _("逾期报告"), "report-late")) if late else text

    def render_progress_base(self, record):
        if record.status != Recall.Status.IN_PROGRESS:
            return "—"
        base = getattr(record, "progress_base", None) or record.started_on
        due = base + relativedelta(months=recalls.PROGRESS_MONTHS)
        if due < timezone.localdate():
            return format_html("{} {}", due.isoformat(), _badge("text-bg-danger", _("进展报告已超期"), "overdue"))
        return due.isoformat()

    def render_published(self, record):
        return _badge("text-bg-success", _("已公告"), "published") if record.published else "—"


class RecallListView(ObjectListView):
    title = _("缺陷产品召回")
    template_name = "trace/recall/list.html"

    def restricted(self, action: str | None = None):
        queryset = super().restricted(action)
        # The list's badges read the next progress report's base (one aggregate, not a query per row).
        return recalls.with_progress_base(queryset) if (action or self.action) == VIEW else queryset


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
                "effectiveness": recalls.effectiveness(obj), "quantity_in_scope": recalls.quantity_in_scope(obj),
                "summary_due": recalls.summary_due_on(obj), "notices": notices,
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


def _add_errors(form, refused) -> None:
    for field, errors in (refused.message_dict.items() if hasattr(refused, "error_dict") else
                          [(None, refused.messages)]):
        for message in errors:
            form.add_error(field if field in form.fields else None, message)


class RecallAddView(ScopedViewMixin, View):
    """The report. An enterprise user reports for its own entity. An officer starts a recall from a
    traced batch (``?batch=`` from the trace page, e.g. a batch that failed a spot check): the producer
    and product come from the batch's registered GTIN, the hazard from the failed spot check
    (``recalls.batch_defaults``), and the forward trace of the batch is shown beside the form."""

    queryset = RECALL_QS
    template_name = "trace/recall/add.html"

    def officer(self) -> bool:
        user = self.request.user
        return user.is_superuser or user.role in recalls.OFFICER_ROLES

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not (self.allowed(ADD) and (
                self.officer() or (user.role == Role.ENTERPRISE and user.entity_id is not None))):
            raise PermissionDenied(_("只有生产企业的用户或监管人员可以报告召回。"))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        batch = request.GET.get("batch", "").strip()
        initial = {"aware_on": timezone.localdate(), "reported_on": timezone.localdate(), "batches": batch}
        defaults, refused = None, None
        if batch and self.officer():
            try:
                defaults = recalls.batch_defaults(batch, request.user)
            except recalls.RecallRefused as error:
                refused = error
            else:
                initial |= {"batches": "\n".join(defaults["batches"]), "hazard": defaults["hazard"]}
        form = ReportForm(initial=initial)
        if refused is not None:
            _add_errors(form, refused)
        return self._render(form, defaults)

    def post(self, request):
        form = ReportForm(request.POST)
        defaults = None
        if form.is_valid():
            data = form.cleaned_data
            try:
                if self.officer():
                    first = next((line for line in data["batches"].splitlines() if line.strip()), "")
                    if not first:
                        raise recalls.RecallRefused({"batches": [_("请填写涉及批次，据此确定生产者和产品。")]},
                                                    code="bad_batch")
                    defaults = recalls.batch_defaults(first, request.user)
                    producer, product = defaults["producer"], defaults["product"]
                else:
                    producer, product = MarketEntity.objects.get(pk=request.user.entity_id), None
                recall = recalls.report(producer, product, data["hazard"], data["aware_on"], data["reported_on"],
                                        data["batches"], request.user)
            except recalls.RecallRefused as refused:
                _add_errors(form, refused)
            else:
                messages.success(request, _("已报告：%(obj)s") % {"obj": recall})
                return HttpResponseRedirect(reverse("trace:recall_detail", args=[recall.pk]))
        return self._render(form, defaults, status=400)

    def _render(self, form, defaults=None, status=200):
        holders = []
        if defaults is not None:
            # The scope the plan will compute (the whole store, as the recall's detail page shows it to the
            # officers of the producer's region, which the officer is: the product is in their scope).
            try:
                holders = recalls.compute_scope(defaults["batches"])
            except tracing.TraceError:
                holders = []
        return render(self.request, self.template_name, {
            **self.common_context(), "form": form, "defaults": defaults, "holders": holders,
            "officer": self.officer(), "title": _("报告缺陷产品")}, status=status)


class RecallReportView(ScopedViewMixin, View):
    """The officers' follow-up of the recalls in their scope (``recalls.officer_report``): reports late
    against the 2-working-day clock, open reports, quarterly progress reports due and overdue,
    completions with the summary deadline and effectiveness (recovered / quantity in scope)."""

    queryset = RECALL_QS
    template_name = "trace/recall/report.html"

    def get(self, request):
        if not self.allowed(VIEW):
            raise PermissionDenied(_("您没有查看此类记录的权限。"))
        report = recalls.officer_report(self.restricted(VIEW))
        return render(request, self.template_name, {**self.common_context(), "report": report,
                                                    "title": _("召回工作报表")})


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
