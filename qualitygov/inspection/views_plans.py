"""Back-office pages of spot-check planning (issue 3, items 1–3): plans and their quotas, the random
draws of entities and inspectors, the tasks they make, the implementation-rule catalogue and the labs.

The pages are thin: rows come through ``restrict(user, action)`` (``ScopedViewMixin``), every change
goes through a service of ``inspection.planning`` (or ``inspection.draw`` for re-running a draw), and
a service's refusal is shown in its own Chinese words — beside the form it concerns, or as a message
after a button.
"""

from __future__ import annotations

import decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views import View

from qualitygov.core.models import ProductCategory, Region
from qualitygov.core.roles import ADD, CHANGE, VIEW, actions_for
from qualitygov.core.text import join_list
from qualitygov.core.views import ObjectDetailView, ObjectListView, ScopedViewMixin
from qualitygov.inspection import catalogue, draw, filtersets, planning, tables
from qualitygov.inspection.forms import DrawForm, PlanEditForm, PlanForm, QuotaForm, add_service_errors
from qualitygov.inspection.models import (
    ImplementationRule,
    InspectionPlan,
    InspectionTask,
    PlanQuota,
    RandomDraw,
    RuleVersion,
    Sample,
    TestingLab,
)
from qualitygov.registry.models import MarketEntity

# --- querysets and export columns ------------------------------------------------------------------

_MONEY = models.DecimalField(max_digits=18, decimal_places=2)
# Planned cost per plan as a correlated subquery, so the list stays one row per plan whatever is filtered.
_PLANNED_COST = Subquery(
    PlanQuota.objects.filter(plan=OuterRef("pk")).order_by().values("plan")
    .annotate(total=models.Sum(models.F("batches") * models.F("unit_cost_cny"), output_field=_MONEY))
    .values("total")[:1], output_field=_MONEY)

PLAN_QS = InspectionPlan.objects.select_related("region", "created_by").annotate(
    planned=Coalesce(_PLANNED_COST, models.Value(decimal.Decimal("0")), output_field=_MONEY))
QUOTA_QS = PlanQuota.objects.select_related("plan", "plan__region", "category", "region", "lab",
                                            "rule_version", "rule_version__rule")
TASK_QS = (InspectionTask.objects
           .select_related("quota", "quota__plan", "quota__category", "quota__region", "quota__lab",
                           "quota__rule_version", "entity", "entity__region", "entity_draw", "inspector_draw")
           .prefetch_related("inspectors"))
# The list never needs the stored inputs and outputs (up to ten thousand rows each).
DRAW_LIST_QS = RandomDraw.objects.select_related("region", "drawn_by").defer("inputs", "outputs")
DRAW_QS = RandomDraw.objects.select_related("region", "drawn_by")
RULE_QS = ImplementationRule.objects.select_related("category")
LAB_QS = (TestingLab.objects.select_related("region").prefetch_related("categories")
          .annotate(staff_count=Count("staff", distinct=True)).order_by("name"))

PLAN_EXPORT = [("code", gettext_lazy("计划编号")), ("title", gettext_lazy("计划名称")),
               ("region_id", gettext_lazy("区划代码")), ("region__name", gettext_lazy("组织单位所在区划")),
               ("period", gettext_lazy("计划周期")), ("year", gettext_lazy("年度")), ("quarter", gettext_lazy("季度")),
               ("starts_on", gettext_lazy("开始日期")), ("ends_on", gettext_lazy("结束日期")),
               ("budget_cny", gettext_lazy("预算（元）")), ("planned", gettext_lazy("计划费用（元）")),
               ("status", gettext_lazy("状态")), ("approved_on", gettext_lazy("下达日期"))]
TASK_EXPORT = [("quota__plan__code", gettext_lazy("计划编号")), ("draw_rank", gettext_lazy("抽取序号")),
               ("entity__uscc", gettext_lazy("统一社会信用代码")), ("entity__name", pgettext_lazy("field", "市场主体")),
               ("entity__region_id", gettext_lazy("区划代码")), ("entity__region__name", gettext_lazy("所在区划")),
               ("quota__category_id", gettext_lazy("类别代码")), ("quota__category__name", gettext_lazy("产品类别")),
               ("quota__stage", gettext_lazy("抽样环节")), ("quota__lab__name", gettext_lazy("承检机构")),
               ("status", gettext_lazy("状态"))]
