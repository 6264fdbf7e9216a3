"""Spot-check workflow API (issue 3, items 2–8): plans, quotas and draws, tasks and samples, lab
results, follow-up (notice, receipt, objection, rectification, Art. 17 escalation), labs and rules.

Thin over the services (``planning``, ``draw``, ``samples``, ``results``, ``followup``): every write
goes through them, inside one transaction, and a refusal is answered with 400 in the API's error
shape — ``code`` is the service's machine code (``over_budget``, ``objection_late``, ``missing``…),
``message`` the Chinese reason, ``details`` the per-field or per-item reasons. Nothing is written
on refusal.

Scope: every queryset goes through ``restrict()``. A step that writes one kind of record from
another's endpoint (an enterprise files an objection from its sample) is allowed by the role table
of the record it writes (``ActionRule.model``/``action``), on an object found within the scope
``ActionRule.scope`` of the endpoint's own model.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.db.models import F, Prefetch, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from qualitygov.core.api import error_body
from qualitygov.core.api_permissions import RolePermission, action_for_request
from qualitygov.core.models import ProductCategory, Region, User
from qualitygov.core.roles import ADD, CHANGE, OFFICER_ROLES, VIEW, Role, actions_for
from qualitygov.core.text import join_list
from qualitygov.inspection import draw as draw_service
from qualitygov.inspection import filtersets, followup, planning, results, samples
from qualitygov.inspection.models import (
    CustodyEvent,
    Enforcement,
    ImplementationRule,
    InspectionPlan,
    InspectionTask,
    ItemResult,
    Objection,
    PlanQuota,
    RandomDraw,
    Rectification,
    RuleVersion,
    Sample,
    SampleAttachment,
    Stage,
    TestingLab,
    TestItem,
    TestReport,
)
from qualitygov.registry.models import Product

__all__ = [
    "PlanViewSet", "QuotaViewSet", "DrawViewSet", "TaskViewSet", "SampleViewSet", "ObjectionViewSet",
    "RectificationViewSet", "LabViewSet", "RuleViewSet", "StatisticsView", "refusal_response",
]


# --- refusals -------------------------------------------------------------------------------------

def _refusal_code(exc: DjangoValidationError) -> str:
    """The service's machine code of a refusal.

    Django keeps ``code`` only on single-message errors; a refusal given per field
    (``PlanRefused({"quarter": …}, code="quarter")``) still carries it in ``args[1]``. A list of
    per-item problems (``catalogue.ResultsRefused``) has one code per problem: the code when they
    agree, else ``results_refused``.
    """
    code = getattr(exc, "code", None)
    if not code and len(exc.args) > 1 and isinstance(exc.args[1], str):
        code = exc.args[1]
    if code:
        return code
    errors = [e for errors in exc.error_dict.values() for e in errors] if hasattr(exc, "error_dict") \
        else list(exc.error_list)
    codes = {e.code for e in errors if getattr(e, "code", None)}
    if len(codes) == 1:
        return codes.pop()
    return "results_refused" if codes else "invalid"


def refusal_response(exc: DjangoValidationError) -> Response:
    """400 in the API's error shape for a service's refusal, keeping its code and Chinese reasons."""
    if hasattr(exc, "error_dict"):
        details = {("non_field_errors" if key == NON_FIELD_ERRORS else key): [str(m) for m in messages]
                   for key, messages in exc.message_dict.items()}
    else:
        details = {"non_field_errors": [str(m) for m in exc.messages]}
    messages = [str(m) for m in exc.messages]
    if len(messages) == 1:
        message = messages[0]
    else:
        message = _("%(first)s（另有 %(more)d 处问题，见 details）") % {"first": messages[0], "more": len(messages) - 1}
    return Response(error_body(400, _refusal_code(exc), message, details), status=status.HTTP_400_BAD_REQUEST)


class ApiErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField(help_text=gettext_lazy("机器可读的原因代码，如 over_budget、objection_late、missing。"))
    message = serializers.CharField(help_text=gettext_lazy("中文说明。"))
    details = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                    help_text=gettext_lazy("按字段或检验项目代码列出的原因。"))


class ApiErrorSerializer(serializers.Serializer):
    error = ApiErrorBodySerializer()


REFUSED = OpenApiResponse(ApiErrorSerializer, description=gettext_lazy("不符合规则，未写入任何数据"))


# --- permission and scope -------------------------------------------------------------------------

class ActionRule(NamedTuple):
    """Who may take a step: the role table of ``model`` must allow ``action``; the object acted on is
    looked up within ``scope`` (an action of the viewset's own model)."""

    model: type[models.Model]
    action: str
    scope: str


class WorkflowPermission(RolePermission):
    """``RolePermission``, with the view's ``action_rules`` deciding its extra steps."""

    def has_permission(self, request, view):
        rule = getattr(view, "action_rules", {}).get(getattr(view, "action", None))
        if rule is None:
            return super().has_permission(request, view)
        user = request.user
        if not user or not user.is_authenticated or not user.is_active:
            return False
        return user.is_superuser or rule.action in actions_for(user.role, rule.model)


class WorkflowViewSet(viewsets.ReadOnlyModelViewSet):
    """Read-only endpoints plus service-backed steps; scope always through ``restrict()``."""

    permission_classes = [WorkflowPermission]
    action_rules: dict[str, ActionRule] = {}
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        rule = self.action_rules.get(self.action)
        scope = rule.scope if rule else action_for_request(self.request)
        return super().get_queryset().restrict(self.request.user, scope)

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            return refusal_response(exc)
        return super().handle_exception(exc)

    def input(self, serializer_class, **kwargs) -> dict:
        """The request body validated by ``serializer_class`` (shape only; the rules are the services')."""
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def acting_date(self, value: dt.date | None, field: str = "on") -> dt.date:
        """The date a step is recorded on: an enterprise acts today; an officer may record the date
        of a paper document, never a future one."""
        today = timezone.localdate()
        if value is None or self.request.user.role == Role.ENTERPRISE:
            return today
        if value > today:
            raise serializers.ValidationError({field: [_("日期不能晚于今天。")]})
        return value


# --- shared output serializers --------------------------------------------------------------------

class UserBriefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True, label=gettext_lazy("姓名"))

    class Meta:
        model = User
        fields = ["id", "username", "name"]
        read_only_fields = fields


def _username(label) -> serializers.SlugRelatedField:
    """A user shown by username (the field's own name is the user foreign key)."""
    return serializers.SlugRelatedField(slug_field="username", read_only=True, label=label)


# --- labs and rules -------------------------------------------------------------------------------

class LabSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True, label=gettext_lazy("区划名称"))
    categories = serializers.SlugRelatedField(many=True, slug_field="code", read_only=True,
                                              label=gettext_lazy("检验能力范围（类别代码）"))

    class Meta:
        model = TestingLab
        fields = ["id", "name", "accreditation_no", "region", "region_name", "categories", "active"]
        read_only_fields = fields


