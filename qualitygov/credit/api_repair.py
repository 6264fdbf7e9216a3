"""Credit-repair API at /api/v1/credit/repairs/ (issue 4, item 5): list and retrieve in the user's scope;
``create`` by an enterprise user for its own entity; the steps ``accept``, ``refuse`` (不予受理),
``decide`` (准予 / 不予修复) by officers in scope and ``withdraw`` by the applicant. Each is one call to
``credit.repair``; a refusal answers 400 ``{"error": {"code": …, "message": …}}`` with the service's
code. URL names: ``api:credit-api:repair-list``, ``-detail``, ``-accept``, ``-refuse``, ``-decide``,
``-withdraw``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from qualitygov.core.api import RestrictedReadOnlyViewSet
from qualitygov.core.api_permissions import RolePermission
from qualitygov.core.roles import CHANGE, VIEW, Role, actions_for
from qualitygov.credit import repair
from qualitygov.credit.models import CreditRecord, ListEntry, RepairApplication
from qualitygov.credit.views_repair import RepairFilterSet


class RepairApplicationSerializer(serializers.ModelSerializer):
    entity = serializers.SlugRelatedField(slug_field="uscc", read_only=True, label=_("统一社会信用代码"))
    entity_name = serializers.CharField(source="entity.name", read_only=True, label=_("市场主体名称"))
    target_display = serializers.CharField(source="get_target_display", read_only=True, label=_("修复事项名称"))
    status_display = serializers.CharField(source="get_status_display", read_only=True, label=_("状态名称"))
    due_on = serializers.SerializerMethodField(label=_("当前办理期限"))
    overdue = serializers.SerializerMethodField(label=_("是否超期"))

    class Meta:
        model = RepairApplication
        fields = ["id", "entity", "entity_name", "target", "target_display", "record", "list_entry", "reason",
                  "commitment", "conditions", "status", "status_display", "received_on", "accept_due_on",
                  "accepted_on", "decide_due_on", "verification_note", "decided_on", "decision_note", "due_on",
                  "overdue", "created", "updated"]
        read_only_fields = fields

    def get_due_on(self, obj) -> str | None:
        due = repair.due_on(obj)
        return due.isoformat() if due else None

    def get_overdue(self, obj) -> bool:
        return repair.is_overdue(obj)


class RepairApplyInputSerializer(serializers.Serializer):
    """An application (shape only; the rules are ``repair.submit``'s)."""

    target = serializers.ChoiceField(choices=RepairApplication.Target.choices, label=_("修复事项"))
    record = serializers.IntegerField(required=False, allow_null=True, label=_("信用记录编号"))
    list_entry = serializers.IntegerField(required=False, allow_null=True, label=_("名单记录编号"))
    reason = serializers.CharField(allow_blank=True, label=_("申请理由"))
    commitment = serializers.BooleanField(label=_("已作出信用承诺"))
    conditions = serializers.DictField(child=serializers.BooleanField(), required=False, label=_("声明满足的条件"))


class RepairAcceptInputSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, label=_("受理日期"))
    note = serializers.CharField(required=False, allow_blank=True, default="", label=_("受理意见"))


class RepairRefuseInputSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, label=_("决定日期"))
    reasons = serializers.CharField(allow_blank=True, label=_("不予受理理由"))


class RepairDecideInputSerializer(serializers.Serializer):
    approve = serializers.BooleanField(label=_("准予修复"))
    on = serializers.DateField(required=False, label=_("决定日期"))
    reasons = serializers.CharField(allow_blank=True, label=_("决定理由"))
    verification = serializers.CharField(required=False, allow_blank=True, default="", label=_("核实情况"))
    confirmed = serializers.DictField(child=serializers.BooleanField(), required=False, label=_("核实确认的条件"))


class RepairPermission(RolePermission):
    """As ``RolePermission``, but the POST steps on an existing application need CHANGE, not ADD."""

    def has_permission(self, request, view):
        if getattr(view, "action", None) in RepairApplicationViewSet.step_actions:
            user = request.user
            if not user or not user.is_authenticated or not user.is_active:
                return False
            return user.is_superuser or CHANGE in actions_for(user.role, RepairApplication)
        return super().has_permission(request, view)


