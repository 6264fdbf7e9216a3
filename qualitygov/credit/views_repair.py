"""Credit-repair pages (issue 4, item 5): the list (filters: status, target, overdue), the enterprise's
application page (only eligible records and entries are offered; the others show when they become
eligible), the detail page with the steps the user may take, and the history. Every step is one call
to ``credit.repair``; a refusal is shown on the page in Chinese and nothing is written."""

from __future__ import annotations

import django_filters
import django_tables2 as tables
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views import View

from qualitygov.core.filtersets import BaseFilterSet, RegionPrefixFilter
from qualitygov.core.roles import ADD, CHANGE, Role
from qualitygov.core.tables import BaseTable
from qualitygov.core.views import ObjectDetailView, ObjectListView, ScopedViewMixin
from qualitygov.credit import repair
from qualitygov.credit.forms_repair import STEP_FORMS, ApplyForm, DecideForm
from qualitygov.credit.models import CreditRecord, ListEntry, RepairApplication

REPAIR_QS = RepairApplication.objects.select_related("entity", "entity__region", "record", "list_entry", "applicant",
                                                     "handled_by")

REPAIR_EXPORT = [("entity__uscc", _("统一社会信用代码")), ("entity__name", pgettext_lazy("field", "市场主体")),
                 ("entity__region__name", _("所在区划")), ("target", _("修复事项")), ("status", _("状态")),
                 ("received_on", _("收到申请日期")), ("accept_due_on", _("受理期限")), ("accepted_on", _("受理日期")),
                 ("decide_due_on", _("决定期限")), ("decided_on", _("决定日期")), ("decision_note", _("决定理由")),
                 ("handled_by__username", _("经办人"))]