class TestItemSerializer(serializers.ModelSerializer):
    limit_text = serializers.CharField(read_only=True, label=gettext_lazy("限值"))

    class Meta:
        model = TestItem
        fields = ["id", "sequence", "code", "name", "item_class", "standard", "clause", "requirement", "limit_kind",
                  "limit_min", "limit_max", "unit", "alternative_units", "method_standard", "limit_text"]
        read_only_fields = fields


class RuleVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RuleVersion
        fields = ["id", "label", "effective_from", "effective_to", "status", "test_sample_count", "spare_sample_count",
                  "sample_unit", "sampling_notes", "used"]
        read_only_fields = fields


class RuleVersionDetailSerializer(RuleVersionSerializer):
    items = TestItemSerializer(many=True, read_only=True, label=gettext_lazy("检验项目"))

    class Meta(RuleVersionSerializer.Meta):
        fields = [*RuleVersionSerializer.Meta.fields, "items"]
        read_only_fields = fields


class RuleSerializer(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True, label=gettext_lazy("类别名称"))
    versions = RuleVersionSerializer(many=True, read_only=True, label=gettext_lazy("版本"))

    class Meta:
        model = ImplementationRule
        fields = ["id", "code", "title", "category", "category_name", "issuer", "source", "versions"]
        read_only_fields = fields


class RuleDetailSerializer(RuleSerializer):
    versions = RuleVersionDetailSerializer(many=True, read_only=True, label=gettext_lazy("版本（含检验项目）"))


# --- plans, quotas, draws, tasks ------------------------------------------------------------------

class QuotaSerializer(serializers.ModelSerializer):
    plan_code = serializers.CharField(source="plan.code", read_only=True, label=gettext_lazy("计划编号"))
    category_name = serializers.CharField(source="category.name", read_only=True, label=gettext_lazy("类别名称"))
    region_name = serializers.CharField(source="region.name", read_only=True, label=gettext_lazy("区划名称"))
    lab_name = serializers.CharField(source="lab.name", read_only=True, label=gettext_lazy("承检机构名称"))
    rule_version_label = serializers.CharField(source="rule_version.label", read_only=True,
                                               label=gettext_lazy("细则版本号"))
    planned_cost = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True,
                                            label=gettext_lazy("计划费用（元）"))

    class Meta:
        model = PlanQuota
        fields = ["id", "plan", "plan_code", "category", "category_name", "region", "region_name", "stage", "batches",
                  "unit_cost_cny", "planned_cost", "lab", "lab_name", "rule_version", "rule_version_label", "created"]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True, label=gettext_lazy("区划名称"))
    level = serializers.CharField(source="region.level", read_only=True, label=gettext_lazy("层级"))
    planned_cost = serializers.DecimalField(source="planned_total", max_digits=18, decimal_places=2, read_only=True,
                                            label=gettext_lazy("计划费用（元）"))
    created_by = _username(gettext_lazy("制定人"))

    class Meta:
        model = InspectionPlan
        fields = ["id", "code", "title", "region", "region_name", "level", "period", "year", "quarter", "starts_on",
                  "ends_on", "budget_cny", "planned_cost", "status", "labs", "notes", "created_by", "approved_on",
                  "created", "updated"]
        read_only_fields = fields


class PlanDetailSerializer(PlanSerializer):
    quotas = QuotaSerializer(many=True, read_only=True, label=gettext_lazy("任务分配"))

    class Meta(PlanSerializer.Meta):
        fields = [*PlanSerializer.Meta.fields, "quotas"]
        read_only_fields = fields


class PlanCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, label=gettext_lazy("计划名称"))
    period = serializers.ChoiceField(choices=InspectionPlan.Period.choices, label=gettext_lazy("计划周期"))
    year = serializers.IntegerField(min_value=2000, max_value=2100, label=gettext_lazy("年度"))
    quarter = serializers.IntegerField(required=False, allow_null=True, label=gettext_lazy("季度"))
    starts_on = serializers.DateField(label=gettext_lazy("开始日期"))
    ends_on = serializers.DateField(label=gettext_lazy("结束日期"))
    budget_cny = serializers.DecimalField(max_digits=14, decimal_places=2, label=gettext_lazy("预算（元）"))
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(), required=False,
                                          label=gettext_lazy("组织单位区划代码"),
                                          help_text=gettext_lazy("默认本单位；只有省级管理员可指定其他区划。"))
    labs = serializers.PrimaryKeyRelatedField(many=True, queryset=TestingLab.objects.all(), required=False,
                                              label=gettext_lazy("承检机构"))
    notes = serializers.CharField(required=False, allow_blank=True, default="", label=gettext_lazy("说明"))


class QuotaCreateSerializer(serializers.Serializer):
    category = serializers.SlugRelatedField(slug_field="code", queryset=ProductCategory.objects.all(),
                                            label=gettext_lazy("产品类别代码"))
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(),
                                          label=gettext_lazy("抽样区域代码"))
    batches = serializers.IntegerField(label=gettext_lazy("批次数"))
    unit_cost_cny = serializers.DecimalField(max_digits=12, decimal_places=2, label=gettext_lazy("每批次费用（元）"))
    lab = serializers.PrimaryKeyRelatedField(queryset=TestingLab.objects.all(), label=gettext_lazy("承检机构"))
    stage = serializers.ChoiceField(choices=Stage.choices, default=Stage.PRODUCTION, label=gettext_lazy("抽样环节"))


class SeedSerializer(serializers.Serializer):
    seed = serializers.IntegerField(min_value=0, max_value=2 ** 63 - 1, required=False, allow_null=True,
                                    label=gettext_lazy("随机种子"),
                                    help_text=gettext_lazy("不填则由系统生成（推荐）；填写时用于复现或公开抽取。"))


class EntityDrawSerializer(SeedSerializer):
    class_ratios = serializers.DictField(child=serializers.FloatField(min_value=0), required=False, allow_null=True,
                                         label=gettext_lazy("信用风险类别抽取比例"))


class DrawSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True, label=gettext_lazy("区划名称"))
    drawn_by = _username(gettext_lazy("抽取人"))
    drawn_count = serializers.SerializerMethodField(label=gettext_lazy("抽中数量"))

    class Meta:
        model = RandomDraw
        fields = ["id", "kind", "title", "region", "region_name", "seed", "algorithm", "candidate_count",
                  "candidate_digest", "outputs_digest", "drawn_count", "drawn_by", "drawn_at", "published"]
        read_only_fields = fields


    def get_drawn_count(self, record) -> int:
        total = getattr(record, "drawn_total", None)
        return total if total is not None else record.drawn_count


class DrawDetailSerializer(DrawSerializer):
    class Meta(DrawSerializer.Meta):
        fields = [*DrawSerializer.Meta.fields, "inputs", "outputs"]
        read_only_fields = fields


