"""The credit ledger in Django's admin: read-only, since records are written only by credit.services."""

from django.contrib import admin

from qualitygov.credit.models import CreditRecord


@admin.register(CreditRecord)
class CreditRecordAdmin(admin.ModelAdmin):
    list_display = ("entity", "kind", "occurred_on", "state", "publishable", "publish_until")
    list_filter = ("kind", "state", "polarity", "publishable")
    search_fields = ("entity__name", "entity__uscc", "source_id")
    raw_id_fields = ("entity", "recorded_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
