"""Credit ledger API: read-only, scoped like the pages. Records are written by ``credit.services``.

Router line (``qualitygov/api/urls.py``)::

    router.register("credit-records", credit_api.CreditRecordViewSet)
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from qualitygov.core.api import RestrictedReadOnlyViewSet
from qualitygov.credit.filtersets import CreditRecordFilterSet
from qualitygov.credit.models import CreditRecord


class CreditRecordSerializer(serializers.ModelSerializer):
    entity = serializers.SlugRelatedField(slug_field="uscc", read_only=True, label=_("统一社会信用代码"))
    entity_name = serializers.CharField(source="entity.name", read_only=True, label=_("市场主体名称"))
    kind_display = serializers.CharField(source="get_kind_display", read_only=True, label=_("信用事项名称"))

    class Meta:
        model = CreditRecord
        fields = ["id", "entity", "entity_name", "kind", "kind_display", "polarity", "occurred_on", "summary",
                  "details", "department", "source_module", "source_type", "source_id", "publishable",
                  "publish_from", "publish_min_until", "publish_until", "state", "state_reason", "created", "updated"]
        read_only_fields = fields


@extend_schema_view(list=extend_schema(summary=_("信用档案记录列表")), retrieve=extend_schema(summary=_("信用档案记录详情")))
class CreditRecordViewSet(RestrictedReadOnlyViewSet):
    """An entity's credit file, one record per fact; read-only (the modules record through the service)."""

    queryset = CreditRecord.objects.select_related("entity")
    serializer_class = CreditRecordSerializer
    filterset_class = CreditRecordFilterSet
    ordering_fields = ["occurred_on", "kind", "state", "publish_until", "updated"]
