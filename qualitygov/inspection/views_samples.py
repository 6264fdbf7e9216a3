"""Back-office pages of sampling records, lab results and the follow-up of results (issue 3, items 4–6).

Thin over the services: ``samples`` (record, refusal, custody, attachments), ``results`` (entering and
uploading reports), ``followup`` (notice, receipt, objection and re-inspection, rectification, Art. 17).
Every action is a POST that calls one service function; its Chinese refusal is shown on the page with
the form as typed, and success redirects with a message. Rows always come from ``restrict(user, action)``;
which role may press which button is decided here (the services decide whether the step is allowed now).
"""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import django_filters
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views import View

from qualitygov.core.roles import ADD, CHANGE, OFFICER_ROLES, VIEW, Role
from qualitygov.core.text import join_list
from qualitygov.core.views import ObjectDetailView, ObjectListView, ScopedViewMixin
from qualitygov.inspection import filtersets, followup, results, samples
from qualitygov.inspection import forms_samples as forms
from qualitygov.inspection.models import (
    CustodyEvent,
    Enforcement,
    InspectionTask,
    ItemResult,
    Objection,
    Rectification,
    Sample,
    SampleAttachment,
    TestItem,
    TestReport,
)
from qualitygov.inspection.tables_samples import ObjectionTable, RectificationTable, SampleTable

SAMPLE_QS = Sample.objects.select_related("plan", "entity", "category", "region", "industry", "product",
                                          "rule_version", "rule_version__rule", "task", "task__quota",
                                          "task__quota__lab")
OBJECTION_QS = Objection.objects.select_related("sample", "sample__entity", "reinspection_lab")
RECTIFICATION_QS = Rectification.objects.select_related("sample", "sample__entity")

SAMPLE_EXPORT = [
    ("number", gettext_lazy("抽样单编号")), ("plan__code", gettext_lazy("计划编号")), ("plan__title", gettext_lazy("计划名称")),
    ("sampled_on", gettext_lazy("抽样日期")), ("outcome", gettext_lazy("抽样结果")), ("status", gettext_lazy("状态")),
    ("entity__uscc", gettext_lazy("统一社会信用代码")), ("entity__name", pgettext_lazy("field", "市场主体")),
    ("region_id", gettext_lazy("区划代码")), ("region__name", gettext_lazy("所在区划")),
    ("category_id", gettext_lazy("类别代码")), ("category__name", gettext_lazy("产品类别")), ("stage", gettext_lazy("抽样环节")),
    ("product_name", gettext_lazy("样品名称")), ("brand", gettext_lazy("商标")), ("specification", gettext_lazy("规格型号")),
    ("batch_number", gettext_lazy("生产批号")), ("production_date", gettext_lazy("生产日期")),
    ("test_quantity", gettext_lazy("检验样品数量")), ("spare_quantity", gettext_lazy("备用样品数量")),
    ("sample_unit", gettext_lazy("计量单位")), ("sample_cost_cny", gettext_lazy("样品费用（元）")),
    ("verdict", gettext_lazy("检验结论")), ("notified_on", gettext_lazy("结果告知日期")),
    ("received_on", gettext_lazy("企业收到结果日期")), ("final_on", gettext_lazy("结果确定日期")),
    ("published_on", gettext_lazy("公布日期")),
]
OBJECTION_EXPORT = [
    ("sample__number", gettext_lazy("抽样单编号")), ("sample__entity__uscc", gettext_lazy("统一社会信用代码")),
    ("sample__entity__name", pgettext_lazy("field", "市场主体")), ("filed_on", gettext_lazy("申请日期")),
    ("grounds", gettext_lazy("异议理由")), ("status", gettext_lazy("状态")), ("reinspection_lab__name", gettext_lazy("复检机构")),
    ("accepted_on", gettext_lazy("受理日期")), ("rejection_reason", gettext_lazy("不予受理理由")),
    ("decision", gettext_lazy("复检结论")), ("decided_on", gettext_lazy("复检结论日期")),
]
RECTIFICATION_EXPORT = [
    ("sample__number", gettext_lazy("抽样单编号")), ("sample__entity__uscc", gettext_lazy("统一社会信用代码")),
    ("sample__entity__name", pgettext_lazy("field", "市场主体")), ("ordered_on", gettext_lazy("责令日期")),
    ("deadline", gettext_lazy("整改期限")), ("status", gettext_lazy("状态")), ("reported_on", gettext_lazy("报告日期")),
    ("rechecked_on", gettext_lazy("复查日期")), ("recheck_note", gettext_lazy("复查情况")),
]