DRAW_EXPORT = [("drawn_at", gettext_lazy("抽取时间")), ("title", gettext_lazy("名称")), ("kind", gettext_lazy("抽取类型")),
               ("region_id", gettext_lazy("区划代码")), ("seed", gettext_lazy("随机种子")),
               ("algorithm", gettext_lazy("算法版本")), ("candidate_count", gettext_lazy("候选数量")),
               ("candidate_digest", gettext_lazy("候选集合摘要（SHA-256）")),
               ("outputs_digest", gettext_lazy("结果摘要（SHA-256）")), ("drawn_by__username", gettext_lazy("抽取人")),
               ("published", gettext_lazy("已公开"))]
RULE_EXPORT = [("code", gettext_lazy("细则编号")), ("title", gettext_lazy("细则名称")),
               ("category_id", gettext_lazy("类别代码")), ("category__name", gettext_lazy("产品类别")),
               ("issuer", gettext_lazy("发布单位")), ("version_in_force", gettext_lazy("现行版本")),
               ("in_force_since", gettext_lazy("实施日期"))]
LAB_EXPORT = [("name", gettext_lazy("机构名称")), ("accreditation_no", gettext_lazy("资质认定证书编号（CMA）")),
              ("region_id", gettext_lazy("区划代码")), ("region__name", gettext_lazy("所在区划")),
              ("staff_count", gettext_lazy("检验人员数")), ("active", gettext_lazy("有效"))]


def _optional_url(name: str, *args, query: str = "") -> str | None:
    """The URL of a page another part of the module provides, or None while it does not exist."""
    try:
        return reverse(name, args=args) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return None


def _may(user, model, action: str) -> bool:
    return user.is_superuser or action in actions_for(user.role, model)


def _scoped_exists(model, user, action: str, pk) -> bool:
    """Whether the record ``pk`` is inside the user's scope for ``action``."""
    return model.objects.restrict(user, action).filter(pk=pk).exists()


def _service_error_text(exc: ValidationError) -> str:
    return " ".join(str(message) for message in exc.messages)


class DetailPage(ObjectDetailView):
    """A detail page that can also be re-rendered by a POST (with a bound form or a result)."""

    def get(self, request, *args, **kwargs):
        return self.render_page(self.get_object(VIEW))

    def render_page(self, obj, status: int = 200, **extra):
        meta = self.model._meta
        context = {
            **self.common_context(),
            "object": obj,
            "title": str(obj),
            # Only pages that have an edit page offer the edit button (the template reverses its URL).
            "can_change_object": (self._has_url("edit") and self.allowed(CHANGE)
                                  and self.restricted(CHANGE).filter(pk=obj.pk).exists()),
            "can_delete_object": False,
            "history_url": reverse(self.url_name("history"), args=[obj.pk]),
            "detail_url": reverse(self.url_name("detail"), args=[obj.pk]),
            **self.get_extra_context(obj),
            **extra,
        }
        return render(self.request, self.template_name or f"{meta.app_label}/{meta.model_name}_detail.html",
                      context, status=status)


# --- plans -----------------------------------------------------------------------------------------

class PlanListView(ObjectListView):
    queryset = PLAN_QS
    filterset_class = filtersets.InspectionPlanFilterSet
    table_class = tables.InspectionPlanTable
    export_columns = PLAN_EXPORT


