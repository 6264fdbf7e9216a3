"""Registry API: serializers and viewsets, sharing the pages' filter sets and the base scope."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from qualitygov.core.api import RestrictedModelViewSet
from qualitygov.core.identifiers import IdentifierError, validate_gtin, validate_uscc
from qualitygov.core.models import Industry, ProductCategory, Region
from qualitygov.registry import filtersets
from qualitygov.registry.models import Licence, MarketEntity, Product, QualityPerson


def _entity_field(label: str):
    return serializers.SlugRelatedField(slug_field="uscc", queryset=MarketEntity.objects.all(), label=label,
                                        error_messages={"does_not_exist": "未找到统一社会信用代码为 {value} 的市场主体。"})


class ScopedEntityField(serializers.SlugRelatedField):
    """An entity chosen by USCC, limited to the entities the requesting user may see."""

    def get_queryset(self):
        request = self.context.get("request")
        return MarketEntity.objects.restrict(request.user, "view") if request else MarketEntity.objects.none()


class MarketEntitySerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(), label="区划代码")
    region_name = serializers.CharField(source="region.name", read_only=True)
    industry = serializers.SlugRelatedField(slug_field="code", queryset=Industry.objects.filter(level="division"),
                                            label="行业代码")
    industry_name = serializers.CharField(source="industry.name", read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:marketentity-detail")

    class Meta:
        model = MarketEntity
        fields = ["id", "url", "uscc", "name", "legal_representative", "region", "region_name", "industry",
                  "industry_name", "address", "size_class", "registration_date", "status", "phone", "created",
                  "updated"]
        read_only_fields = ["created", "updated"]

    def validate_uscc(self, value):
        try:
            return validate_uscc(value)
        except IdentifierError as exc:
            raise serializers.ValidationError(exc.reason, code=exc.code) from exc


class QualityPersonSerializer(serializers.ModelSerializer):
    entity = ScopedEntityField(slug_field="uscc", label="市场主体统一社会信用代码")

    class Meta:
        model = QualityPerson
        fields = ["id", "entity", "name", "position", "phone", "email", "appointed_on", "certificate_no",
                  "created", "updated"]
        read_only_fields = ["created", "updated"]


class ProductSerializer(serializers.ModelSerializer):
    producer = ScopedEntityField(slug_field="uscc", label="生产者统一社会信用代码")
    category = serializers.SlugRelatedField(slug_field="code", queryset=ProductCategory.objects.all(),
                                            label="产品类别代码")

    class Meta:
        model = Product
        fields = ["id", "producer", "name", "brand", "model", "category", "gtin", "is_key", "created", "updated"]
        read_only_fields = ["created", "updated"]

    def validate_gtin(self, value):
        if not value:
            return None
        try:
            return validate_gtin(value)
        except IdentifierError as exc:
            raise serializers.ValidationError(exc.reason, code=exc.code) from exc


class LicenceSerializer(serializers.ModelSerializer):
    entity = ScopedEntityField(slug_field="uscc", label="持证主体统一社会信用代码")
    days_left = serializers.IntegerField(read_only=True)

    class Meta:
        model = Licence
        fields = ["id", "entity", "kind", "number", "issuer", "scope", "issued_on", "valid_until", "days_left",
                  "status", "created", "updated"]
        read_only_fields = ["created", "updated"]

    def validate(self, attrs):
        issued = attrs.get("issued_on", getattr(self.instance, "issued_on", None))
        until = attrs.get("valid_until", getattr(self.instance, "valid_until", None))
        if issued and until and until < issued:
            raise serializers.ValidationError({"valid_until": "有效期截止日不能早于发证日期。"})
        return attrs


@extend_schema_view(list=extend_schema(summary="市场主体列表"), retrieve=extend_schema(summary="市场主体详情"))
class MarketEntityViewSet(RestrictedModelViewSet):
    queryset = MarketEntity.objects.select_related("region", "industry")
    serializer_class = MarketEntitySerializer
    filterset_class = filtersets.MarketEntityFilterSet
    ordering_fields = ["name", "uscc", "registration_date", "region", "updated"]


class QualityPersonViewSet(RestrictedModelViewSet):
    queryset = QualityPerson.objects.select_related("entity")
    serializer_class = QualityPersonSerializer
    filterset_class = filtersets.QualityPersonFilterSet
    ordering_fields = ["name", "position", "appointed_on"]


class ProductViewSet(RestrictedModelViewSet):
    queryset = Product.objects.select_related("producer", "category")
    serializer_class = ProductSerializer
    filterset_class = filtersets.ProductFilterSet
    ordering_fields = ["name", "gtin", "updated"]


class LicenceViewSet(RestrictedModelViewSet):
    queryset = Licence.objects.select_related("entity")
    serializer_class = LicenceSerializer
    filterset_class = filtersets.LicenceFilterSet
    ordering_fields = ["valid_until", "issued_on", "number"]