class RepairFilterSet(BaseFilterSet):
    """Filters of the repair list page and the API: status, target, overdue, region, entity."""

    search_fields = ("entity__name__icontains", "entity__uscc__istartswith")
    status = django_filters.MultipleChoiceFilter(choices=RepairApplication.Status.choices, label=_("状态"))
    target = django_filters.ChoiceFilter(choices=RepairApplication.Target.choices, label=_("修复事项"))
    overdue = django_filters.ChoiceFilter(choices=[("yes", _("已超期")), ("no", _("未超期"))], method="filter_overdue",
                                          label=_("办理期限"))
    region = RegionPrefixFilter(region_field="entity__region__code")
    received_after = django_filters.DateFilter(field_name="received_on", lookup_expr="gte", label=_("收到日期起"))
    received_before = django_filters.DateFilter(field_name="received_on", lookup_expr="lte", label=_("收到日期止"))

    class Meta:
        model = RepairApplication
        fields = ["q", "status", "target", "overdue", "region", "received_after", "received_before"]

    def filter_overdue(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(repair.overdue_q())
        if value == "no":
            return queryset.exclude(repair.overdue_q())
        return queryset


class RepairTable(BaseTable):
    received_on = tables.DateColumn(format="Y-m-d", linkify=("credit:repairapplication_detail", [tables.A("pk")]))
    entity = tables.Column(linkify=True, order_by=("entity__name",), verbose_name=pgettext_lazy("field", "市场主体"))
    region = tables.Column(accessor="entity__region__name", order_by=("entity__region__code",),
                           verbose_name=_("所在区划"))
    due = tables.Column(accessor="pk", verbose_name=_("当前办理期限"), orderable=False)
    handled_by = tables.Column(verbose_name=_("经办人"))

    class Meta(BaseTable.Meta):
        model = RepairApplication
        fields = ("received_on", "entity", "region", "target", "status", "due", "handled_by")

    def render_due(self, record):
        due = repair.due_on(record)
        if due is None:
            return "—"
        if repair.is_overdue(record):
            return format_html('<span class="badge text-bg-danger">{} {}</span>', due.isoformat(), _("已超期"))
        return due.isoformat()

    def render_handled_by(self, value):
        return value.display_name


class RepairListView(ObjectListView):
    title = _("信用修复申请")


def _refusal_messages(exc) -> list[str]:
    return [str(message) for message in exc.messages]


def _is_officer(user) -> bool:
    return user.is_superuser or user.role not in (Role.ENTERPRISE, Role.INSPECTOR, Role.LAB_STAFF,
                                                  Role.DATA_CONSUMER)


class RepairDetailView(ObjectDetailView):
    """One application with its subject, deadlines and the steps this user may take (officers in scope:
    accept, refuse, decide; the applicant's enterprise: withdraw)."""

    template_name = "credit/repair/detail.html"

    def steps_for(self, obj) -> list[str]:
        user = self.request.user
        if obj.status not in RepairApplication.OPEN_STATUSES or not self.restricted(CHANGE).filter(pk=obj.pk).exists():
            return []
        out = []
        for slug, (_form, who, status) in STEP_FORMS.items():
            if who == "officer" and _is_officer(user) and status == obj.status:
                out.append(slug)
            elif who == "enterprise" and user.role == Role.ENTERPRISE and user.entity_id == obj.entity_id:
                out.append(slug)
        return out

    def _form(self, slug, obj, data=None):
        form_class = STEP_FORMS[slug][0]
        if form_class is DecideForm:
            return form_class(data, prefix=slug, target=obj.target)
        return form_class(data, prefix=slug)

    def get_extra_context(self, obj, forms: dict | None = None) -> dict:
        forms = forms or {}
        steps = {slug: forms.get(slug) or self._form(slug, obj) for slug in self.steps_for(obj)}
        labels = repair.conditions_for(obj.target)
        declared = [(str(_(label)), bool((obj.conditions or {}).get(name))) for name, label in labels.items()]
        return {"can_change_object": False, "can_delete_object": False, "steps": steps, "due": repair.due_on(obj),
                "overdue": repair.is_overdue(obj), "declared": declared}

    def post(self, request, *args, **kwargs):
        obj = self.get_object(CHANGE)
        slug = request.POST.get("step", "")
        if slug not in self.steps_for(obj):
            raise PermissionDenied(_("不能对该信用修复申请执行此操作。"))
        form = self._form(slug, obj, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if slug == "accept":
                    repair.accept(obj, user=request.user, note=data["note"], on=data["on"])
                elif slug == "refuse":
                    repair.refuse(obj, user=request.user, reasons=data["reasons"], on=data["on"])
                elif slug == "decide":
                    repair.decide(obj, user=request.user, approve=data["decision"] == "approve",
                                  reasons=data["reasons"], verification=data["verification"],
                                  confirmed=form.confirmed(), on=data["on"])
                else:
                    repair.withdraw(obj, user=request.user)
            except repair.RepairRefused as exc:
                for message in _refusal_messages(exc):
                    form.add_error(None, message)
            else:
                messages.success(request, _("已办理：%(obj)s") % {"obj": obj})
                return HttpResponseRedirect(obj.get_absolute_url())
        context = {**self.common_context(), "object": obj, "title": str(obj),
                   "history_url": reverse(self.url_name("history"), args=[obj.pk]), **self.get_extra_context(obj, {slug: form})}
        return render(request, self.template_name, context, status=400)


def _subject(user, value: str):
    """The record or list entry named by ``record-<id>`` / ``entry-<id>``, within the user's own entity."""
    kind, _sep, pk = (value or "").partition("-")
    if not pk.isdigit() or kind not in ("record", "entry"):
        return None
    model = CreditRecord if kind == "record" else ListEntry
    return model.objects.filter(pk=int(pk), entity_id=user.entity_id).first()


class RepairAddView(ScopedViewMixin, View):
    """The enterprise's application: a table of what repair can reach (eligible ones with an 申请 link,
    the others with the date they become eligible), then the form for the chosen one."""

    queryset = REPAIR_QS
    template_name = "credit/repair/add.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and (not self.allowed(ADD) or getattr(user, "entity_id", None) is None):
            raise PermissionDenied(_("只有市场主体的企业用户可以申请信用修复。"))
        return super().dispatch(request, *args, **kwargs)

    def _candidate(self, value):
        for candidate in repair.candidates(self.request.user.entity_id):
            if candidate.value == value:
                return candidate
        return None

    def get(self, request):
        value = request.GET.get("subject")
        if value:
            candidate = self._candidate(value)
            if candidate is None or not candidate.eligible(repair.today()):
                raise Http404(_("该记录目前不能申请信用修复。"))
            return self._render(ApplyForm(initial={"subject": value}, target=candidate.target), candidate)
        today = repair.today()
        rows = [(c, c.eligible(today)) for c in repair.candidates(request.user.entity_id)]
        return render(request, self.template_name, {**self.common_context(), "title": _("申请信用修复"),
                                                    "rows": rows, "today": today})

    def post(self, request):
        value = request.POST.get("subject", "")
        subject = _subject(request.user, value)
        if subject is None:
            raise Http404(_("该记录目前不能申请信用修复。"))
        candidate = self._candidate(value)
        if candidate is not None:
            target = candidate.target
        elif isinstance(subject, CreditRecord):
            target = RepairApplication.Target.PENALTY_PUBLICATION
        else:
            target = (RepairApplication.Target.SERIOUS_LIST if subject.kind == ListEntry.Kind.SERIOUS_VIOLATION
                      else RepairApplication.Target.ABNORMAL_LIST)
        form = ApplyForm(request.POST, target=target)
        if form.is_valid():
            data = form.cleaned_data
            is_record = isinstance(subject, CreditRecord)
            try:
                application = repair.submit(user=request.user, target=target,
                                            record=subject if is_record else None,
                                            list_entry=None if is_record else subject, reason=data["reason"],
                                            commitment=data["commitment"], conditions=form.conditions())
            except repair.RepairRefused as exc:
                for message in _refusal_messages(exc):
                    form.add_error(None, message)
            else:
                messages.success(request, _("已提交信用修复申请：%(obj)s") % {"obj": application})
                return HttpResponseRedirect(application.get_absolute_url())
        fallback = repair.Candidate(target, subject if isinstance(subject, CreditRecord) else None,
                                    subject if isinstance(subject, ListEntry) else None, None, False)
        return self._render(form, candidate or fallback, status=400)

    def _render(self, form, candidate, status=200):
        context = {**self.common_context(), "title": _("申请信用修复"), "form": form, "candidate": candidate,
                   "target_label": RepairApplication.Target(candidate.target).label}
        return render(self.request, "credit/repair/apply.html", context, status=status)