class TaskSerializer(serializers.ModelSerializer):
    plan = serializers.IntegerField(source="quota.plan_id", read_only=True, label=gettext_lazy("抽查计划"))
    plan_code = serializers.CharField(source="quota.plan.code", read_only=True, label=gettext_lazy("计划编号"))
    category = serializers.CharField(source="quota.category_id", read_only=True, label=gettext_lazy("产品类别代码"))
    stage = serializers.CharField(source="quota.stage", read_only=True, label=gettext_lazy("抽样环节"))
    entity = serializers.CharField(source="entity.uscc", read_only=True, label=gettext_lazy("统一社会信用代码"))
    entity_name = serializers.CharField(source="entity.name", read_only=True, label=gettext_lazy("市场主体名称"))
    entity_region = serializers.CharField(source="entity.region_id", read_only=True, label=gettext_lazy("所在区划"))
    inspectors = UserBriefSerializer(many=True, read_only=True, label=gettext_lazy("抽样人员"))
    sample = serializers.IntegerField(source="sample_pk", read_only=True, allow_null=True, label=gettext_lazy("抽样单"))

    class Meta:
        model = InspectionTask
        fields = ["id", "quota", "plan", "plan_code", "category", "stage", "entity", "entity_name", "entity_region",
                  "entity_draw", "draw_rank", "inspectors", "inspector_draw", "status", "cancel_reason", "sample"]
        read_only_fields = fields


class QuotaDrawSerializer(serializers.Serializer):
    draw = DrawDetailSerializer(label=gettext_lazy("抽取记录"))
    tasks = TaskSerializer(many=True, label=gettext_lazy("抽样任务"))


class InspectorDrawSerializer(serializers.Serializer):
    drawn = serializers.IntegerField(label=gettext_lazy("本次抽取人员的任务数"))
    tasks = TaskSerializer(many=True, label=gettext_lazy("抽样任务"))


class RerunSerializer(serializers.Serializer):
    identical = serializers.BooleanField(label=gettext_lazy("结果一致"))
    differences = serializers.ListField(child=serializers.CharField(), label=gettext_lazy("差异说明"))
    items = serializers.ListField(child=serializers.DictField(), label=gettext_lazy("重新运行的抽取名单"))


# --- samples, results, follow-up -------------------------------------------------------------------

class ItemResultSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="item.code", read_only=True, label=gettext_lazy("项目代码"))
    name = serializers.CharField(source="item.name", read_only=True, label=gettext_lazy("检验项目"))
    item_class = serializers.CharField(source="item.item_class", read_only=True, label=gettext_lazy("项目分类"))
    limit = serializers.CharField(source="item.limit_text", read_only=True, label=gettext_lazy("限值"))

    class Meta:
        model = ItemResult
        fields = ["code", "name", "item_class", "limit", "value", "unit", "lab_verdict", "verdict", "note"]
        read_only_fields = fields


class TestReportSerializer(serializers.ModelSerializer):
    lab_name = serializers.CharField(source="lab.name", read_only=True, label=gettext_lazy("检验机构名称"))
    rule_version_label = serializers.CharField(source="rule_version.label", read_only=True,
                                               label=gettext_lazy("细则版本号"))
    verdict_display = serializers.CharField(source="get_verdict_display", read_only=True,
                                            label=gettext_lazy("检验结论"))
    entered_by = _username(gettext_lazy("录入人"))
    items = ItemResultSerializer(many=True, read_only=True, label=gettext_lazy("单项结果"))

    class Meta:
        model = TestReport
        fields = ["id", "sample", "kind", "lab", "lab_name", "report_number", "rule_version", "rule_version_label",
                  "tested_on", "verdict", "verdict_display", "failing_items", "entered_by", "created", "items"]
        read_only_fields = fields


class CustodyEventSerializer(serializers.ModelSerializer):
    by = _username(gettext_lazy("经办人"))

    class Meta:
        model = CustodyEvent
        fields = ["id", "portion", "event", "happened_at", "by", "location", "seal_number", "note"]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    """Metadata only: the file itself is kept out of the open API (photos show people and premises)."""

    uploaded_by = _username(gettext_lazy("上传人"))

    class Meta:
        model = SampleAttachment
        fields = ["id", "kind", "original_name", "sha256", "size", "uploaded_by", "created"]
        read_only_fields = fields


class ObjectionSerializer(serializers.ModelSerializer):
    sample_number = serializers.CharField(source="sample.number", read_only=True, label=gettext_lazy("抽样单编号"))
    filed_by = _username(gettext_lazy("申请人"))
    handled_by = _username(gettext_lazy("经办人"))

    class Meta:
        model = Objection
        fields = ["id", "sample", "sample_number", "filed_on", "filed_by", "grounds", "status", "reinspection_lab",
                  "accepted_on", "handled_by", "rejection_reason", "decision", "decided_on"]
        read_only_fields = fields


class RectificationSerializer(serializers.ModelSerializer):
    sample_number = serializers.CharField(source="sample.number", read_only=True, label=gettext_lazy("抽样单编号"))
    ordered_by = _username(gettext_lazy("责令人"))
    rechecked_by = _username(gettext_lazy("复查人"))

    class Meta:
        model = Rectification
        fields = ["id", "sample", "sample_number", "ordered_on", "deadline", "ordered_by", "status", "entity_report",
                  "reported_on", "rechecked_on", "rechecked_by", "recheck_note"]
        read_only_fields = fields


class EnforcementSerializer(serializers.ModelSerializer):
    decided_by = _username(gettext_lazy("决定人"))

    class Meta:
        model = Enforcement
        fields = ["id", "sample", "action", "decided_on", "decision_number", "decided_by", "until", "note"]
        read_only_fields = fields


class SampleSerializer(serializers.ModelSerializer):
    plan_code = serializers.CharField(source="plan.code", read_only=True, label=gettext_lazy("计划编号"))
    entity = serializers.CharField(source="entity.uscc", read_only=True, label=gettext_lazy("统一社会信用代码"))
    entity_name = serializers.CharField(source="entity.name", read_only=True, label=gettext_lazy("市场主体名称"))
    category_name = serializers.CharField(source="category.name", read_only=True, label=gettext_lazy("类别名称"))
    region_name = serializers.CharField(source="region.name", read_only=True, label=gettext_lazy("区划名称"))

    class Meta:
        model = Sample
        fields = ["id", "number", "task", "plan", "plan_code", "outcome", "status", "sampled_on", "entity",
                  "entity_name", "category", "category_name", "region", "region_name", "stage", "product_name",
                  "brand", "specification", "batch_number", "production_date", "verdict", "failing_items",
                  "notified_on", "received_on", "final_on", "published_on"]
        read_only_fields = fields


