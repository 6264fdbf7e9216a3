"""Back-office maintenance through Django's admin: users and roles, reference data, audit log (read-only)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from qualitygov.core.models import AuditLog, Industry, ProductCategory, Region, User

admin.site.site_header = _("吉林省质量监管平台 · 后台维护")
admin.site.site_title = _("质量监管平台后台")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "last_name", "first_name", "role", "region", "organisation", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "first_name", "last_name", "organisation")
    fieldsets = (*DjangoUserAdmin.fieldsets, (_("角色与辖区"), {"fields": ("role", "region", "organisation", "phone")}))
    add_fieldsets = (*DjangoUserAdmin.add_fieldsets, (_("角色与辖区"), {"fields": ("role", "region", "organisation")}))


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "kind", "parent", "is_development_zone")
    list_filter = ("level", "kind", "is_development_zone")
    search_fields = ("code", "name")


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")


@admin.register(ProductCategory)
class ProductCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent", "industry", "is_key")
    list_filter = ("is_key",)
    search_fields = ("code", "name")


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only."""

    list_display = ("time", "username", "action", "content_type", "object_repr", "region", "ip_address")
    list_filter = ("action", "content_type")
    search_fields = ("object_repr", "username", "object_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