# Who records samples: the inspectors and the officers who direct them (never the lab that tests).
SAMPLER_ROLES = frozenset({Role.INSPECTOR, Role.PROVINCE_ADMIN}) | OFFICER_ROLES
# Who decides follow-up steps: the regulators.
OFFICER_PAGE_ROLES = frozenset({Role.PROVINCE_ADMIN}) | OFFICER_ROLES
# Who enters lab results (the service further checks that the user is on the right lab's staff).
RESULT_ROLES = frozenset({Role.LAB_STAFF, Role.PROVINCE_ADMIN})
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _has_role(user, roles) -> bool:
    return user.is_superuser or user.role in roles


# --- filter sets ------------------------------------------------------------------------------------
# Samples and objections use the shared filter sets (pages and API alike); the overdue queue needs one
# more filter on rectifications.

class RectificationFilterSet(filtersets.RectificationFilterSet):
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=gettext_lazy("已逾期"))

    class Meta(filtersets.RectificationFilterSet.Meta):
        fields = [*filtersets.RectificationFilterSet.Meta.fields, "overdue"]

    def filter_overdue(self, queryset, name, value):
        # Past the deadline without a report, whether or not the nightly job has marked it yet.
        late = Q(status=Rectification.Status.OVERDUE) | Q(status=Rectification.Status.ORDERED,
                                                          deadline__lt=timezone.localdate())
        if value is None:
            return queryset
        return queryset.filter(late) if value else queryset.exclude(late)


# --- lists ------------------------------------------------------------------------------------------

class SampleListView(ObjectListView):
    queryset = SAMPLE_QS
    filterset_class = filtersets.SampleFilterSet
    table_class = SampleTable
    export_columns = SAMPLE_EXPORT


class ObjectionListView(ObjectListView):
    queryset = OBJECTION_QS
    filterset_class = filtersets.ObjectionFilterSet
    table_class = ObjectionTable
    export_columns = OBJECTION_EXPORT


class RectificationListView(ObjectListView):
    queryset = RECTIFICATION_QS
    filterset_class = RectificationFilterSet
    table_class = RectificationTable
    export_columns = RECTIFICATION_EXPORT


class _DefaultFilterMixin:
    """A work queue: the list with a filter applied unless the user chose another."""

    default_filter: dict[str, str] = {}

    def get(self, request, *args, **kwargs):
        if not any(name in request.GET for name in self.default_filter):
            query = request.GET.copy()
            for name, value in self.default_filter.items():
                query[name] = value
            request.GET = query
        return super().get(request, *args, **kwargs)


class ObjectionQueueView(_DefaultFilterMixin, ObjectionListView):
    """Objections awaiting a decision (accept or reject)."""

    default_filter = {"status": Objection.Status.FILED}
    title = gettext_lazy("待处理的复检申请")


class RectificationOverdueView(_DefaultFilterMixin, RectificationListView):
    """Rectifications past their deadline without a report."""

    default_filter = {"overdue": "true"}
    title = gettext_lazy("逾期未整改")


# --- detail with its action panels ----------------------------------------------------------------

