"""Back-office pages of case handling (namespace "complaints"):

* ``case_list`` — the unit's queue (filters: kind, status, category, officer, due/overdue, received
  dates, unit; CSV/XLSX export without any identity field);
* ``case_detail`` — one case: facts, clocks, the reporter panel (masked, or revealed and audit-logged
  for the designated role, ``protection``), the steps this user may take now, the timeline, notices,
  disputes and the similar-cases panel (htmx);
* ``case_history`` — the audit entries of the case;
* ``case-due`` — due and overdue lists per unit and per officer;
* ``case-notices`` — notices to respondents: an enterprise user sees those addressed to its entity and
  nothing else of the case.

Views stay thin: every step is one call to ``handling.perform``; a refusal is shown on the page in
Chinese and nothing is written.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from qualitygov.complaints import handling, protection
from qualitygov.complaints.filtersets import CaseFilterSet, officers_for
from qualitygov.complaints.forms_cases import STEP_FORMS
from qualitygov.complaints.models import Case, RespondentNotice
from qualitygov.complaints.tables import CASE_EXPORT, CaseTable
from qualitygov.core.models import Region, region_q
from qualitygov.core.roles import CHANGE, VIEW
from qualitygov.core.views import ObjectDetailView, ObjectListView, ScopedViewMixin

CASE_QS = Case.objects.select_related("handling_unit", "assigned_to", "submission", "respondent_entity",
                                      "respondent_region", "product_category", "product", "credit_record")


class CaseListView(ObjectListView):
    """The queue of the user's units."""

    title = gettext_lazy("投诉举报案件")


def case_list_view():
    return CaseListView.as_view(queryset=CASE_QS, filterset_class=CaseFilterSet, table_class=CaseTable,
                                export_columns=CASE_EXPORT)


class CaseDetailView(ObjectDetailView):
    template_name = "complaints/cases/detail.html"

    def get_extra_context(self, obj, forms: dict | None = None) -> dict:
        user = self.request.user
        forms = forms or {}
        steps = {slug: (handling.STEPS[slug].label,
                        forms.get(slug) or STEP_FORMS[slug](prefix=slug, case=obj, user=user))
                 for slug in handling.available_steps(obj, user)}
        try:
            similar_url = reverse("complaints:case-similar", args=[obj.pk])
        except NoReverseMatch:
            similar_url = None
        today = timezone.localdate()
        return {
            "can_change_object": False, "can_delete_object": False, "steps": steps, "open_step": next(iter(forms), ""),
            "events": obj.events.select_related("by"), "notices": obj.respondent_notices.select_related("sent_by"),
            "disputes": obj.disputes.select_related("raised_by_unit", "other_unit", "escalated_to", "decided_unit"),
            "pauses": obj.pauses.all(), "today": today, "next_due": handling.next_deadline(obj),
            "identity": protection.masked(obj), "may_reveal": protection.can_view_identity(user, obj),
            "similar_url": similar_url, "real_name": handling.is_real_name(obj),
        }

    def post(self, request, *args, **kwargs):
        obj = self.get_object(CHANGE)
        slug = request.POST.get("step", "")
        if slug not in handling.available_steps(obj, request.user):
            raise PermissionDenied(_("该案件当前不能执行此操作。"))
        form = STEP_FORMS[slug](request.POST, prefix=slug, case=obj, user=request.user)
        if form.is_valid():
            try:
                handling.perform(slug, obj, request.user, **form.step_kwargs())
            except handling.CaseRefused as refused:
                _add_errors(form, refused)
            else:
                messages.success(request, _("已办理：%(step)s") % {"step": handling.STEPS[slug].label})
                if not self.restricted(VIEW).filter(pk=obj.pk).exists():
                    # Transferred out of this user's jurisdiction: back to the queue.
                    return HttpResponseRedirect(reverse("complaints:case_list"))
                return HttpResponseRedirect(reverse("complaints:case_detail", args=[obj.pk]))
        obj = self.get_object(VIEW)
        context = {**self.common_context(), "object": obj, "title": str(obj),
                   "history_url": reverse(self.url_name("history"), args=[obj.pk]),
                   **self.get_extra_context(obj, {slug: form})}
        return render(request, self.template_name, context, status=400)


def _add_errors(form, refused) -> None:
    pairs = refused.message_dict.items() if hasattr(refused, "error_dict") else [(None, refused.messages)]
    for field, errors in pairs:
        for message in errors:
            form.add_error(field if field in form.fields else None, message)


class CaseDueView(ScopedViewMixin, View):
    """Due and overdue legal deadlines of the cases in the user's scope, per unit and per officer."""

    queryset = CASE_QS
    template_name = "complaints/cases/due.html"

    def get(self, request):
        if not self.allowed(VIEW):
            raise PermissionDenied(_("您没有查看投诉举报案件的权限。"))
        user = request.user
        units = Region.objects.filter(level__in=[Region.Level.COUNTY, Region.Level.CITY])
        if user.region_prefix is not None:
            units = units.filter(region_q("code", user.region_prefix))
        officers = officers_for(user)
        unit = units.filter(pk=request.GET.get("unit") or "").first()
        raw_officer = request.GET.get("officer") or ""
        officer = user if raw_officer == "me" else officers.filter(pk=raw_officer).first() if raw_officer.isdigit() \
            else None
        lists = handling.due_lists(user, unit=unit, officer=officer)
        return render(request, self.template_name, {
            **self.common_context(), "title": _("期限提醒：即将到期与已逾期"), "lists": lists, "units": units,
            "officers": officers, "unit": unit, "officer": officer, "raw_officer": raw_officer,
            "today": timezone.localdate()})


class RespondentNoticeListView(ScopedViewMixin, View):
    """Notices to respondents. An enterprise user sees the notices addressed to its own entity — their
    text carries no reporter data (Art. 33) — and no other part of the case."""

    queryset = RespondentNotice.objects.select_related("case", "entity")
    template_name = "complaints/cases/notices.html"

    def get(self, request):
        if not self.allowed(VIEW):
            raise PermissionDenied(_("您没有查看通知的权限。"))
        notices = self.restricted(VIEW).order_by("-sent_on", "-id")[:200]
        return render(request, self.template_name, {
            "title": _("投诉举报处理通知"), "notices": notices,
            "link_cases": self.request.user.is_superuser or self.request.user.role != "enterprise"})
