"""Credit scores API (issue 4, items 2-3), mounted at /api/v1/credit/ (namespace ``api:credit-api``).

``scores``: stored scores in the user's scope (like the credit file; an enterprise its own entity),
with ``scores/{id}/explain``; the internal ``risk_class`` appears for officer roles only.
``score-models``: officers read; the province administrator creates a draft version (optionally
from an existing one), changes a draft (a used model: 400 ``model_used``) and activates it.
``scoring-runs``: officers read; the province administrator POSTs a full rescoring. Every rule is
``credit.scoring``'s; a refusal is a 400 with its ``code``.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from qualitygov.core.models import region_q
from qualitygov.core.roles import Role
from qualitygov.credit import access_log, scoring
from qualitygov.credit.models import CreditAccessLog, EntityScore, Grade, ScoreModel, ScoringRun

__all__ = ["EntityScoreViewSet", "ROUTES", "ScoreModelViewSet", "ScoringRunViewSet"]


class EntityScoreFilterSet(django_filters.FilterSet):
    grade = django_filters.ChoiceFilter(choices=Grade.choices, label=_("信用等级"))
    region = django_filters.CharFilter(method="in_region", label=_("区划代码（含下级）"))
    uscc = django_filters.CharFilter(field_name="entity__uscc", label=_("统一社会信用代码"))

    class Meta:
        model = EntityScore
        fields = ["grade", "region", "uscc"]

    def in_region(self, queryset, name, value):
        from qualitygov.core.models import region_prefix

        value = value.strip()
        if not (value.isdigit() and len(value) == 6):
            return queryset.none()
        return queryset.filter(region_q("entity__region__code", region_prefix(value)))


class EntityScoreSerializer(serializers.ModelSerializer):
    entity_id = serializers.IntegerField(read_only=True, label=_("市场主体编号"))
    entity = serializers.CharField(source="entity.uscc", read_only=True, label=_("统一社会信用代码"))
    entity_name = serializers.CharField(source="entity.name", read_only=True, label=_("市场主体名称"))
    region = serializers.CharField(source="entity.region_id", read_only=True, label=_("区划代码"))
    model_version = serializers.CharField(source="model.version", read_only=True, label=_("模型版本"))

    class Meta:
        model = EntityScore
        fields = ["id", "entity_id", "entity", "entity_name", "region", "score", "grade", "risk_class",
                  "model_version", "as_of", "record_count", "run", "computed_at"]
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None or not scoring.sees_risk_class(request.user):
            fields.pop("risk_class")  # internal: never shown to enterprises or other departments
        return fields


def _log_read(request, entity_ids, fields):
    """Log reads of credit files by anyone but the entity's own users."""
    user = request.user
    if user.role == Role.ENTERPRISE:
        return
    channel = (CreditAccessLog.Channel.DATA_CONSUMER if user.role == Role.DATA_CONSUMER
               else CreditAccessLog.Channel.OFFICER)
    access_log.record_access(entity_ids, channel=channel, accessor=user.get_full_name() or user.username,
                             fields=fields, user=user)


@extend_schema_view(list=extend_schema(summary=_("信用评分列表")), retrieve=extend_schema(summary=_("信用评分详情")))
class EntityScoreViewSet(viewsets.ReadOnlyModelViewSet):
    """Stored scores in the user's scope; ``risk_class`` for officer roles only."""

    queryset = EntityScore.objects.select_related("entity", "model")
    serializer_class = EntityScoreSerializer
    filterset_class = EntityScoreFilterSet
    permission_classes = [permissions.IsAuthenticated]
    ordering_fields = ["score", "grade", "as_of", "computed_at"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return scoring.scores_for(self.request.user, EntityScore.objects.select_related("entity", "model")
                                  .order_by("entity_id"))

    def retrieve(self, request, *args, **kwargs):
        score = self.get_object()
        _log_read(request, [score.entity_id], ["score", "grade"])
        return Response(self.get_serializer(score).data)

    @extend_schema(summary=_("信用分解释（每条记录的分值、半衰期和贡献）"), responses={200: dict})
    @action(detail=True, methods=["get"])
    def explain(self, request, pk=None):
        score = self.get_object()
        explanation = scoring.explain(score.entity_id)
        if not scoring.sees_risk_class(request.user):
            explanation = scoring.public_explanation(explanation)
        _log_read(request, [score.entity_id], ["score", "grade", "records"])
        return Response(explanation)


# --- models and runs --------------------------------------------------------------------------------

class OfficersReadAdminWrites(permissions.BasePermission):
    """Officer roles read; only the province administrator writes."""

    message = _("您没有执行此操作的权限。")

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return scoring.sees_risk_class(request.user)
        return scoring.may_manage_models(request.user)


class ScoreModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScoreModel
        fields = ["id", "version", "description", "base_score", "points", "half_life_days", "grade_thresholds",
                  "risk_thresholds", "status", "used", "created", "updated"]
        read_only_fields = ["id", "status", "used", "created", "updated"]


class NewVersionSerializer(serializers.Serializer):
    """A new draft version; ``from_model`` copies its parameters, the given ones override them."""

    from_model = serializers.PrimaryKeyRelatedField(queryset=ScoreModel.objects.all(), required=False,
                                                    allow_null=True, label=_("复制自模型"))
    version = serializers.CharField(max_length=32, label=_("模型版本"))
    description = serializers.CharField(required=False, allow_blank=True, default="", label=_("说明"))
    base_score = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, label=_("基础分"))
    points = serializers.JSONField(required=False, label=_("各类记录分值"))
    half_life_days = serializers.JSONField(required=False, label=_("分值半衰期（天）"))
    grade_thresholds = serializers.JSONField(required=False, label=_("公示等级分数线"))
    risk_thresholds = serializers.JSONField(required=False, label=_("风险分类分数线"))


class ModelChangeSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True, label=_("说明"))
    base_score = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, label=_("基础分"))
    points = serializers.JSONField(required=False, label=_("各类记录分值"))
    half_life_days = serializers.JSONField(required=False, label=_("分值半衰期（天）"))
    grade_thresholds = serializers.JSONField(required=False, label=_("公示等级分数线"))
    risk_thresholds = serializers.JSONField(required=False, label=_("风险分类分数线"))


@extend_schema_view(list=extend_schema(summary=_("信用评分模型列表")), retrieve=extend_schema(summary=_("信用评分模型详情")))
class ScoreModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Scoring model versions. Officers read; the province administrator creates drafts, changes
    unused ones and activates a version."""

    queryset = ScoreModel.objects.all()
    serializer_class = ScoreModelSerializer
    permission_classes = [OfficersReadAdminWrites]
    ordering_fields = ["created", "version"]
    lookup_value_regex = r"\d+"

    @extend_schema(summary=_("新建评分模型版本（草案）"), request=NewVersionSerializer,
                   responses={201: ScoreModelSerializer})
    def create(self, request):
        serializer = NewVersionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        source = data.pop("from_model", None)
        model = scoring.new_version(source, **data)
        return Response(ScoreModelSerializer(model).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary=_("修改评分模型（已用于评分的模型只能改说明）"), request=ModelChangeSerializer,
                   responses={200: ScoreModelSerializer})
    def partial_update(self, request, pk=None):
        model = self.get_object()
        serializer = ModelChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        model = scoring.update_model(model, **serializer.validated_data)
        return Response(ScoreModelSerializer(model).data)

    @extend_schema(summary=_("启用该评分模型（停用原现行模型）"), request=None, responses={200: ScoreModelSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        model = scoring.activate_model(self.get_object())
        return Response(ScoreModelSerializer(model).data)


class ScoringRunSerializer(serializers.ModelSerializer):
    model_version = serializers.CharField(source="model.version", read_only=True, label=_("模型版本"))

    class Meta:
        model = ScoringRun
        fields = ["id", "model", "model_version", "kind", "as_of", "status", "started_at", "finished_at",
                  "duration_ms", "entity_count", "record_count", "grade_distribution", "risk_distribution", "error"]
        read_only_fields = fields


class FullRescoreSerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, allow_null=True, label=_("评分基准日"))


@extend_schema_view(list=extend_schema(summary=_("信用评分批次列表")), retrieve=extend_schema(summary=_("信用评分批次详情")))
class ScoringRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Scoring runs with counts and distributions (officers); POST starts a full rescoring with the
    active model (province administrator)."""

    queryset = ScoringRun.objects.select_related("model")
    serializer_class = ScoringRunSerializer
    permission_classes = [OfficersReadAdminWrites]
    ordering_fields = ["started_at", "as_of"]
    lookup_value_regex = r"\d+"

    @extend_schema(summary=_("立即全量重新评分"), request=FullRescoreSerializer, responses={201: ScoringRunSerializer})
    def create(self, request):
        serializer = FullRescoreSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = scoring.full_rescore(as_of=serializer.validated_data.get("as_of"), user=request.user)
        return Response(ScoringRunSerializer(run).data, status=status.HTTP_201_CREATED)


ROUTES = [
    ("scores", EntityScoreViewSet, "entityscore"),
    ("score-models", ScoreModelViewSet, "scoremodel"),
    ("scoring-runs", ScoringRunViewSet, "scoringrun"),
]
urlpatterns = []
