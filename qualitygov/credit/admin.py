"""The credit ledger in Django's admin: read-only, since records are written only by credit.services."""

from django.contrib import admin

from qualitygov.credit.models import CreditRecord, EntityScore, ListEntry, ScoreModel, ScoringRun


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only through the credit services (scoring, lists): shown, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScoreModel)
class ScoreModelAdmin(ReadOnlyAdmin):
    list_display = ("version", "status", "used", "base_score", "created")
    list_filter = ("status", "used")


@admin.register(ScoringRun)
class ScoringRunAdmin(ReadOnlyAdmin):
    list_display = ("model", "kind", "as_of", "status", "entity_count", "record_count", "duration_ms", "started_at")
    list_filter = ("kind", "status")


@admin.register(EntityScore)
class EntityScoreAdmin(ReadOnlyAdmin):
    list_display = ("entity", "score", "grade", "risk_class", "model", "as_of")
    list_filter = ("grade", "risk_class")
    search_fields = ("entity__name", "entity__uscc")
    raw_id_fields = ("entity", "run")


@admin.register(ListEntry)
class ListEntryAdmin(ReadOnlyAdmin):
    list_display = ("entity", "kind", "status", "listed_on", "removal_due_on", "removed_on", "removal_reason")
    list_filter = ("kind", "status", "removal_reason")
    search_fields = ("entity__name", "entity__uscc", "decision_number")
    raw_id_fields = ("entity", "listed_by", "removed_by")