class SampleDetailSerializer(SampleSerializer):
    inspectors = UserBriefSerializer(many=True, read_only=True, label=gettext_lazy("抽样人员"))
    rule_version_label = serializers.CharField(source="rule_version.label", read_only=True,
                                               label=gettext_lazy("细则版本号"))
    reports = TestReportSerializer(many=True, read_only=True, label=gettext_lazy("检验报告"))
    custody = CustodyEventSerializer(many=True, read_only=True, label=gettext_lazy("样品流转"))
    attachments = AttachmentSerializer(many=True, read_only=True, label=gettext_lazy("附件"))
    objection = ObjectionSerializer(read_only=True, allow_null=True, label=gettext_lazy("复检申请"))
    rectifications = RectificationSerializer(many=True, read_only=True, label=gettext_lazy("整改"))
    enforcements = EnforcementSerializer(many=True, read_only=True, label=gettext_lazy("后处理措施"))
    objection_deadline = serializers.SerializerMethodField(label=gettext_lazy("复检申请截止日"))

    class Meta(SampleSerializer.Meta):
        fields = [*SampleSerializer.Meta.fields, "place", "inspectors", "product", "lot_size", "test_quantity",
                  "spare_quantity", "sample_unit", "sample_cost_cny", "cost_paid_on", "refusal_reason", "industry",
                  "size_class", "rule_version", "rule_version_label", "reports", "custody", "attachments",
                  "objection", "objection_deadline", "rectifications", "enforcements"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DATE)
    def get_objection_deadline(self, sample) -> dt.date | None:
        return followup.objection_deadline(sample)


class SampleRecordSerializer(serializers.Serializer):
    sampled_on = serializers.DateField(label=gettext_lazy("抽样日期"))
    inspectors = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.filter(is_active=True), required=False, label=gettext_lazy("抽样人员"),
        help_text=gettext_lazy("用户 ID；不填则为该任务抽取的抽样人员。"))
    product_name = serializers.CharField(required=False, allow_blank=True, default="", label=gettext_lazy("样品名称"))
    batch_number = serializers.CharField(required=False, allow_blank=True, default="", label=gettext_lazy("生产批号"))
    test_quantity = serializers.IntegerField(min_value=0, label=gettext_lazy("检验样品数量"))
    spare_quantity = serializers.IntegerField(min_value=0, label=gettext_lazy("备用样品数量"))
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), required=False, allow_null=True,
                                                 label=gettext_lazy("登记产品"))
    brand = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    specification = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    production_date = serializers.DateField(required=False, allow_null=True)
    lot_size = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    sample_unit = serializers.CharField(required=False, allow_blank=True, default="", max_length=16)
    sample_cost_cny = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, default=0)
    cost_paid_on = serializers.DateField(required=False, allow_null=True)
    place = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    seal_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)


class RefusalSerializer(serializers.Serializer):
    sampled_on = serializers.DateField(label=gettext_lazy("抽样日期"))
    inspectors = serializers.PrimaryKeyRelatedField(many=True, queryset=User.objects.filter(is_active=True),
                                                    required=False, label=gettext_lazy("抽样人员"))
    reason = serializers.CharField(required=False, allow_blank=True, default="", label=gettext_lazy("拒检情况"))
    place = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class CustodyInputSerializer(serializers.Serializer):
    portion = serializers.ChoiceField(choices=CustodyEvent.Portion.choices, label=gettext_lazy("样品部分"))
    event = serializers.ChoiceField(choices=CustodyEvent.Event.choices, label=gettext_lazy("环节"))
    happened_at = serializers.DateTimeField(required=False, allow_null=True, label=gettext_lazy("时间"))
    location = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    seal_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)


class AttachmentInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SampleAttachment.Kind.choices, label=gettext_lazy("附件类型"))
    file = serializers.FileField(label=gettext_lazy("文件（JPG、PNG 或 PDF，不超过 10 MB）"))


class ResultItemInputSerializer(serializers.Serializer):
    code = serializers.CharField(label=gettext_lazy("项目代码"))
    value = serializers.CharField(required=False, allow_blank=True, allow_null=True, label=gettext_lazy("实测值"))
    unit = serializers.CharField(required=False, allow_blank=True, allow_null=True, label=gettext_lazy("单位"))
    verdict = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                    label=gettext_lazy("单项判定"),
                                    help_text=gettext_lazy("pass/fail 或 合格/不合格；数值型项目可不填（由限值判定）。"))


class ResultInputSerializer(serializers.Serializer):
    report_number = serializers.CharField(allow_blank=True, label=gettext_lazy("检验报告编号"))
    tested_on = serializers.DateField(label=gettext_lazy("检验完成日期"))
    rule_version = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                         label=gettext_lazy("细则版本号"),
                                         help_text=gettext_lazy("填写时须与抽样单适用的版本一致。"))
    kind = serializers.ChoiceField(choices=TestReport.Kind.choices, default=TestReport.Kind.INITIAL,
                                   label=gettext_lazy("检验类型"))
    items = ResultItemInputSerializer(many=True, label=gettext_lazy("单项结果"))


class ResultByNumberSerializer(ResultInputSerializer):
    sample_number = serializers.CharField(label=gettext_lazy("抽样单编号"))


class ResultUploadSerializer(serializers.Serializer):
    file = serializers.FileField(label=gettext_lazy("结果文件（.csv 或 .json）"))
    dry_run = serializers.BooleanField(default=False, label=gettext_lazy("仅校验，不写入"))


class UploadOutcomeSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    ok = serializers.BooleanField()
    reports = serializers.ListField(child=serializers.CharField(), label=gettext_lazy("已录入（或将录入）的报告编号"))
    problems = serializers.ListField(child=serializers.DictField(), label=gettext_lazy("问题（行、抽样单、项目、原因）"))


class OnDateSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, allow_null=True, label=gettext_lazy("日期"),
                               help_text=gettext_lazy("默认今天；企业用户总为当天。"))


class ObjectionInputSerializer(serializers.Serializer):
    grounds = serializers.CharField(required=False, allow_blank=True, default="", label=gettext_lazy("异议理由"))
    filed_on = serializers.DateField(required=False, allow_null=True, label=gettext_lazy("申请日期"),
                                     help_text=gettext_lazy("登记书面申请时由监管人员填写；企业在线申请为当天。"))


class AcceptInputSerializer(OnDateSerializer):
    lab = serializers.PrimaryKeyRelatedField(queryset=TestingLab.objects.all(), label=gettext_lazy("复检机构"))


class RejectInputSerializer(OnDateSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", label=gettext_lazy("不予受理理由"))


class RectificationOrderSerializer(OnDateSerializer):
    deadline = serializers.DateField(label=gettext_lazy("整改期限"))


class RectificationReportSerializer(OnDateSerializer):
    report = serializers.CharField(required=False, allow_blank=True, default="", label=gettext_lazy("整改报告"))


class RecheckInputSerializer(OnDateSerializer):
    passed = serializers.BooleanField(label=gettext_lazy("复查合格"))
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=255,
                                 label=gettext_lazy("复查情况"))


class EscalateInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=Enforcement.Action.choices, label=gettext_lazy("措施"))
    decision_number = serializers.CharField(required=False, allow_blank=True, default="",
                                            label=gettext_lazy("决定书文号"))
    decided_on = serializers.DateField(required=False, allow_null=True, label=gettext_lazy("决定日期"))
    until = serializers.DateField(required=False, allow_null=True, label=gettext_lazy("整顿期限"))
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)


# --- querysets ------------------------------------------------------------------------------------

class DrawnCount(models.Func):
    """Length of a draw record's ``outputs["items"]`` computed in the database, so that lists need
    not load the outputs (up to ten thousand rows each) to count them."""

    output_field = models.IntegerField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="json_array_length(%(expressions)s, '$.items')", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="jsonb_array_length((%(expressions)s) -> 'items')",
                           **extra)

    def as_sql(self, compiler, connection, template=None, **extra):
        # MySQL and MariaDB: JSON_LENGTH with a path.
        return super().as_sql(compiler, connection, template=template or "JSON_LENGTH(%(expressions)s, '$.items')",
                              **extra)


def draws_for_list(queryset):
    """Draw records without their inputs and outputs, with ``drawn_count`` annotated."""
    return queryset.defer("inputs", "outputs").annotate(drawn_total=DrawnCount("outputs"))


def _plan_queryset():
    total = Sum(F("quotas__batches") * F("quotas__unit_cost_cny"),
                output_field=models.DecimalField(max_digits=18, decimal_places=2))
    return InspectionPlan.objects.select_related("region", "created_by").prefetch_related("labs") \
        .annotate(planned_total=total).order_by("-year", "-quarter", "code")


def _quota_queryset():
    return PlanQuota.objects.select_related("plan", "category", "region", "lab", "rule_version")


def _task_queryset():
    return (InspectionTask.objects.select_related("quota__plan", "entity")
            .prefetch_related("inspectors").annotate(sample_pk=F("sample")))


def _sample_queryset():
    return Sample.objects.select_related("plan", "entity", "category", "region")


def _sample_detail_queryset(user):
    """One sample with its parts; rectifications and Art. 17 measures are shown only to the roles
    that may see them (their own role table narrows the sample's)."""
    return _sample_queryset().select_related("rule_version", "objection").prefetch_related(
        "inspectors",
        Prefetch("reports", queryset=TestReport.objects.select_related("lab", "rule_version", "entered_by")
                 .prefetch_related(Prefetch("items", queryset=ItemResult.objects.select_related("item")))),
        Prefetch("custody", queryset=CustodyEvent.objects.select_related("by")),
        Prefetch("attachments", queryset=SampleAttachment.objects.select_related("uploaded_by")),
        Prefetch("rectifications", queryset=Rectification.objects.restrict(user).select_related("ordered_by",
                                                                                                "rechecked_by")),
        Prefetch("enforcements", queryset=Enforcement.objects.restrict(user).select_related("decided_by")))


def _tasks_response(task_ids) -> list:
    return TaskSerializer(_task_queryset().filter(pk__in=list(task_ids)).order_by("quota", "draw_rank"),
                          many=True).data


# --- viewsets -------------------------------------------------------------------------------------

@extend_schema_view(list=extend_schema(summary=gettext_lazy("抽查计划列表")),
                    retrieve=extend_schema(summary=gettext_lazy("抽查计划详情（含任务分配）")))
