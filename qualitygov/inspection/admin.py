"""Spot-check records in Django's admin, for back-office maintenance."""

from django.contrib import admin

from qualitygov.inspection.models import (
    ImplementationRule,
    LotInspection,
    RuleVersion,
    SupplierInspectionState,
    TestItem,
)


class LotInspectionInline(admin.TabularInline):
    model = LotInspection
    extra = 0
    can_delete = False
    fields = ("lot_number", "inspected_on", "lot_size", "code_letter", "sample_size", "accept_number",
              "reject_number", "nonconforming", "accepted", "severity_before", "severity_after")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        # Lots go through acceptance_service.record_lot, which applies the plan and the switching rules.
        return False


@admin.register(SupplierInspectionState)
class SupplierInspectionStateAdmin(admin.ModelAdmin):
    list_display = ("entity", "product", "aql", "inspection_level", "severity", "switching_score", "discontinued",
                    "lots_inspected")
    list_filter = ("severity", "discontinued", "inspection_level")
    search_fields = ("entity__name", "entity__uscc", "product__name")
    raw_id_fields = ("entity", "product")
    # The counters move only by the switching rules (acceptance_service), never by hand.
    readonly_fields = ("severity", "switching_score", "normal_window", "consecutive_accepted",
                       "not_accepted_on_tightened", "discontinued", "lots_inspected")
    inlines = [LotInspectionInline]


@admin.register(LotInspection)
class LotInspectionAdmin(admin.ModelAdmin):
    list_display = ("lot_number", "supplier_state", "inspected_on", "sample_size", "accept_number", "nonconforming",
                    "accepted", "severity_before", "severity_after")
    list_filter = ("accepted", "severity_before", "hundred_percent")
    search_fields = ("lot_number", "supplier_state__entity__name")
    raw_id_fields = ("supplier_state", "inspector")
    date_hierarchy = "inspected_on"

    def has_change_permission(self, request, obj=None):
        # A lot's record is history: the decision and the switch it caused are not edited afterwards.
        return False


class TestItemInline(admin.TabularInline):
    model = TestItem
    extra = 0
    fields = ("sequence", "code", "name", "item_class", "standard", "clause", "requirement", "limit_kind",
              "limit_min", "limit_max", "unit", "method_standard")


class RuleVersionInline(admin.TabularInline):
    model = RuleVersion
    extra = 0
    fields = ("label", "effective_from", "effective_to", "status", "test_sample_count", "spare_sample_count",
              "sample_unit", "used")
    readonly_fields = ("used",)
    show_change_link = True


@admin.register(ImplementationRule)
class ImplementationRuleAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "category")
    search_fields = ("code", "title", "category__name")
    inlines = [RuleVersionInline]


@admin.register(RuleVersion)
class RuleVersionAdmin(admin.ModelAdmin):
    """Versions with their test items; a version a plan has used refuses changes to its content."""

    list_display = ("rule", "label", "effective_from", "effective_to", "status", "used")
    list_filter = ("status", "used")
    readonly_fields = ("used",)
    inlines = [TestItemInline]
