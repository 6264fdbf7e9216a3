"""Registry records in Django's admin, for back-office maintenance."""

from django.contrib import admin

from qualitygov.registry.models import EntityMembership, Licence, MarketEntity, Product, QualityPerson


@admin.register(MarketEntity)
class MarketEntityAdmin(admin.ModelAdmin):
    list_display = ("name", "uscc", "region", "industry", "status")
    list_filter = ("status", "size_class")
    search_fields = ("name", "uscc")
    raw_id_fields = ("region", "industry")


@admin.register(QualityPerson)
class QualityPersonAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "entity")
    raw_id_fields = ("entity",)
    search_fields = ("name",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "gtin", "category", "producer", "is_key")
    raw_id_fields = ("producer",)
    search_fields = ("name", "gtin")


@admin.register(Licence)
class LicenceAdmin(admin.ModelAdmin):
    list_display = ("number", "kind", "entity", "valid_until", "status")
    list_filter = ("kind", "status")
    raw_id_fields = ("entity",)
    search_fields = ("number",)


@admin.register(EntityMembership)
class EntityMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "entity")
    raw_id_fields = ("user", "entity")