class PlanDetailView(DetailPage):
    """A plan: its facts, budget against planned cost, quotas with their rule version and lab, the tasks
    each quota's draw made, and the actions the user may take at this stage."""

    queryset = PLAN_QS
    template_name = "inspection/plan_detail.html"

    quota_form = None  # a bound quota form to show again with the service's refusal

    def get_extra_context(self, plan) -> dict:
        user = self.request.user
        quota_form = self.quota_form
        can_change = self.allowed(CHANGE) and _scoped_exists(InspectionPlan, user, CHANGE, plan.pk)
        is_draft = plan.status == InspectionPlan.Status.DRAFT
        is_approved = plan.status == InspectionPlan.Status.APPROVED
        pending = Q(tasks__status=InspectionTask.Status.ASSIGNED, tasks__inspector_draw__isnull=True)
        quotas = list(QUOTA_QS.restrict(user, VIEW).filter(plan=plan)
                      .annotate(task_count=Count("tasks", distinct=True),
                                awaiting_inspectors=Count("tasks", filter=pending, distinct=True)))
        tasks_by_quota: dict[int, list] = {}
        for task in TASK_QS.restrict(user, VIEW).filter(quota__plan=plan).order_by("quota_id", "draw_rank"):
            tasks_by_quota.setdefault(task.quota_id, []).append(task)
        for quota in quotas:
            quota.task_list = tasks_by_quota.get(quota.pk, [])
            quota.entity_draw_id = next((t.entity_draw_id for t in quota.task_list), None)
            quota.can_draw = can_change and is_approved and quota.task_count == 0
            quota.can_draw_inspectors = can_change and is_approved and quota.awaiting_inspectors > 0
        cost = planning.planned_cost(plan)
        may_add_quota = can_change and is_draft and _may(user, PlanQuota, ADD)
        if quota_form is None and may_add_quota:
            quota_form = QuotaForm(plan=plan, user=user)
        budget = plan.budget_cny
        return {
            "quotas": quotas,
            "planned_cost": cost,
            "remaining": budget - cost,
            "used_percent": int(cost * 100 / budget) if budget else (100 if cost else 0),
            "over_budget": cost > budget,
            "can_change_plan": can_change,
            "can_change_object": can_change and is_draft,
            "can_edit": can_change and is_draft,
            "can_approve": can_change and is_draft,
            "can_close": can_change and is_approved,
            # A posted form is shown again even when the plan has meanwhile been issued, so its refusal is seen.
            "quota_form": quota_form if may_add_quota or self.quota_form is not None else None,
            "draw_form": DrawForm(),
            "task_list_url": reverse("inspection:inspectiontask_list") + f"?plan={plan.pk}",
        }


class PlanCreateView(ScopedViewMixin, View):
    """A new draft plan of the user's unit (``planning.create_plan``)."""

    queryset = InspectionPlan.objects.all()
    template_name = "inspection/plan_form.html"

    def _check(self):
        if not self.allowed(ADD):
            raise PermissionDenied(_("您没有制定抽查计划的权限。"))

    def get(self, request, *args, **kwargs):
        self._check()
        return self._render(PlanForm(user=request.user, initial=request.GET.dict()))

    def post(self, request, *args, **kwargs):
        self._check()
        form = PlanForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                plan = planning.create_plan(user=request.user, **form.service_kwargs())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("已创建抽查计划 %(code)s（草稿），请添加任务分配。") % {"code": plan.code})
                return HttpResponseRedirect(reverse("inspection:inspectionplan_detail", args=[plan.pk]))
        return self._render(form, status=400)

    def _render(self, form, status=200):
        return render(self.request, self.template_name, {
            **self.common_context(), "form": form, "object": None, "title": _("新建抽查计划"),
            "cancel_url": reverse("inspection:inspectionplan_list")}, status=status)


class PlanEditView(ScopedViewMixin, View):
    """Changes to a draft plan; an issued plan is not edited."""

    queryset = InspectionPlan.objects.select_related("region")
    template_name = "inspection/plan_form.html"

    def _plan(self):
        plan = self.get_object(CHANGE)
        if plan.status != InspectionPlan.Status.DRAFT:
            raise PermissionDenied(_("计划 %(code)s 已下达，不能再修改。") % {"code": plan.code})
        return plan

    def get(self, request, *args, **kwargs):
        plan = self._plan()
        return self._render(PlanEditForm(instance=plan, user=request.user), plan)

    def post(self, request, *args, **kwargs):
        plan = self._plan()
        form = PlanEditForm(request.POST, instance=plan, user=request.user)
        if form.is_valid():
            try:
                saved = form.save_through_service()
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("已保存：%(obj)s") % {"obj": saved})
                return HttpResponseRedirect(reverse("inspection:inspectionplan_detail", args=[saved.pk]))
        return self._render(form, self._plan(), status=400)

    def _render(self, form, plan, status=200):
        return render(self.request, self.template_name, {
            **self.common_context(), "form": form, "object": plan, "title": _("编辑：%(obj)s") % {"obj": plan},
            "cancel_url": reverse("inspection:inspectionplan_detail", args=[plan.pk])}, status=status)