class PlanViewSet(WorkflowViewSet):
    """Spot-check plans of the user's region; created, given quotas and issued through ``planning``."""

    queryset = _plan_queryset()
    serializer_class = PlanSerializer
    filterset_class = filtersets.InspectionPlanFilterSet
    ordering_fields = ["code", "year", "starts_on", "status", "budget_cny", "updated"]
    action_rules = {
        "quotas": ActionRule(PlanQuota, ADD, CHANGE),
        "approve": ActionRule(InspectionPlan, CHANGE, CHANGE),
        "close": ActionRule(InspectionPlan, CHANGE, CHANGE),
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(Prefetch("quotas", queryset=_quota_queryset()))
        return queryset

    def get_serializer_class(self):
        return PlanDetailSerializer if self.action != "list" else PlanSerializer

    def _detail(self, plan, code=status.HTTP_200_OK) -> Response:
        plan = _plan_queryset().prefetch_related(Prefetch("quotas", queryset=_quota_queryset())).get(pk=plan.pk)
        return Response(PlanDetailSerializer(plan).data, status=code)

    @extend_schema(summary=gettext_lazy("制定抽查计划（草稿）"), request=PlanCreateSerializer,
                   responses={201: PlanDetailSerializer, 400: REFUSED})
    def create(self, request, *args, **kwargs):
        data = self.input(PlanCreateSerializer)
        with transaction.atomic():
            plan = planning.create_plan(user=request.user, title=data["title"], period=data["period"],
                                        year=data["year"], quarter=data.get("quarter"), starts_on=data["starts_on"],
                                        ends_on=data["ends_on"], budget_cny=data["budget_cny"],
                                        region=data.get("region"), labs=data.get("labs") or (), notes=data["notes"])
        return self._detail(plan, status.HTTP_201_CREATED)

    @extend_schema(summary=gettext_lazy("增加任务分配"), request=QuotaCreateSerializer,
                   responses={201: QuotaSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def quotas(self, request, pk=None):
        plan = self.get_object()
        data = self.input(QuotaCreateSerializer)
        with transaction.atomic():
            quota = planning.add_quota(plan, user=request.user, category=data["category"], region=data["region"],
                                       batches=data["batches"], unit_cost_cny=data["unit_cost_cny"],
                                       lab=data["lab"], stage=data["stage"])
        return Response(QuotaSerializer(_quota_queryset().get(pk=quota.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary=gettext_lazy("下达抽查计划"), request=None,
                   responses={200: PlanDetailSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        plan = self.get_object()
        with transaction.atomic():
            planning.approve_plan(plan, user=request.user)
        return self._detail(plan)

    @extend_schema(summary=gettext_lazy("办结抽查计划"), request=None,
                   responses={200: PlanDetailSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        plan = self.get_object()
        with transaction.atomic():
            planning.close_plan(plan, user=request.user)
        return self._detail(plan)


@extend_schema_view(list=extend_schema(summary=gettext_lazy("任务分配列表")),
                    retrieve=extend_schema(summary=gettext_lazy("任务分配详情")))
class QuotaViewSet(WorkflowViewSet):
    """Quotas of the plans in the user's scope; drawing entities and samplers for them."""

    queryset = _quota_queryset()
    serializer_class = QuotaSerializer
    filterset_fields = ["plan", "category", "region", "stage", "lab"]
    ordering_fields = ["plan", "category", "region", "batches"]
    action_rules = {
        "draw": ActionRule(PlanQuota, CHANGE, CHANGE),
        "draw_inspectors": ActionRule(PlanQuota, CHANGE, CHANGE),
    }

    @extend_schema(summary=gettext_lazy("随机抽取检查对象（双随机），生成抽样任务"), request=EntityDrawSerializer,
                   responses={201: QuotaDrawSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def draw(self, request, pk=None):
        quota = self.get_object()
        data = self.input(EntityDrawSerializer)
        with transaction.atomic():
            record, tasks = planning.draw_quota(quota, user=request.user, seed=data.get("seed"),
                                                class_ratios=data.get("class_ratios") or None)
        return Response({"draw": DrawDetailSerializer(record).data,
                         "tasks": _tasks_response(task.pk for task in tasks)}, status=status.HTTP_201_CREATED)

    @extend_schema(summary=gettext_lazy("为尚无抽样人员的任务随机抽取抽样人员"), request=SeedSerializer,
                   responses={200: InspectorDrawSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"], url_path="draw-inspectors")
    def draw_inspectors(self, request, pk=None):
        quota = self.get_object()
        data = self.input(SeedSerializer)
        with transaction.atomic():
            drawn = planning.draw_quota_inspectors(quota, user=request.user, seed=data.get("seed"))
        return Response({"drawn": drawn, "tasks": _tasks_response(quota.tasks.values_list("pk", flat=True))})


@extend_schema_view(list=extend_schema(summary=gettext_lazy("随机抽取记录列表")),
                    retrieve=extend_schema(summary=gettext_lazy("随机抽取记录详情（全部输入与结果）")))
class DrawViewSet(WorkflowViewSet):
    """Random-draw records of the user's region, with everything needed to re-run them."""

    queryset = RandomDraw.objects.select_related("region", "drawn_by")
    serializer_class = DrawSerializer
    filterset_class = filtersets.RandomDrawFilterSet
    ordering_fields = ["drawn_at", "kind", "candidate_count"]
    action_rules = {
        "rerun": ActionRule(RandomDraw, VIEW, VIEW),
        "publish": ActionRule(RandomDraw, CHANGE, CHANGE),
    }

    def get_serializer_class(self):
        return DrawSerializer if self.action == "list" else DrawDetailSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        # The list shows no inputs or outputs (up to ten thousand rows each): do not load them.
        return draws_for_list(queryset) if self.action == "list" else queryset

    @extend_schema(summary=gettext_lazy("按记录的种子和条件重新运行抽取并比对"), request=None,
                   responses={200: RerunSerializer})
    @action(detail=True, methods=["post"])
    def rerun(self, request, pk=None):
        record = self.get_object()
        result, identical, differences = draw_service.rerun_draw(record)
        items = [item.as_json() for item in result.items] if result is not None else []
        return Response({"identical": identical, "differences": differences, "items": items})

    @extend_schema(summary=gettext_lazy("公开抽取记录"), request=None,
                   responses={200: DrawDetailSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        record = self.get_object()
        with transaction.atomic():
            planning.set_draw_published(record, user=request.user, published=True)
        return Response(DrawDetailSerializer(record).data)


@extend_schema_view(list=extend_schema(summary=gettext_lazy("抽样任务列表")),
                    retrieve=extend_schema(summary=gettext_lazy("抽样任务详情")))
class TaskViewSet(WorkflowViewSet):
    """Sampling tasks at entities in the user's region; inspectors record the sample or the refusal."""

    queryset = _task_queryset()
    serializer_class = TaskSerializer
    filterset_class = filtersets.InspectionTaskFilterSet
    ordering_fields = ["quota", "draw_rank", "status"]
    action_rules = {
        "sample": ActionRule(Sample, ADD, VIEW),
        "refusal": ActionRule(Sample, ADD, VIEW),
    }

    def _inspectors(self, task, data) -> list:
        return list(data["inspectors"]) if data.get("inspectors") else list(task.inspectors.all())

    @extend_schema(summary=gettext_lazy("录入抽样单"), request=SampleRecordSerializer,
                   responses={201: SampleDetailSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def sample(self, request, pk=None):
        self._require_recorder(request.user)
        task = self.get_object()
        data = dict(self.input(SampleRecordSerializer))
        inspectors = self._inspectors(task, data)
        data.pop("inspectors", None)
        with transaction.atomic():
            made = samples.record_sample(task, user=request.user, inspectors=inspectors, **data)
        return Response(SampleDetailSerializer(_sample_detail_queryset(request.user).get(pk=made.pk)).data,
                        status=status.HTTP_201_CREATED)

    @staticmethod
    def _require_recorder(user) -> None:
        # Samplers and officers record what happened on site; lab staff never do (they test).
        if not user.is_superuser and user.role not in samples.RECORDER_ROLES:
            raise exceptions.PermissionDenied(_("抽样单由抽样人员或监管人员录入；检验机构和企业不能录入抽样单。"))

    @extend_schema(summary=gettext_lazy("录入拒检"), request=RefusalSerializer,
                   responses={201: SampleDetailSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def refusal(self, request, pk=None):
        self._require_recorder(request.user)
        task = self.get_object()
        data = self.input(RefusalSerializer)
        with transaction.atomic():
            made = samples.record_refusal(task, user=request.user, inspectors=self._inspectors(task, data),
                                          sampled_on=data["sampled_on"], reason=data["reason"], place=data["place"])
        return Response(SampleDetailSerializer(_sample_detail_queryset(request.user).get(pk=made.pk)).data,
                        status=status.HTTP_201_CREATED)


def _result_items(data: dict) -> tuple[dict, list[dict]]:
    """Item code → submitted result, read by the results service's own JSON reader (verdict words
    合格/不合格/pass/fail, duplicate codes)."""
    payload = {"items": [dict(item) for item in data["items"]]}
    reports, problems = results.parse_json_reports(payload)
    return reports[0].items, problems


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("抽样单列表")),
    retrieve=extend_schema(summary=gettext_lazy("抽样单详情（检验报告、样品流转、附件、后处理）")))
class SampleViewSet(WorkflowViewSet):
    """Sampling records in the user's scope, and every step of their results and follow-up."""

    queryset = _sample_queryset()
    serializer_class = SampleSerializer
    filterset_class = filtersets.SampleFilterSet
    ordering_fields = ["number", "sampled_on", "status", "verdict", "final_on", "published_on"]
    action_rules = {
        "custody": ActionRule(CustodyEvent, ADD, CHANGE),
        "attachments": ActionRule(SampleAttachment, ADD, CHANGE),
        "results": ActionRule(TestReport, ADD, VIEW),
        "results_by_number": ActionRule(TestReport, ADD, VIEW),
        "upload_results": ActionRule(TestReport, ADD, VIEW),
        # Telling the entity and ordering or escalating are the regulator's acts.
        "notify": ActionRule(Objection, CHANGE, CHANGE),
        # The entity confirms receipt and objects itself; officers record paper receipts and applications.
        "receipt": ActionRule(Objection, ADD, VIEW),
        "objection": ActionRule(Objection, ADD, VIEW),
        "rectification": ActionRule(Rectification, CHANGE, CHANGE),
        "escalate": ActionRule(Enforcement, ADD, CHANGE),
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            queryset = queryset.select_related("rule_version", "task__quota__lab")
        return queryset

    def get_serializer_class(self):
        return SampleSerializer if self.action == "list" else SampleDetailSerializer

    def _detail(self, sample, code=status.HTTP_200_OK) -> Response:
        return Response(SampleDetailSerializer(_sample_detail_queryset(self.request.user).get(pk=sample.pk)).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    @extend_schema(summary=gettext_lazy("登记样品流转环节"), request=CustodyInputSerializer,
                   responses={201: CustodyEventSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def custody(self, request, pk=None):
        sample = self.get_object()
        data = self.input(CustodyInputSerializer)
        with transaction.atomic():
            event = samples.add_custody_event(sample, user=request.user, portion=data["portion"], event=data["event"],
                                              happened_at=data.get("happened_at"), location=data["location"],
                                              seal_number=data["seal_number"], note=data["note"])
        return Response(CustodyEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary=gettext_lazy("上传抽样附件"), request={"multipart/form-data": AttachmentInputSerializer},
                   responses={201: AttachmentSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def attachments(self, request, pk=None):
        sample = self.get_object()
        data = self.input(AttachmentInputSerializer)
        with transaction.atomic():
            attachment = samples.attach_file(sample, user=request.user, kind=data["kind"], uploaded=data["file"])
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    def _enter(self, sample, data) -> Response:
        items, problems = _result_items(data)
        if problems:
            raise results.ResultRefused({"items": [problem["reason"] for problem in problems]}, code="duplicate_item")
        with transaction.atomic():
            report = results.enter_results(sample, user=self.request.user, report_number=data["report_number"],
                                           tested_on=data["tested_on"], items=items, kind=data["kind"],
                                           rule_version=data.get("rule_version"))
        report = TestReport.objects.select_related("lab", "rule_version", "entered_by") \
            .prefetch_related(Prefetch("items", queryset=ItemResult.objects.select_related("item"))).get(pk=report.pk)
        return Response(TestReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary=gettext_lazy("录入检验结果（结论由细则自动判定）"), request=ResultInputSerializer,
                   responses={201: TestReportSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def results(self, request, pk=None):
        return self._enter(self.get_object(), self.input(ResultInputSerializer))

    @extend_schema(summary=gettext_lazy("按抽样单编号录入检验结果"), request=ResultByNumberSerializer,
                   operation_id="v1_inspection_samples_results_by_number_create",
                   responses={201: TestReportSerializer, 400: REFUSED})
    @action(detail=False, methods=["post"], url_path="results", url_name="results-by-number")
    def results_by_number(self, request):
        data = self.input(ResultByNumberSerializer)
        sample = self.get_queryset().filter(number=data["sample_number"].strip()).first()
        if sample is None:
            # Unknown and out-of-scope numbers are answered alike, as in the upload.
            raise results.ResultRefused({"sample_number": _("抽样单 %(number)s 不存在。")
                                         % {"number": data["sample_number"]}}, code="unknown_sample")
        return self._enter(sample, data)

    @extend_schema(summary=gettext_lazy("批量上传检验结果（CSV 或 JSON，全部成功或全部不写入）"),
                   request={"multipart/form-data": ResultUploadSerializer},
                   responses={200: UploadOutcomeSerializer, 400: REFUSED})
    @action(detail=False, methods=["post"], url_path="results/upload", url_name="results-upload",
            parser_classes=[MultiPartParser])
    def upload_results(self, request):
        data = self.input(ResultUploadSerializer)
        uploaded = data["file"]
        reports, shape_problems = results.parse_upload(uploaded.read(), uploaded.name)
        outcome = results.import_results(reports, user=request.user, dry_run=data["dry_run"],
                                         shape_problems=shape_problems)
        if outcome.problems and not data["dry_run"]:
            details: dict[str, list[str]] = {}
            for problem in outcome.problems:
                key = f"rows[{problem.get('row', '')}]" + (f".{problem['item']}" if problem.get("item") else "")
                details.setdefault(key, []).append(f"{problem.get('sample', '')}：{problem['reason']}"
                                                   if problem.get("sample") else problem["reason"])
            message = _("文件有 %(n)d 处问题，未写入任何结果。") % {"n": len(outcome.problems)}
            return Response(error_body(400, "upload_refused", message, details), status=status.HTTP_400_BAD_REQUEST)
        return Response({"dry_run": data["dry_run"], "ok": outcome.ok, "reports": outcome.reports,
                         "problems": outcome.problems})

    @extend_schema(summary=gettext_lazy("告知企业检验结果"), request=OnDateSerializer,
                   responses={200: SampleDetailSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def notify(self, request, pk=None):
        sample = self.get_object()
        data = self.input(OnDateSerializer)
        with transaction.atomic():
            followup.notify_result(sample, user=request.user, on=self.acting_date(data.get("on")))
        return self._detail(sample)

    @extend_schema(summary=gettext_lazy("登记企业收到检验结果"), request=OnDateSerializer,
                   responses={200: SampleDetailSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def receipt(self, request, pk=None):
        sample = self.get_object()
        data = self.input(OnDateSerializer)
        with transaction.atomic():
            followup.acknowledge_receipt(sample, user=request.user, on=self.acting_date(data.get("on")))
        return self._detail(sample)

    @extend_schema(summary=gettext_lazy("申请复检（异议）"), request=ObjectionInputSerializer,
                   responses={201: ObjectionSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def objection(self, request, pk=None):
        sample = self.get_object()
        data = self.input(ObjectionInputSerializer)
        with transaction.atomic():
            made = followup.file_objection(sample, user=request.user, grounds=data["grounds"],
                                           filed_on=self.acting_date(data.get("filed_on"), "filed_on"))
        return Response(ObjectionSerializer(made).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary=gettext_lazy("责令限期整改"), request=RectificationOrderSerializer,
                   responses={201: RectificationSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def rectification(self, request, pk=None):
        sample = self.get_object()
        data = self.input(RectificationOrderSerializer)
        with transaction.atomic():
            made = followup.order_rectification(sample, user=request.user, deadline=data["deadline"],
                                                on=self.acting_date(data.get("on")))
        return Response(RectificationSerializer(made).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary=gettext_lazy("采取《产品质量法》第十七条后处理措施"), request=EscalateInputSerializer,
                   responses={201: EnforcementSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        sample = self.get_object()
        data = self.input(EscalateInputSerializer)
        with transaction.atomic():
            made = followup.escalate(sample, user=request.user, action=data["action"],
                                     decision_number=data["decision_number"],
                                     decided_on=self.acting_date(data.get("decided_on"), "decided_on"),
                                     until=data.get("until"),
                                     note=data["note"])
        return Response(EnforcementSerializer(made).data, status=status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(summary=gettext_lazy("复检申请列表")),
                    retrieve=extend_schema(summary=gettext_lazy("复检申请详情")))
class ObjectionViewSet(WorkflowViewSet):
    """Applications for re-inspection in the user's scope; the regulator accepts or rejects them."""

    queryset = Objection.objects.select_related("sample", "filed_by", "handled_by")
    serializer_class = ObjectionSerializer
    filterset_class = filtersets.ObjectionFilterSet
    ordering_fields = ["filed_on", "status", "decided_on"]
    action_rules = {
        "accept": ActionRule(Objection, CHANGE, CHANGE),
        "reject": ActionRule(Objection, CHANGE, CHANGE),
    }

    @extend_schema(summary=gettext_lazy("受理复检申请，指定复检机构"), request=AcceptInputSerializer,
                   responses={200: ObjectionSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        objection = self.get_object()
        data = self.input(AcceptInputSerializer)
        with transaction.atomic():
            followup.accept_objection(objection, user=request.user, lab=data["lab"],
                                      on=self.acting_date(data.get("on")))
        return Response(ObjectionSerializer(objection).data)

    @extend_schema(summary=gettext_lazy("不予受理复检申请"), request=RejectInputSerializer,
                   responses={200: ObjectionSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        objection = self.get_object()
        data = self.input(RejectInputSerializer)
        with transaction.atomic():
            followup.reject_objection(objection, user=request.user, reason=data["reason"],
                                      on=self.acting_date(data.get("on")))
        return Response(ObjectionSerializer(objection).data)


@extend_schema_view(list=extend_schema(summary=gettext_lazy("整改列表")),
                    retrieve=extend_schema(summary=gettext_lazy("整改详情")))
class RectificationViewSet(WorkflowViewSet):
    """Rectification orders in the user's scope: the entity reports, the regulator re-checks."""

    queryset = Rectification.objects.select_related("sample", "ordered_by", "rechecked_by")
    serializer_class = RectificationSerializer
    filterset_class = filtersets.RectificationFilterSet
    ordering_fields = ["ordered_on", "deadline", "status"]
    action_rules = {
        "report": ActionRule(Rectification, ADD, VIEW),
        "recheck": ActionRule(Rectification, CHANGE, CHANGE),
    }

    @extend_schema(summary=gettext_lazy("报告整改情况"), request=RectificationReportSerializer,
                   responses={200: RectificationSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def report(self, request, pk=None):
        rectification = self.get_object()
        data = self.input(RectificationReportSerializer)
        with transaction.atomic():
            followup.report_rectification(rectification, user=request.user, report=data["report"],
                                          on=self.acting_date(data.get("on")))
        return Response(RectificationSerializer(rectification).data)

    @extend_schema(summary=gettext_lazy("整改复查"), request=RecheckInputSerializer,
                   responses={200: RectificationSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"])
    def recheck(self, request, pk=None):
        rectification = self.get_object()
        data = self.input(RecheckInputSerializer)
        with transaction.atomic():
            followup.recheck_rectification(rectification, user=request.user, passed=data["passed"], note=data["note"],
                                           on=self.acting_date(data.get("on")))
        return Response(RectificationSerializer(rectification).data)


@extend_schema_view(list=extend_schema(summary=gettext_lazy("检验机构列表")),
                    retrieve=extend_schema(summary=gettext_lazy("检验机构详情")))
class LabViewSet(WorkflowViewSet):
    """Accredited testing labs (read-only)."""

    queryset = TestingLab.objects.select_related("region").prefetch_related("categories")
    serializer_class = LabSerializer
    filterset_class = filtersets.TestingLabFilterSet
    ordering_fields = ["name"]


@extend_schema_view(list=extend_schema(summary=gettext_lazy("实施细则列表")),
                    retrieve=extend_schema(summary=gettext_lazy("实施细则详情（各版本及检验项目）")))
class RuleViewSet(WorkflowViewSet):
    """Implementation rules with their versions (and, in detail, every test item); read-only."""

    queryset = ImplementationRule.objects.select_related("category")
    serializer_class = RuleSerializer
    filterset_class = filtersets.ImplementationRuleFilterSet
    ordering_fields = ["code", "title"]

    def get_serializer_class(self):
        return RuleSerializer if self.action == "list" else RuleDetailSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            return queryset.prefetch_related("versions")
        return queryset.prefetch_related(Prefetch("versions", queryset=RuleVersion.objects.prefetch_related("items")))


# --- statistics -----------------------------------------------------------------------------------

class StatisticsQuerySerializer(serializers.Serializer):
    by = serializers.CharField(label=gettext_lazy("分组维度"),
                               help_text=gettext_lazy("一个或多个（逗号分隔）：plan、category、province、city、county、"
                                                      "industry、size、stage、year、quarter。"))
    include_provisional = serializers.BooleanField(default=False, label=gettext_lazy("含未确定的结果"))
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    quarter = serializers.IntegerField(required=False, min_value=1, max_value=4)
    plan = serializers.IntegerField(required=False)
    category = serializers.CharField(required=False)
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    region = serializers.RegexField(r"^\d{6}$", required=False)


class StatisticsView(APIView):
    """Pass and nonconformity rates (with 95 % Wilson intervals) of the samples in the user's scope,
    grouped by any dimensions (``inspection.statistics.breakdown``)."""

    permission_classes = [RolePermission]
    queryset = Sample.objects.all()  # for RolePermission: viewing samples

    @extend_schema(summary=gettext_lazy("抽查统计（合格率及 95% 置信区间）"),
                   parameters=[StatisticsQuerySerializer],
                   responses={200: OpenApiTypes.OBJECT, 400: REFUSED},
                   tags=["inspection"])
    def get(self, request):
        from qualitygov.inspection import statistics

        query = StatisticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        by = params.pop("by")
        include_provisional = params.pop("include_provisional")
        # Results not yet final are the regulator's working figures (statistics module docstring):
        # other roles always get the final ones.
        user = request.user
        if not (user.is_superuser or user.role in OFFICER_ROLES or user.role == Role.PROVINCE_ADMIN):
            include_provisional = False
        try:
            data = statistics.breakdown(Sample.objects.restrict(request.user, VIEW), by,
                                        include_provisional=include_provisional, **params)
        except ValueError:
            message = _("分组维度有误：%(by)s。可选：%(choices)s。") % {
                "by": by, "choices": join_list(statistics.DIMENSIONS)}
            return Response(error_body(400, "invalid_dimension", message, {"by": [message]}), status=400)
        return Response(data)
