"""Reward pages (issue 6, item 6) in the "complaints" namespace: ``reward_list`` (filters: status,
level, joint approval), ``reward_eligible`` (filed tip-offs with a penalty and no reward yet),
``reward_propose`` (the computation for a case, previewed line by line before it is proposed),
``reward_detail`` (the computation, the dates and the steps this user may take) and ``reward_history``.

Every step is one call to ``complaints.rewards``; a refusal is shown on the page in Chinese and
nothing is written. Officers of the case's handling unit (and above) see and act; other roles see
nothing. The reporter's identity is never read here: at most the masked form of
``complaints.protection`` is shown, as to every user without the designated permission.
"""

from __future__ import annotations

import django_filters
import django_tables2 as tables
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View

from qualitygov.complaints import rewards
from qualitygov.complaints.forms_rewards import STEP_FORMS, ProposeForm
from qualitygov.complaints.models import Case, Reward
from qualitygov.core.filtersets import BaseFilterSet
from qualitygov.core.roles import CHANGE, VIEW
from qualitygov.core.tables import BaseTable
from qualitygov.core.views import ObjectDetailView, ObjectListView, ScopedViewMixin

REWARD_QS = Reward.objects.select_related("case", "case__handling_unit", "approved_by")
REWARD_EXPORT = [("case__number", _("案件编号")), ("case__respondent_name", _("被投诉举报人名称")),
                 ("case__handling_unit__name", _("承办单位")), ("level", _("奖励等级")), ("fines", _("罚款金额（元）")),
                 ("confiscations", _("没收金额（元）")), ("amount", _("奖励金额（元）")), ("floor_applied", _("适用最低奖励")),
                 ("capped", _("适用最高限额")), ("joint_approval_required", _("需会同财政部门决定")), ("status", _("状态")),
                 ("approved_on", _("批准日期")), ("notified_on", _("告知日期")), ("claim_due_on", _("申领期限")),
                 ("paid_on", _("发放日期")), ("payment_reference", _("发放凭证号"))]


class RewardFilterSet(BaseFilterSet):
    search_fields = ("case__number__icontains", "case__respondent_name__icontains")
    status = django_filters.MultipleChoiceFilter(choices=Reward.Status.choices, label=_("状态"))
    level = django_filters.ChoiceFilter(choices=Reward.Level.choices, label=_("奖励等级"))
    joint_approval_required = django_filters.BooleanFilter(label=_("需会同财政部门决定"))

    class Meta:
        model = Reward
        fields = ["q", "status", "level", "joint_approval_required"]


class RewardTable(BaseTable):
    case = tables.Column(accessor="case__number", verbose_name=_("举报案件"),
                         linkify=("complaints:reward_detail", [tables.A("pk")]))
    respondent = tables.Column(accessor="case__respondent_name", verbose_name=_("被投诉举报人名称"))

    class Meta(BaseTable.Meta):
        model = Reward
        fields = ("case", "respondent", "level", "amount", "joint_approval_required", "status", "claim_due_on")


class RewardListView(ObjectListView):
    template_name = "complaints/rewards/list.html"
    title = _("举报奖励")


def _masked_reporter(case: Case) -> dict | None:
    """The reporter as everybody without the designated role sees it (masked), or None when the
    protection module is not there (then nothing of the reporter is shown)."""
    try:
        from qualitygov.complaints import protection
    except ImportError:
        return None
    masked = getattr(protection, "masked", None)
    return masked(case) if masked else None


def _apply_refusal(form, refused) -> None:
    for message in refused.messages:
        form.add_error(None, message)


