"""The reward API (issue 6, item 6) at /api/v1/complaints/rewards/ (namespace ``api:complaints-api``).

* ``GET rewards/`` (``reward-list``), ``GET rewards/{id}/`` (``reward-detail``): rewards of the cases in
  the user's scope (officers of the handling unit and above); filters ``status``, ``level``.
* ``POST rewards/`` (``reward-list``): propose ``{case, level, note}`` (``rewards.propose``).
* ``POST rewards/{id}/{approve|notify|claim|pay|refuse}/`` (``reward-approve`` …): the steps.
* ``POST rewards/compute/`` (``reward-compute``): the computation ``{level, fines, confiscations}`` →
  amount, flags and the lines; nothing stored.

No reporter data in any answer. Refusals are structured 400s with the rule's ``code``; a step on a
case of another unit is 403 (the reward itself is 404 outside the user's scope).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from qualitygov.complaints import rewards
from qualitygov.complaints.models import Case, Reward
from qualitygov.core.api import RestrictedReadOnlyViewSet
from qualitygov.core.api_permissions import RolePermission
from qualitygov.core.roles import CHANGE, VIEW, actions_for


class RewardSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", read_only=True, label=_("案件编号"))
    status_display = serializers.CharField(source="get_status_display", read_only=True, label=_("状态名称"))
    lines = serializers.SerializerMethodField(label=_("计算过程"))

    class Meta:
        model = Reward
        fields = ["id", "case", "case_number", "level", "fines", "confiscations", "amount", "floor_applied", "capped",
                  "joint_approval_required", "status", "status_display", "first_reporter_confirmed", "approved_on",
                  "finance_approved_on", "notified_on", "claim_due_on", "claimed_on", "paid_on", "payment_reference",
                  "note", "lines"]
        read_only_fields = fields

    def get_lines(self, obj) -> list[list[str]]:
        return [[label, value] for label, value in rewards.breakdown(obj.level, obj.fines, obj.confiscations)]


class ProposeInput(serializers.Serializer):
    case = serializers.IntegerField(label=_("举报案件编号（内部）"))
    level = serializers.ChoiceField(choices=Reward.Level.choices, label=_("奖励等级"))
    note = serializers.CharField(required=False, allow_blank=True, default="", label=_("说明"))


class ComputeInput(serializers.Serializer):
    level = serializers.ChoiceField(choices=Reward.Level.choices, label=_("奖励等级"))
    fines = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False, default=0,
                                     label=_("罚款金额（元）"))
    confiscations = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False, default=0,
                                             label=_("没收金额（元）"))


class ApproveInput(serializers.Serializer):
    on = serializers.DateField(required=False, label=_("批准日期"))
    finance_approved_on = serializers.DateField(required=False, allow_null=True, label=_("财政部门会签日期"))


class OnInput(serializers.Serializer):
    on = serializers.DateField(required=False, label=_("日期"))


class PayInput(serializers.Serializer):
    on = serializers.DateField(required=False, label=_("发放日期"))
    reference = serializers.CharField(allow_blank=True, label=_("发放凭证号"))


class RefuseInput(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, label=_("不予奖励理由"))


class RewardPermission(RolePermission):
    """As ``RolePermission``; the computation needs VIEW, the steps CHANGE."""

    def has_permission(self, request, view):
        name = getattr(view, "action", None)
        if name in RewardViewSet.step_actions or name in ("compute", "create"):
            user = request.user
            if not user or not user.is_authenticated or not user.is_active:
                return False
            needed = VIEW if name == "compute" else CHANGE
            return user.is_superuser or needed in actions_for(user.role, Reward)
        return super().has_permission(request, view)


def _call(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except rewards.RewardRefused as refused:
        if refused.code == "not_permitted":
            raise exceptions.PermissionDenied(refused.messages[0]) from refused
        raise


@extend_schema(tags=["complaints"])  # one group in the API docs with the statistics endpoints
@extend_schema_view(list=extend_schema(summary=_("举报奖励列表")), retrieve=extend_schema(summary=_("举报奖励详情")))
class RewardViewSet(RestrictedReadOnlyViewSet):
    """Rewards in the user's scope and their steps."""

    queryset = Reward.objects.select_related("case")
    serializer_class = RewardSerializer
    permission_classes = [RewardPermission]
    filterset_fields = ["status", "level", "joint_approval_required"]
    ordering_fields = ["created", "amount", "status"]
    lookup_value_regex = r"\d+"
    step_actions = frozenset({"approve", "notify", "claim", "pay", "refuse"})

    def get_queryset(self):
        if self.action in self.step_actions:
            return Reward.objects.select_related("case").restrict(self.request.user, CHANGE)
        return super().get_queryset()

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _answer(self, reward, code=status.HTTP_200_OK) -> Response:
        return Response(RewardSerializer(Reward.objects.select_related("case").get(pk=reward.pk)).data, status=code)

    @extend_schema(summary=_("拟定举报奖励"), request=ProposeInput, responses={201: RewardSerializer})
    def create(self, request):
        data = self._input(ProposeInput)
        case = get_object_or_404(Case.objects.restrict(request.user, VIEW), pk=data["case"])
        return self._answer(_call(rewards.propose, case, data["level"], request.user, note=data["note"]),
                            status.HTTP_201_CREATED)

    @extend_schema(summary=_("计算举报奖励（不保存）"), request=ComputeInput)
    @action(detail=False, methods=["post"])
    def compute(self, request):
        data = self._input(ComputeInput)
        result = rewards.compute(data["level"], data["fines"], data["confiscations"])
        return Response({"amount": str(result.amount), "floor_applied": result.floor_applied, "capped": result.capped,
                         "joint_approval_required": result.joint_approval_required,
                         "lines": [[a, b] for a, b in rewards.breakdown(data["level"], data["fines"],
                                                                       data["confiscations"])]})

    @extend_schema(summary=_("批准举报奖励"), request=ApproveInput, responses={200: RewardSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        data = self._input(ApproveInput)
        return self._answer(_call(rewards.approve, self.get_object(), request.user, on=data.get("on"),
                                  finance_approved_on=data.get("finance_approved_on")))

    @extend_schema(summary=_("告知举报人"), request=OnInput, responses={200: RewardSerializer})
    @action(detail=True, methods=["post"])
    def notify(self, request, pk=None):
        data = self._input(OnInput)
        return self._answer(_call(rewards.notify, self.get_object(), request.user, on=data.get("on")))

    @extend_schema(summary=_("登记申领"), request=OnInput, responses={200: RewardSerializer})
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        data = self._input(OnInput)
        return self._answer(_call(rewards.claim, self.get_object(), request.user, on=data.get("on")))

    @extend_schema(summary=_("登记发放"), request=PayInput, responses={200: RewardSerializer})
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        data = self._input(PayInput)
        return self._answer(_call(rewards.pay, self.get_object(), request.user, reference=data["reference"],
                                  on=data.get("on")))

    @extend_schema(summary=_("不予奖励"), request=RefuseInput, responses={200: RewardSerializer})
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        data = self._input(RefuseInput)
        return self._answer(_call(rewards.refuse, self.get_object(), request.user, reason=data["reason"]))


def _urls():
    from rest_framework.routers import SimpleRouter

    router = SimpleRouter()
    router.register("rewards", RewardViewSet, basename="reward")
    return list(router.urls)


urlpatterns = _urls()
public_urlpatterns: list = []