class QuotaAddView(PlanDetailView):
    """POST a quota to a draft plan (``planning.add_quota``); a refusal re-renders the plan page with
    the message beside the quota form, and nothing is written."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        plan = self.get_object(CHANGE)
        if not _may(request.user, PlanQuota, ADD):
            raise PermissionDenied(_("您没有分配抽查任务的权限。"))
        form = QuotaForm(request.POST, plan=plan, user=request.user)
        if form.is_valid():
            try:
                quota = planning.add_quota(plan, user=request.user, **form.service_kwargs())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("已添加任务分配：%(quota)s。") % {"quota": quota})
                return HttpResponseRedirect(reverse("inspection:inspectionplan_detail", args=[plan.pk]) + "#quotas")
        self.quota_form = form
        return self.render_page(plan, status=400)


class PlanActionView(ScopedViewMixin, View):
    """A POST button on a plan that calls one service; the refusal, if any, comes back as a message."""

    queryset = InspectionPlan.objects.select_related("region")
    http_method_names = ["post"]

    def act(self, plan) -> str:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        plan = self.get_object(CHANGE)
        try:
            with transaction.atomic():
                done = self.act(plan)
        except ValidationError as exc:
            messages.error(request, _service_error_text(exc))
        else:
            messages.success(request, done)
        return HttpResponseRedirect(reverse("inspection:inspectionplan_detail", args=[plan.pk]))


class PlanApproveView(PlanActionView):
    def act(self, plan) -> str:
        planning.approve_plan(plan, user=self.request.user)
        return _("已下达抽查计划 %(code)s，可以抽取检查对象。") % {"code": plan.code}


class PlanCloseView(PlanActionView):
    def act(self, plan) -> str:
        planning.close_plan(plan, user=self.request.user)
        return _("抽查计划 %(code)s 已办结。") % {"code": plan.code}


class QuotaDrawView(ScopedViewMixin, View):
    """抽取检查对象: draw a quota's entities (``planning.draw_quota``) with the posted seed or a fresh one."""

    queryset = QUOTA_QS
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        quota = self.get_object(CHANGE)
        form = DrawForm(request.POST)
        target = reverse("inspection:inspectionplan_detail", args=[quota.plan_id]) + f"#quota-{quota.pk}"
        if not form.is_valid():
            messages.error(request, _("随机种子：%(error)s") % {"error": " ".join(form.errors["seed"])})
            return HttpResponseRedirect(target)
        try:
            outcome = self.draw(quota, form.cleaned_data["seed"])
        except ValidationError as exc:
            messages.error(request, _service_error_text(exc))
        else:
            messages.success(request, self.done_message(*outcome))
        return HttpResponseRedirect(target)

    def draw(self, quota, seed):
        return planning.draw_quota(quota, user=self.request.user, seed=seed)

    def done_message(self, record, tasks) -> str:
        return _("已抽取 %(n)d 户检查对象（随机种子 %(seed)d），抽取记录已保存。") % {"n": len(tasks), "seed": record.seed}


class QuotaInspectorDrawView(QuotaDrawView):
    """抽取抽样人员: draw samplers for every open task of the quota (``planning.draw_quota_inspectors``)."""

    def draw(self, quota, seed):
        seed = draw.new_seed() if seed is None else seed
        return seed, planning.draw_quota_inspectors(quota, user=self.request.user, seed=seed)

    def done_message(self, seed, drawn) -> str:
        if not drawn:
            return _("没有需要抽取抽样人员的待抽样任务。")
        return _("已为 %(n)d 项任务抽取抽样人员（随机种子 %(seed)d）。") % {"n": drawn, "seed": seed}


# --- draws -----------------------------------------------------------------------------------------

class DrawListView(ObjectListView):
    queryset = DRAW_LIST_QS
    filterset_class = filtersets.RandomDrawFilterSet
    table_class = tables.RandomDrawTable
    export_columns = DRAW_EXPORT


def _region_label(code_or_prefix: str | None) -> str:
    if not code_or_prefix:
        return _("不限")
    code = code_or_prefix.ljust(6, "0")
    region = Region.objects.filter(pk=code).first()
    return f"{region.full_name}（{code_or_prefix}）" if region else code_or_prefix


def _level_label(level: str | None) -> str:
    try:
        return str(Region.Level(level).label)
    except ValueError:
        return level or ""