# What each Art. 17 step needs first (《产品质量法》第十七条), shown beside its button.
ESCALATION_PRECONDITIONS = {
    Enforcement.Action.PUBLIC_NOTICE: gettext_lazy("整改逾期未改正或复查仍不合格；由省级市场监督管理部门作出。"),
    Enforcement.Action.SUSPENSION: gettext_lazy("已予以公告，且公告后复查仍不合格；须写明整顿期限。"),
    Enforcement.Action.LICENCE_REVOCATION: gettext_lazy("已责令停业整顿，且整顿后复查仍不合格。"),
}


class SampleDetailView(ObjectDetailView):
    """A sampling record: facts, custody per portion, attachments, reports, and the follow-up panel."""

    queryset = SAMPLE_QS
    template_name = "inspection/sample_detail.html"

    def get(self, request, *args, **kwargs):
        return self.render_detail(self.get_object(VIEW))

    def render_detail(self, obj: Sample, failed: dict | None = None, status: int = 200):
        """The page; ``failed`` maps an action name to its bound form with the service's errors."""
        context = {
            **self.common_context(),
            "object": obj,
            "title": str(obj),
            "history_url": reverse(self.url_name("history"), args=[obj.pk]),
            # Samples are changed only by the services' steps, never edited or deleted as a record.
            "can_change_object": False,
            "can_delete_object": False,
            **self.panels(obj, failed or {}),
        }
        return render(self.request, self.template_name, context, status=status)

    def panels(self, sample: Sample, failed: dict) -> dict:
        user = self.request.user
        today = timezone.localdate()
        can_change = Sample.objects.restrict(user, CHANGE).filter(pk=sample.pk).exists()
        officer = can_change and _has_role(user, OFFICER_PAGE_ROLES)
        own_enterprise = user.role == Role.ENTERPRISE and user.entity_id == sample.entity_id
        sampled = sample.outcome == Sample.Outcome.SAMPLED

        def form(name, form_class, **initial):
            return failed.get(name) or form_class(initial=initial or None, prefix=name)

        custody = []
        if sampled:
            events = list(CustodyEvent.objects.restrict(user).filter(sample=sample).select_related("by"))
            for portion, label in CustodyEvent.Portion.choices:
                steps = [event for event in events if event.portion == portion]
                last = steps[-1].event if steps else None
                order = samples.CUSTODY_ORDER
                upcoming = order[order.index(last) + 1] if last in order and last != order[-1] else (
                    None if last else order[0])
                custody.append({"portion": portion, "label": label, "events": steps, "next": upcoming,
                                "form": form(f"custody_{portion}", forms.CustodyForm, portion=portion,
                                             event=upcoming)})
        reports = list(TestReport.objects.restrict(user).filter(sample=sample).select_related("lab", "entered_by")
                       .prefetch_related(Prefetch("items", queryset=ItemResult.objects.select_related("item")
                                                  .order_by("item__sequence"))))
        objection = Objection.objects.restrict(user).filter(sample=sample).select_related(
            "reinspection_lab", "filed_by", "handled_by").first()
        rectifications = list(Rectification.objects.restrict(user).filter(sample=sample).order_by("ordered_on", "id"))
        enforcements = {e.action: e for e in Enforcement.objects.restrict(user).filter(sample=sample)}
        deadline = followup.objection_deadline(sample)
        unqualified = sample.verdict in followup.UNQUALIFIED
        final = sample.status in (Sample.Status.FINAL, Sample.Status.PUBLISHED)
        open_rect = next((r for r in rectifications if r.status in (Rectification.Status.ORDERED,
                                                                    Rectification.Status.REPORTED,
                                                                    Rectification.Status.OVERDUE)), None)
        first_lab = sample.task.quota.lab
        lab_user = user.role == Role.LAB_STAFF
        has_initial = any(r.kind == TestReport.Kind.INITIAL for r in reports)
        escalation = []
        blocked = False
        for action in followup.ESCALATION:
            taken = enforcements.get(action)
            escalation.append({
                "action": action, "label": Enforcement.Action(action).label, "taken": taken,
                "precondition": ESCALATION_PRECONDITIONS[action],
                # Only the first step not yet taken may be pressed; later ones wait for it.
                "available": officer and final and unqualified and taken is None and not blocked,
                "form": form(f"escalate_{action}", forms.EscalateForm, action=action),
            })
            blocked = blocked or taken is None
        return {
            "custody": custody,
            "can_custody": can_change and sampled,
            "can_attach": can_change,
            "attachments": SampleAttachment.objects.restrict(user).filter(sample=sample).select_related("uploaded_by"),
            "attachment_form": form("attach", forms.AttachmentForm),
            "reports": reports,
            "item_verdicts": {"pass": _("合格"), "fail": _("不合格")},
            "objection": objection,
            "objection_deadline": deadline,
            "objection_late": deadline is not None and today > deadline,
            "rectifications": rectifications,
            "open_rectification": open_rect,
            "escalation": escalation,
            "is_officer": officer,
            "own_enterprise": own_enterprise,
            # Buttons shown when the role may take the step and the sample is at that step; the
            # services still decide (and say why not) when a button is pressed.
            "show_result_add": sampled and not has_initial and (lab_user and first_lab.staff.filter(
                pk=user.pk).exists() or _has_role(user, {Role.PROVINCE_ADMIN})),
            "show_reinspection_add": (objection is not None and objection.status == Objection.Status.ACCEPTED
                                      and (lab_user and objection.reinspection_lab.staff.filter(pk=user.pk).exists()
                                           or _has_role(user, {Role.PROVINCE_ADMIN}))),
            "show_notify": officer and sample.status == Sample.Status.REPORTED,
            "show_receipt": sample.notified_on is not None and sample.received_on is None,
            "show_objection": (own_enterprise and objection is None and unqualified and sampled
                               and sample.received_on is not None and sample.status == Sample.Status.NOTIFIED),
            "show_objection_decision": officer and objection is not None and objection.status == Objection.Status.FILED,
            "show_order": officer and final and unqualified and open_rect is None,
            "show_escalation": final and unqualified and (officer or enforcements),
            "notify_form": form("notify", forms.NotifyForm),
            "receipt_form": form("receipt", forms.ReceiptForm),
            "objection_form": form("objection", forms.ObjectionForm),
            "accept_form": form("accept", forms.AcceptObjectionForm),
            "reject_form": form("reject", forms.RejectObjectionForm),
            "order_form": form("order", forms.RectificationOrderForm),
            "report_form": form("report", forms.RectificationReportForm),
            "recheck_form": form("recheck", forms.RecheckForm),
            "failed": failed,
        }


