"""Registry API: serializers and viewsets, sharing the pages' filter sets and the base scope."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser

from qualitygov.core.api import RestrictedModelViewSet
from qualitygov.core.identifiers import IdentifierError, validate_gtin, validate_uscc
from qualitygov.core.models import Industry, ProductCategory, Region
from qualitygov.core.roles import Role
from qualitygov.registry import filtersets
from qualitygov.registry.import_api import import_response, import_schema
from qualitygov.registry.models import Licence, MarketEntity, Product, QualityPerson


class ScopedEntityField(serializers.SlugRelatedField):
    """An entity chosen by USCC, limited to the entities the requesting user may see."""

    def get_queryset(self):
        request = self.context.get("request")
        return MarketEntity.objects.restrict(request.user, "view") if request else MarketEntity.objects.none()


class MarketEntitySerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(), label=_("区划代码"))
    region_name = serializers.CharField(source="region.name", read_only=True)
    industry = serializers.SlugRelatedField(slug_field="code", queryset=Industry.objects.filter(level="division"),
                                            label=_("行业代码"))
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

    def validate(self, attrs):
        """Enterprise users may change only their contact details, as on the page."""
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if getattr(user, "role", None) == Role.ENTERPRISE:
            allowed = set(MarketEntity.enterprise_editable_fields)
            refused = {}
            for name, value in attrs.items():
                current = getattr(self.instance, name, None) if self.instance is not None else None
                if name not in allowed and value != current:
                    refused[name] = [_("企业用户只能修改联系电话和住所；登记事项由登记机关变更。")]
            if refused:
                raise serializers.ValidationError(refused)
        return attrs


class QualityPersonSerializer(serializers.ModelSerializer):
    entity = ScopedEntityField(slug_field="uscc", label=_("市场主体统一社会信用代码"))

    class Meta:
        model = QualityPerson
        fields = ["id", "entity", "name", "position", "phone", "email", "appointed_on", "certificate_no",
                  "created", "updated"]
        read_only_fields = ["created", "updated"]


class ProductSerializer(serializers.ModelSerializer):
    producer = ScopedEntityField(slug_field="uscc", label=_("生产者统一社会信用代码"))
    category = serializers.SlugRelatedField(slug_field="code", queryset=ProductCategory.objects.all(),
                                            label=_("产品类别代码"))

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
    entity = ScopedEntityField(slug_field="uscc", label=_("持证主体统一社会信用代码"))
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
            raise serializers.ValidationError({"valid_until": _("有效期截止日不能早于发证日期。")})
        return attrs


@extend_schema_view(list=extend_schema(summary=_("市场主体列表")), retrieve=extend_schema(summary=_("市场主体详情")))
class MarketEntityViewSet(RestrictedModelViewSet):
    queryset = MarketEntity.objects.select_related("region", "industry")
    serializer_class = MarketEntitySerializer
    filterset_class = filtersets.MarketEntityFilterSet
    ordering_fields = ["name", "uscc", "registration_date", "region", "updated"]

    @import_schema("entities")
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser], url_path="import", url_name="import")
    def bulk_import(self, request):
        """Import market entities from a CSV or XLSX file (all-or-nothing, idempotent on the natural key)."""
        return import_response(request, "entities")


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

    @import_schema("products")
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser], url_path="import", url_name="import")
    def bulk_import(self, request):
        """Import products from a CSV or XLSX file (all-or-nothing, idempotent on the natural key)."""
        return import_response(request, "products")


class LicenceViewSet(RestrictedModelViewSet):
    queryset = Licence.objects.select_related("entity")
    serializer_class = LicenceSerializer
    filterset_class = filtersets.LicenceFilterSet
    ordering_fields = ["valid_until", "issued_on", "number"]

    @import_schema("licences")
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser], url_path="import", url_name="import")
    def bulk_import(self, request):
        """Import licences and certificates from a CSV or XLSX file (all-or-nothing, idempotent)."""
        return import_response(request, "licences")