@extend_schema_view(list=extend_schema(summary=_("信用修复申请列表")), retrieve=extend_schema(summary=_("信用修复申请详情")))
class RepairApplicationViewSet(RestrictedReadOnlyViewSet):
    """Credit-repair applications in the user's scope (region; an enterprise its own entity) and their
    steps. Filters: ``status``, ``target``, ``overdue`` (yes/no), ``region``, ``q``."""

    queryset = RepairApplication.objects.select_related("entity")
    serializer_class = RepairApplicationSerializer
    filterset_class = RepairFilterSet
    permission_classes = [RepairPermission]
    ordering_fields = ["received_on", "accept_due_on", "decide_due_on", "decided_on", "status"]
    lookup_value_regex = r"\d+"
    step_actions = frozenset({"accept", "refuse", "decide", "withdraw"})

    def get_queryset(self):
        if self.action in self.step_actions:
            return RepairApplication.objects.select_related("entity").restrict(self.request.user, CHANGE)
        return super().get_queryset()

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _answer(self, application, code=status.HTTP_200_OK) -> Response:
        application = RepairApplication.objects.select_related("entity").get(pk=application.pk)
        return Response(RepairApplicationSerializer(application).data, status=code)

    def _officer_only(self):
        if self.request.user.role == Role.ENTERPRISE:
            raise exceptions.PermissionDenied(_("企业用户不能办理信用修复申请。"))

    @extend_schema(summary=_("申请信用修复（企业用户）"), request=RepairApplyInputSerializer,
                   responses={201: RepairApplicationSerializer})
    def create(self, request):
        data = self._input(RepairApplyInputSerializer)
        user = request.user
        # The subject must be one the user may see: scope through restrict().
        record = list_entry = None
        if data.get("record") is not None:
            record = CreditRecord.objects.restrict(user, VIEW).filter(pk=data["record"]).first()
            if record is None:
                raise repair.RepairRefused({"record": _("未找到该信用记录，或不属于您的企业。")}, code="unknown_subject")
        if data.get("list_entry") is not None:
            list_entry = ListEntry.objects.restrict(user, VIEW).filter(pk=data["list_entry"]).first()
            if list_entry is None:
                raise repair.RepairRefused({"list_entry": _("未找到该名单记录，或不属于您的企业。")},
                                           code="unknown_subject")
        application = repair.submit(user=user, target=data["target"], record=record, list_entry=list_entry,
                                    reason=data["reason"], commitment=data["commitment"],
                                    conditions=data.get("conditions") or {})
        return self._answer(application, status.HTTP_201_CREATED)

    @extend_schema(summary=_("受理信用修复申请"), request=RepairAcceptInputSerializer,
                   responses={200: RepairApplicationSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        self._officer_only()
        application = self.get_object()
        data = self._input(RepairAcceptInputSerializer)
        return self._answer(repair.accept(application, user=request.user, note=data["note"], on=data.get("on")))

    @extend_schema(summary=_("不予受理信用修复申请"), request=RepairRefuseInputSerializer,
                   responses={200: RepairApplicationSerializer})
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        self._officer_only()
        application = self.get_object()
        data = self._input(RepairRefuseInputSerializer)
        return self._answer(repair.refuse(application, user=request.user, reasons=data["reasons"], on=data.get("on")))

    @extend_schema(summary=_("作出准予或不予信用修复的决定"), request=RepairDecideInputSerializer,
                   responses={200: RepairApplicationSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        self._officer_only()
        application = self.get_object()
        data = self._input(RepairDecideInputSerializer)
        return self._answer(repair.decide(application, user=request.user, approve=data["approve"],
                                          reasons=data["reasons"], verification=data["verification"],
                                          confirmed=data.get("confirmed") or {}, on=data.get("on")))

    @extend_schema(summary=_("撤回信用修复申请（企业用户）"), request=None, responses={200: RepairApplicationSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        if request.user.role != Role.ENTERPRISE:
            raise exceptions.PermissionDenied(_("只有申请主体的企业用户可以撤回信用修复申请。"))
        application = self.get_object()
        return self._answer(repair.withdraw(application, user=request.user))


ROUTES = [("repairs", RepairApplicationViewSet, "repair")]
urlpatterns = []