class SampleActionView(SampleDetailView):
    """POST one step on a sample: custody, attachment or a follow-up step; GET is not offered."""

    http_method_names = ["post"]

    # action → (who may press it, form class)
    ACTIONS = {
        "custody_test": ("changer", forms.CustodyForm),
        "custody_spare": ("changer", forms.CustodyForm),
        "attach": ("changer", forms.AttachmentForm),
        "notify": ("officer", forms.NotifyForm),
        "receipt": ("officer", forms.ReceiptForm),
        "confirm_receipt": ("enterprise", forms.ReceiptForm),
        "objection": ("enterprise", forms.ObjectionForm),
        "accept": ("officer", forms.AcceptObjectionForm),
        "reject": ("officer", forms.RejectObjectionForm),
        "order": ("officer", forms.RectificationOrderForm),
        "report": ("enterprise", forms.RectificationReportForm),
        "recheck": ("officer", forms.RecheckForm),
        **{f"escalate_{action}": ("officer", forms.EscalateForm) for action in followup.ESCALATION},
    }

    def post(self, request, pk: int, action: str):
        if action not in self.ACTIONS:
            raise Http404
        who, form_class = self.ACTIONS[action]
        sample = self._sample_for(who)
        form = form_class(request.POST, request.FILES, prefix=action)
        if not form.is_valid():
            return self._refused(sample, action, form)
        try:
            message = getattr(self, f"do_{action.split('_')[0]}")(sample, action, form)
        except ValidationError as exc:
            form.add_service_error(exc)
            return self._refused(sample, action, form)
        messages.success(request, message)
        return HttpResponseRedirect(reverse("inspection:sample_detail", args=[sample.pk]))

    def _sample_for(self, who: str) -> Sample:
        user = self.request.user
        if who == "enterprise":
            sample = get_object_or_404(self.restricted(VIEW), pk=self.kwargs["pk"])
            if user.role != Role.ENTERPRISE or user.entity_id != sample.entity_id:
                raise PermissionDenied(_("只有被抽样企业的用户可以办理此事项。"))
            return sample
        sample = get_object_or_404(self.restricted(VIEW), pk=self.kwargs["pk"])
        if not self.restricted(CHANGE).filter(pk=sample.pk).exists():
            raise PermissionDenied(_("您没有办理此抽样单的权限。"))
        if who == "officer" and not _has_role(user, OFFICER_PAGE_ROLES):
            raise PermissionDenied(_("此事项由监管部门办理。"))
        return sample

    def _refused(self, sample: Sample, action: str, form):
        messages.error(self.request, _("未办理：%(errors)s") % {"errors": "；".join(_form_messages(form))})
        return self.render_detail(sample, failed={action: form}, status=400)

    # Each handler calls one service and returns the success message.

    def do_custody(self, sample, action, form):
        data = form.cleaned_data
        event = samples.add_custody_event(sample, user=self.request.user, portion=action.split("_")[1],
                                          event=data["event"], happened_at=data["happened_at"],
                                          location=data["location"], seal_number=data["seal_number"],
                                          note=data["note"])
        return _("已登记%(portion)s“%(event)s”。") % {"portion": event.get_portion_display(),
                                                  "event": event.get_event_display()}

    def do_attach(self, sample, action, form):
        attachment = samples.attach_file(sample, user=self.request.user, kind=form.cleaned_data["kind"],
                                         uploaded=form.cleaned_data["file"])
        return _("已上传附件“%(name)s”。") % {"name": attachment.original_name}

    def do_notify(self, sample, action, form):
        followup.notify_result(sample, user=self.request.user, on=form.cleaned_data["on"])
        return _("已登记检验结果告知（%(date)s）。") % {"date": sample.notified_on}

    def do_receipt(self, sample, action, form):
        followup.acknowledge_receipt(sample, user=self.request.user, on=form.cleaned_data["received_on"])
        return _("已登记企业收到检验结果（%(date)s）；复检申请期限至 %(deadline)s。") % {
            "date": sample.received_on, "deadline": followup.objection_deadline(sample)}

    def do_confirm(self, sample, action, form):
        # The enterprise confirms on the day it clicks; it does not choose the date.
        followup.acknowledge_receipt(sample, user=self.request.user)
        return _("已确认收到检验结果；如有异议，请在 %(deadline)s 前（含当日）申请复检。") % {
            "deadline": followup.objection_deadline(sample)}

    def do_objection(self, sample, action, form):
        followup.file_objection(sample, user=self.request.user, grounds=form.cleaned_data["grounds"])
        return _("已提交复检申请。")

    def _objection(self, sample, action: str) -> Objection:
        objection = Objection.objects.restrict(self.request.user, CHANGE).filter(sample=sample).first()
        if objection is None:
            raise ValidationError(_("该抽样单没有复检申请。"))
        return objection

    def do_accept(self, sample, action, form):
        data = form.cleaned_data
        objection = followup.accept_objection(self._objection(sample, action), user=self.request.user,
                                              lab=data["reinspection_lab"], on=data["on"])
        return _("已受理复检申请，备用样品送“%(lab)s”复检。") % {"lab": objection.reinspection_lab.name}

    def do_reject(self, sample, action, form):
        followup.reject_objection(self._objection(sample, action), user=self.request.user,
                                  reason=form.cleaned_data["rejection_reason"])
        return _("已决定不予受理复检申请，原检验结论确定。")

    def do_order(self, sample, action, form):
        rectification = followup.order_rectification(sample, user=self.request.user,
                                                     deadline=form.cleaned_data["deadline"])
        return _("已责令限期整改，期限至 %(date)s。") % {"date": rectification.deadline}

    def _rectification(self, sample, action_name: str) -> Rectification:
        pk = self.request.POST.get("rectification")
        action = ADD if action_name == "report" else CHANGE
        found = Rectification.objects.restrict(self.request.user, action).filter(sample=sample, pk=pk).first() \
            if str(pk or "").isdigit() else None
        if found is None:
            raise ValidationError(_("未找到该整改记录。"))
        return found

    def do_report(self, sample, action, form):
        followup.report_rectification(self._rectification(sample, "report"), user=self.request.user,
                                      report=form.cleaned_data["entity_report"])
        return _("已提交整改报告。")

    def do_recheck(self, sample, action, form):
        data = form.cleaned_data
        rectification = followup.recheck_rectification(self._rectification(sample, "recheck"),
                                                        user=self.request.user, passed=data["passed"],
                                                        note=data["note"], on=data["rechecked_on"])
        return _("已登记复查结论：%(status)s。") % {"status": rectification.get_status_display()}

    def do_escalate(self, sample, action, form):
        data = form.cleaned_data
        wanted = action.removeprefix("escalate_")
        if data["action"] != wanted:
            raise ValidationError(_("措施与所按按钮不符。"))
        enforcement = followup.escalate(sample, user=self.request.user, action=wanted,
                                        decision_number=data["decision_number"], decided_on=data["decided_on"],
                                        until=data["until"], note=data["note"])
        return _("已作出“%(action)s”（%(number)s）。") % {"action": enforcement.get_action_display(),
                                                    "number": enforcement.decision_number}