class RewardDetailView(ObjectDetailView):
    """One reward: the computation line by line, its dates, and the steps this user may take."""

    template_name = "complaints/rewards/detail.html"

    def steps_for(self, obj) -> list[str]:
        if not rewards.can_change(self.request.user, obj.case):
            return []
        return [slug for slug, (_form, statuses, _title) in STEP_FORMS.items() if obj.status in statuses]

    def get_extra_context(self, obj, forms: dict | None = None) -> dict:
        forms = forms or {}
        steps = {slug: (STEP_FORMS[slug][2], forms.get(slug) or STEP_FORMS[slug][0](prefix=slug))
                 for slug in self.steps_for(obj)}
        return {"can_change_object": False, "can_delete_object": False, "steps": steps,
                "lines": rewards.breakdown(obj.level, obj.fines, obj.confiscations),
                "reporter": _masked_reporter(obj.case)}

    def post(self, request, *args, **kwargs):
        obj = self.get_object(VIEW)
        slug = request.POST.get("step", "")
        if slug not in self.steps_for(obj):
            raise PermissionDenied(_("不能对该奖励执行此操作。"))
        form = STEP_FORMS[slug][0](request.POST, prefix=slug)
        if not form.is_valid():
            return self._render(obj, slug, form)
        data, user = form.cleaned_data, request.user
        try:
            if slug == "approve":
                rewards.approve(obj, user, on=data["on"], finance_approved_on=data["finance_approved_on"])
            elif slug == "notify":
                rewards.notify(obj, user, on=data["on"])
            elif slug == "claim":
                rewards.claim(obj, user, on=data["on"])
            elif slug == "pay":
                rewards.pay(obj, user, reference=data["reference"], on=data["on"])
            else:
                rewards.refuse(obj, user, reason=data["reason"])
        except rewards.RewardRefused as refused:
            _apply_refusal(form, refused)
            return self._render(Reward.objects.get(pk=obj.pk), slug, form)
        messages.success(request, _("已办理：%(obj)s") % {"obj": STEP_FORMS[slug][2]})
        return HttpResponseRedirect(reverse("complaints:reward_detail", args=[obj.pk]))

    def _render(self, obj, slug, form):
        context = {**self.common_context(), "object": obj, "title": str(obj),
                   "history_url": reverse("complaints:reward_history", args=[obj.pk]),
                   **self.get_extra_context(obj, {slug: form})}
        return render(self.request, self.template_name, context, status=400)


class RewardEligibleView(ScopedViewMixin, View):
    """Filed tip-offs with a penalty linked and no reward yet, in the user's scope."""

    queryset = REWARD_QS
    template_name = "complaints/rewards/eligible.html"

    def get(self, request):
        if not self.allowed(CHANGE):
            raise PermissionDenied(_("您没有办理举报奖励的权限。"))
        cases = rewards.eligible_cases(request.user).order_by("-penalty_decided_on", "-pk")[:200]
        return render(request, self.template_name, {**self.common_context(), "cases": cases,
                                                    "title": _("可拟定奖励的举报案件")})


class RewardProposeView(ScopedViewMixin, View):
    """The reward for one filed tip-off: choose the level, see the computation, propose it."""

    queryset = REWARD_QS
    template_name = "complaints/rewards/propose.html"

    def _case(self, case_pk: int) -> Case:
        return get_object_or_404(Case.objects.restrict(self.request.user, CHANGE).select_related("handling_unit"),
                                 pk=case_pk)

    def get(self, request, case_pk: int):
        case = self._case(case_pk)
        return self._render(case, ProposeForm(initial={"level": request.GET.get("level")}))

    def post(self, request, case_pk: int):
        case = self._case(case_pk)
        form = ProposeForm(request.POST)
        if not form.is_valid():
            return self._render(case, form, status=400)
        level = form.cleaned_data["level"]
        if "propose" not in request.POST:  # "计算" previews the computation, nothing is stored
            return self._render(case, form, level=level)
        try:
            reward = rewards.propose(case, level, request.user, note=form.cleaned_data["note"])
        except rewards.RewardRefused as refused:
            _apply_refusal(form, refused)
            return self._render(case, form, level=level, status=400)
        messages.success(request, _("已拟定举报奖励：%(amount)s 元") % {"amount": f"{reward.amount:,.2f}"})
        return HttpResponseRedirect(reverse("complaints:reward_detail", args=[reward.pk]))

    def _render(self, case, form, *, level: int | None = None, status: int = 200):
        fines, confiscations = case.fine_amount, case.confiscation_amount
        context = {**self.common_context(), "case": case, "form": form, "title": _("拟定举报奖励"),
                   "existing": Reward.objects.filter(case=case).first()}
        if level is not None:
            context["result"] = rewards.compute(level, fines, confiscations)
            context["lines"] = rewards.breakdown(level, fines, confiscations)
        return render(self.request, self.template_name, context, status=status)