def input_rows(record: RandomDraw, user) -> list[tuple[str, str, bool]]:
    """(label, text, is_code) rows that say in Chinese what a stored draw was drawn from; codes and
    digests are shown in a fixed-width font."""
    inputs = record.inputs or {}
    rows: list[tuple[str, str]] = [(_("抽取类型"), record.get_kind_display())]
    codes_rows = [(_("随机种子"), str(record.seed)), (_("算法版本"), record.algorithm)]
    if record.kind == RandomDraw.Kind.ENTITIES:
        codes = inputs.get("categories") or []
        names = dict(ProductCategory.objects.filter(code__in=codes).values_list("code", "name"))
        statuses = dict(MarketEntity.Status.choices)
        ratios = inputs.get("class_ratios") or {}
        rows += [
            (_("抽取数量"), str(inputs.get("count", ""))),
            (_("产品类别"), join_list(f"{code} {names.get(code, '')}".strip() for code in codes) or _("不限")),
            (_("区域"), _region_label(inputs.get("region_prefix"))),
            (_("登记状态"), join_list(str(statuses.get(s, s)) for s in inputs.get("statuses") or [])),
            (_("信用风险类别抽取比例"), join_list(_("%(cls)s 类 %(value)s") % {"cls": cls, "value": f"{weight:g}"}
                                           for cls, weight in ratios.items())),
            (_("信用风险分类来源"), inputs.get("risk_classes") or _("未接入信用分类（全部按 B 类）")),
            (_("六个月内已抽查排除期起始日"), inputs.get("exclude_sampled_since") or "—"),
            (_("排除的市场主体"), _("%(n)d 户（六个月内已被抽查或上级已安排抽查）")
             % {"n": len(inputs.get("exclude_entity_ids") or [])}),
            (_("候选数量"), str(record.candidate_count)),
            (_("候选信用风险类别分布"), join_list(_("%(cls)s 类 %(value)s") % {"cls": cls, "value": n} for cls, n in
                                          (inputs.get("candidate_classes") or {}).items()) or "—"),
        ]
    else:
        entity_ids = inputs.get("entity_ids") or []
        entities = MarketEntity.objects.restrict(user, VIEW).filter(pk__in=entity_ids).values_list("uscc", "name")
        rows += [
            (_("任务标识"), inputs.get("task_key", "")),
            (_("抽取人数"), str(inputs.get("count", ""))),
            (_("检查人员库区划"), _region_label(inputs.get("pool_region"))),
            (_("被抽查市场主体"), join_list(f"{name}（{uscc}）" for uscc, name in entities)
             or join_list(str(pk) for pk in entity_ids)),
            (_("同一区划回避"), _("%(region)s，按%(level)s比较") % {
                "region": _region_label(inputs.get("exclude_same_region_as")),
                "level": _level_label(inputs.get("region_level"))} if inputs.get("exclude_same_region_as")
             else _("未启用")),
            (_("承担检验的人员"), _("%(n)d 名（回避）") % {"n": len(inputs.get("testers") or [])}),
            (_("申报利益关系"), _("%(n)d 项（回避）") % {"n": len(inputs.get("declared_conflicts") or [])}),
            (_("候选数量"), str(record.candidate_count)),
        ]
    digests = [(_("候选集合摘要（SHA-256）"), record.candidate_digest), (_("结果摘要（SHA-256）"), record.outputs_digest)]
    return ([(label, value, False) for label, value in rows[:1]] + [(label, value, True) for label, value in codes_rows]
            + [(label, value, False) for label, value in rows[1:]] + [(label, value, True) for label, value in digests])


EXCLUSION_LABELS = {"tester": gettext_lazy("承担检验"), "same_region": gettext_lazy("与被抽查主体同一区划"),
                    "declared_conflict": gettext_lazy("申报利益关系")}