def _form_messages(form) -> list[str]:
    found = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            found.append(f"{label}：{error}" if label and name != "__all__" else str(error))
    for errors in getattr(form, "item_errors", {}).values():
        found.extend(errors)
    return found or [_("请检查填写的内容。")]


class SampleAttachmentView(ScopedViewMixin, View):
    """Serve an attachment to whoever may see it (media files are never served publicly)."""

    queryset = SampleAttachment.objects.all()

    def get(self, request, pk: int):
        attachment = get_object_or_404(self.restricted(VIEW), pk=pk)
        suffix = ("." + attachment.original_name.rsplit(".", 1)[-1].lower()) if "." in attachment.original_name else ""
        content_type = samples.ATTACHMENT_TYPES.get(suffix, "application/octet-stream")
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError:
            raise Http404(_("附件文件不存在。")) from None
        response = FileResponse(handle, content_type=content_type, as_attachment=request.GET.get("download") == "1",
                                filename=attachment.original_name)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


# --- recording a sample or a refusal -----------------------------------------------------------------

class _TaskFormView(ScopedViewMixin, View):
    """Base of the two pages that record the outcome of a task (``?task=<pk>``)."""

    queryset = Sample.objects.all()
    form_class = None
    template_name = None
    title = ""

    def _task(self) -> InspectionTask | None:
        user = self.request.user
        if not _has_role(user, SAMPLER_ROLES):
            raise PermissionDenied(_("抽样单由执法检查人员录入。"))
        raw = self.request.GET.get("task") or self.request.POST.get("task")
        if not raw:
            return None
        if not str(raw).isdigit():
            raise Http404
        tasks = InspectionTask.objects.restrict(user, VIEW).select_related(
            "entity", "entity__region", "quota", "quota__plan", "quota__plan__region", "quota__category",
            "quota__lab", "quota__rule_version", "quota__rule_version__rule")
        return get_object_or_404(tasks, pk=raw)

    def get(self, request):
        task = self._task()
        if task is None:
            return self._pick()
        return self._render(task, self.form_class(task=task, user=request.user))

    def post(self, request):
        task = self._task()
        if task is None:
            raise Http404
        form = self.form_class(request.POST, task=task, user=request.user)
        if form.is_valid():
            try:
                sample = self.record(task, form)
            except ValidationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, self.success_message(sample))
                return HttpResponseRedirect(reverse("inspection:sample_detail", args=[sample.pk]))
        return self._render(task, form, status=400)

    def _pick(self):
        """Without a task: the user's open tasks, to choose from."""
        tasks = (InspectionTask.objects.restrict(self.request.user, VIEW)
                 .filter(status=InspectionTask.Status.ASSIGNED)
                 .select_related("entity", "entity__region", "quota__plan", "quota__category")
                 .prefetch_related("inspectors").order_by("quota__plan__code", "draw_rank")[:500])
        return render(self.request, "inspection/sample_task_pick.html",
                      {"title": _("选择抽样任务"), "tasks": tasks, "list_url": reverse("inspection:sample_list")})

    def _render(self, task, form, status=200):
        return render(self.request, self.template_name,
                      {"title": self.title, "task": task, "form": form, "version": task.quota.rule_version,
                       "list_url": reverse("inspection:sample_list")}, status=status)


