"""Serializers of the spine's reference data and the signed-in user."""

from __future__ import annotations

from rest_framework import serializers

from qualitygov.core.models import AuditLog, Industry, ProductCategory, Region, User


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent_id", read_only=True)

    class Meta:
        model = Region
        fields = ["code", "name", "name_en", "level", "kind", "parent", "is_development_zone"]


class IndustrySerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent_id", read_only=True)

    class Meta:
        model = Industry
        fields = ["code", "name", "name_en", "level", "parent"]


class ProductCategorySerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent_id", read_only=True)
    industry = serializers.CharField(source="industry_id", read_only=True)

    class Meta:
        model = ProductCategory
        fields = ["code", "name", "name_en", "parent", "industry", "is_key"]


class MeSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region_id", read_only=True)
    entity = serializers.IntegerField(source="entity_id", read_only=True)

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "role", "region", "entity", "organisation"]


class AuditLogSerializer(serializers.ModelSerializer):
    content_type = serializers.CharField(source="content_type.model", read_only=True, default=None)

    class Meta:
        model = AuditLog
        fields = ["id", "time", "username", "ip_address", "action", "content_type", "object_id", "object_repr",
                  "region", "before", "after", "message", "prev_hash", "hash"]


class IdentifierCheckSerializer(serializers.Serializer):
    kind = serializers.CharField()
    valid = serializers.BooleanField()
    normalized = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_null=True)
    details = serializers.DictField(required=False)