class DrawDetailView(DetailPage):
    """A stored draw: every input, the drawn list in order, re-run, publish and JSON download."""

    queryset = DRAW_QS
    template_name = "inspection/draw_detail.html"

    def get_extra_context(self, record) -> dict:
        user = self.request.user
        outputs = record.outputs or {}
        items = outputs.get("items") or []
        if record.kind == RandomDraw.Kind.ENTITIES:
            tasks = dict(InspectionTask.objects.restrict(user, VIEW).filter(entity_draw=record)
                         .values_list("entity_id", "pk"))
            for item in items:
                task_pk = tasks.get(item.get("entity_id"))
                item["task_url"] = reverse("inspection:inspectiontask_detail", args=[task_pk]) if task_pk else None
        excluded = [(EXCLUSION_LABELS.get(reason, reason), names)
                    for reason, names in (outputs.get("excluded") or {}).items() if names]
        return {
            "input_rows": input_rows(record, user),
            "items": items,
            "notes": outputs.get("notes") or [],
            "excluded": excluded,
            "is_entity_draw": record.kind == RandomDraw.Kind.ENTITIES,
            "can_publish": self.allowed(CHANGE) and _scoped_exists(RandomDraw, user, CHANGE, record.pk),
            "json_url": reverse("inspection:randomdraw_json", args=[record.pk]),
            "rerun_url": reverse("inspection:randomdraw_rerun", args=[record.pk]),
        }