class SampleAddView(_TaskFormView):
    form_class = forms.SampleForm
    template_name = "inspection/sample_add.html"
    title = gettext_lazy("录入抽样单")

    def record(self, task, form):
        data = form.service_kwargs()
        product = data.get("product")
        if product is not None:
            # The registered product fills what the sampler left blank.
            data["product_name"] = data["product_name"] or product.name
            data["brand"] = data["brand"] or product.brand
            data["specification"] = data["specification"] or product.model
        return samples.record_sample(task, user=self.request.user, **data)

    def success_message(self, sample):
        return _("已录入抽样单 %(number)s，检验样品和备用样品已封样。") % {"number": sample.number}


class SampleRefusalAddView(_TaskFormView):
    form_class = forms.RefusalForm
    template_name = "inspection/sample_refusal_add.html"
    title = gettext_lazy("录入拒检记录")

    def record(self, task, form):
        data = form.cleaned_data
        return samples.record_refusal(task, user=self.request.user, sampled_on=data["sampled_on"],
                                      inspectors=list(data["inspectors"] or []), reason=data["reason"],
                                      place=data["place"])

    def success_message(self, sample):
        return _("已录入拒检记录 %(number)s。") % {"number": sample.number}


# --- lab results ------------------------------------------------------------------------------------

class ResultAddView(ScopedViewMixin, View):
    """Enter a lab's report on a sample: one row per test item of the sample's rule version.

    ``?kind=reinspection`` enters the re-inspection of an accepted objection (the spare sample).
    """

    queryset = SAMPLE_QS
    template_name = "inspection/result_add.html"

    def _setup(self):
        user = self.request.user
        if not _has_role(user, RESULT_ROLES):
            raise PermissionDenied(_("检验结果由承检机构的检验人员录入。"))
        self.kind = (TestReport.Kind.REINSPECTION if self.request.GET.get("kind") == TestReport.Kind.REINSPECTION
                     else TestReport.Kind.INITIAL)
        sample = self.restricted(VIEW).filter(pk=self.kwargs["pk"]).first()
        if sample is None:
            raise Http404
        self.sample = sample
        self.items = list(TestItem.objects.filter(version=sample.rule_version).order_by("sequence"))

    def get(self, request, pk):
        self._setup()
        form = forms.ResultForm(items=self.items, initial={"rule_version": self.sample.rule_version.label,
                                                           "tested_on": timezone.localdate()})
        return self._render(form)

    def post(self, request, pk):
        self._setup()
        form = forms.ResultForm(request.POST, items=self.items)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = results.enter_results(self.sample, user=request.user, report_number=data["report_number"],
                                               tested_on=data["tested_on"], items=form.submitted_items(),
                                               kind=self.kind, rule_version=data["rule_version"] or None)
            except ValidationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("已录入%(kind)s报告 %(number)s，判定结论：%(verdict)s。") % {
                    "kind": report.get_kind_display(), "number": report.report_number,
                    "verdict": report.get_verdict_display()})
                return HttpResponseRedirect(reverse("inspection:sample_detail", args=[self.sample.pk]))
        return self._render(form, status=400)

    def _render(self, form, status=200):
        title = (_("录入复检结果：%(number)s") if self.kind == TestReport.Kind.REINSPECTION
                 else _("录入检验结果：%(number)s")) % {"number": self.sample.number}
        return render(self.request, self.template_name,
                      {"title": title, "sample": self.sample, "form": form, "kind": self.kind,
                       "version": self.sample.rule_version, "list_url": reverse("inspection:sample_list")},
                      status=status)