class DrawRerunView(DrawDetailView):
    """重新运行核验: run the stored draw again from its inputs and compare; the record is not touched."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        record = self.get_object(VIEW)
        _result, identical, differences = draw.rerun_draw(record)
        rerun = {"identical": identical, "differences": differences, "at": timezone.now()}
        if request.htmx:
            return render(request, "inspection/draw_rerun.html", {"rerun": rerun})
        return self.render_page(record, rerun=rerun)


class DrawPublishView(ScopedViewMixin, View):
    """公开 / 取消公开 a draw record (officers of its unit); the change is audited by ``save``."""

    queryset = RandomDraw.objects.all()
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        record = self.get_object(CHANGE)
        wanted = request.POST.get("published")
        published = (wanted in ("1", "true", "on")) if wanted is not None else not record.published
        try:
            planning.set_draw_published(record, user=request.user, published=published)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("抽取记录已公开。") if record.published else _("抽取记录已取消公开。"))
        return HttpResponseRedirect(reverse("inspection:randomdraw_detail", args=[record.pk]))


class DrawJsonView(ScopedViewMixin, View):
    """The whole record as JSON (inputs and outputs), so that anyone can re-run the draw offline with
    the published formula (``qualitygov.inspection.draw``)."""

    queryset = DRAW_QS

    def get(self, request, *args, **kwargs):
        record = self.get_object(VIEW)
        body = {
            "id": record.pk, "kind": record.kind, "title": record.title, "region": record.region_id,
            "seed": record.seed, "algorithm": record.algorithm, "drawn_at": record.drawn_at.isoformat(),
            "drawn_by": record.drawn_by.username if record.drawn_by else None, "published": record.published,
            "candidate_count": record.candidate_count, "candidate_digest": record.candidate_digest,
            "outputs_digest": record.outputs_digest, "inputs": record.inputs, "outputs": record.outputs,
            "method": _("每个候选的随机数 u = BLAKE2b-64（密钥为种子的十进制数字，数据为统一社会信用代码或“任务标识\\x1f用户名”）"
                        "取高 53 位；检查对象按 u^(1/权重) 从大到小取前 N 个（Efraimidis–Spirakis A-Res），"
                        "检查人员按 u 从大到小取前 N 名。候选集合摘要为按字节序排序的标识逐行（换行结尾）的 SHA-256。"),
        }
        response = JsonResponse(body, json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = f'attachment; filename="random-draw-{record.pk}.json"'
        return response


# --- tasks -----------------------------------------------------------------------------------------

class TaskListView(ObjectListView):
    """Tasks in the user's scope; an inspector's own tasks come first (and ``?mine=1`` shows only them)."""

    queryset = TASK_QS
    filterset_class = filtersets.InspectionTaskFilterSet
    table_class = tables.InspectionTaskTable
    export_columns = TASK_EXPORT

    def restricted(self, action=None):
        through = InspectionTask.inspectors.through
        mine = Exists(through.objects.filter(inspectiontask_id=OuterRef("pk"), user_id=self.request.user.pk))
        return (super().restricted(action).annotate(is_mine=mine)
                .order_by("-is_mine", "-quota__plan__year", "quota__plan__code", "quota_id", "draw_rank"))


class TaskDetailView(DetailPage):
    """A task: the drawn entity, its quota, the drawn samplers, and the way on to the sampling record."""

    queryset = TASK_QS
    template_name = "inspection/task_detail.html"

    def get_extra_context(self, task) -> dict:
        user = self.request.user
        is_open = task.status == InspectionTask.Status.ASSIGNED
        sample = Sample.objects.restrict(user, VIEW).filter(task=task).only("pk", "number").first()
        may_sample = is_open and sample is None and _may(user, Sample, ADD)
        can_draw = (is_open and task.inspector_draw_id is None and self.allowed(CHANGE)
                    and _scoped_exists(InspectionPlan, user, CHANGE, task.quota.plan_id))
        return {
            "inspectors": list(task.inspectors.all()),
            "sample": sample,
            "sample_url": _optional_url("inspection:sample_detail", sample.pk) if sample else None,
            "sample_add_url": _optional_url("inspection:sample_add", query=f"task={task.pk}") if may_sample else None,
            "refusal_add_url": (_optional_url("inspection:sample_refusal_add", query=f"task={task.pk}")
                                if may_sample else None),
            "can_draw_inspectors": can_draw,
            "draw_form": DrawForm(),
            "plan_visible": _scoped_exists(InspectionPlan, user, VIEW, task.quota.plan_id),
            "entity_url": (task.entity.get_absolute_url()
                           if _scoped_exists(MarketEntity, user, VIEW, task.entity_id) else None),
        }


class TaskInspectorDrawView(ScopedViewMixin, View):
    """Draw the samplers of one task (``planning.draw_task_inspectors``), e.g. after a quota-wide draw
    could not staff it."""

    queryset = TASK_QS
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        task = self.get_object(VIEW)
        if not _scoped_exists(InspectionPlan, request.user, CHANGE, task.quota.plan_id):
            raise PermissionDenied(_("只有计划组织单位可以抽取抽样人员。"))
        form = DrawForm(request.POST)
        target = reverse("inspection:inspectiontask_detail", args=[task.pk])
        if not form.is_valid():
            messages.error(request, _("随机种子：%(error)s") % {"error": " ".join(form.errors["seed"])})
            return HttpResponseRedirect(target)
        try:
            record = planning.draw_task_inspectors(task, user=request.user, seed=form.cleaned_data["seed"])
        except ValidationError as exc:
            messages.error(request, _service_error_text(exc))
        else:
            messages.success(request, _("已抽取抽样人员（随机种子 %(seed)d）。") % {"seed": record.seed})
        return HttpResponseRedirect(target)


# --- catalogue and labs ------------------------------------------------------------------------------

def _in_force_today(field: str):
    """One field of each rule's version in force today, as ``catalogue.rule_in_force`` chooses it:
    published (not a draft), started, not ended, the latest start first."""
    today = timezone.localdate()
    return Subquery(RuleVersion.objects.filter(rule=OuterRef("pk"), effective_from__lte=today)
                    .exclude(status=RuleVersion.Status.DRAFT)
                    .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=today))
                    .order_by("-effective_from").values(field)[:1])


class RuleListView(ObjectListView):
    queryset = RULE_QS
    filterset_class = filtersets.ImplementationRuleFilterSet
    table_class = tables.ImplementationRuleTable
    export_columns = RULE_EXPORT

    def restricted(self, action=None):
        # Today's version, computed per request (not at import) and in the database for the whole page.
        return super().restricted(action).annotate(version_in_force=_in_force_today("label"),
                                                   in_force_since=_in_force_today("effective_from"))


class RuleDetailView(DetailPage):
    """A rule with every version and each version's test items."""

    queryset = RULE_QS
    template_name = "inspection/rule_detail.html"

    def get_extra_context(self, rule) -> dict:
        try:
            in_force = catalogue.rule_in_force(rule.category_id, timezone.localdate())
        except catalogue.NoRuleInForce:
            in_force = None
        versions = list(rule.versions.prefetch_related("items").order_by("-effective_from"))
        return {"versions": versions, "in_force": in_force}


class LabListView(ObjectListView):
    queryset = LAB_QS
    filterset_class = filtersets.TestingLabFilterSet
    table_class = tables.TestingLabTable
    export_columns = LAB_EXPORT


class LabDetailView(DetailPage):
    queryset = LAB_QS
    template_name = "inspection/lab_detail.html"

    def get_extra_context(self, lab) -> dict:
        user = self.request.user
        plans = (InspectionPlan.objects.restrict(user, VIEW)
                 .filter(Q(labs=lab) | Q(quotas__lab=lab)).distinct().select_related("region")
                 .order_by("-year", "code")[:20])
        return {"categories": list(lab.categories.all()), "plans": plans}