TEMPLATE_HEADERS = ["抽样单编号", "报告编号", "检验完成日期", "项目代码", "实测值", "单位", "单项判定"]


class ResultUploadView(ScopedViewMixin, View):
    """Upload many reports as CSV or JSON: all or nothing, with every problem listed."""

    queryset = SAMPLE_QS
    template_name = "inspection/result_upload.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not _has_role(request.user, RESULT_ROLES):
            raise PermissionDenied(_("检验结果由承检机构的检验人员录入。"))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self._render(forms.UploadForm())

    def post(self, request):
        form = forms.UploadForm(request.POST, request.FILES)
        outcome = None
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_UPLOAD_BYTES:
                form.add_error("file", _("文件超过 %(n)d MB 的上限，请分批上传。") % {"n": MAX_UPLOAD_BYTES // 1048576})
            else:
                try:
                    reports, problems = results.parse_upload(upload.read(), upload.name)
                    outcome = results.import_results(reports, user=request.user, shape_problems=problems,
                                                     dry_run=form.cleaned_data["dry_run"])
                except ValidationError as exc:
                    form.add_service_error(exc)
        if outcome is not None and outcome.ok and not form.cleaned_data["dry_run"]:
            messages.success(request, _("已导入 %(n)d 份检验报告：%(list)s。") % {
                "n": len(outcome.reports), "list": join_list(outcome.reports)})
            return HttpResponseRedirect(reverse("inspection:result_upload"))
        status = 200 if outcome is not None and outcome.ok else 400
        return self._render(form, outcome, status=status)

    def _render(self, form, outcome=None, status=200):
        return render(self.request, self.template_name,
                      {"title": _("批量上传检验结果"), "form": form, "outcome": outcome, "headers": TEMPLATE_HEADERS,
                       "dry_run": bool(form.is_bound and form.is_valid() and form.cleaned_data.get("dry_run")),
                       "list_url": reverse("inspection:sample_list")}, status=status)


class ResultUploadTemplateView(ScopedViewMixin, View):
    """The CSV template with Chinese headers; ``?sample=<number>`` (repeatable) pre-fills each sample's
    item rows with its item codes and canonical units."""

    queryset = SAMPLE_QS

    def get(self, request):
        if not _has_role(request.user, RESULT_ROLES):
            raise PermissionDenied(_("检验结果由承检机构的检验人员录入。"))
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(TEMPLATE_HEADERS)
        numbers = request.GET.getlist("sample")[:200]
        chosen = self.restricted(VIEW).filter(number__in=numbers, outcome=Sample.Outcome.SAMPLED).order_by("number")
        items = {}
        for sample in chosen:
            if sample.rule_version_id not in items:
                items[sample.rule_version_id] = list(TestItem.objects.filter(version_id=sample.rule_version_id)
                                                     .order_by("sequence").values_list("code", "unit"))
            for code, unit in items[sample.rule_version_id]:
                writer.writerow([sample.number, "", "", code, "", unit, ""])
        # A byte-order mark so that spreadsheet programs on Chinese Windows read UTF-8.
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(_('检验结果上传模板') + '.csv')}"
        return response
