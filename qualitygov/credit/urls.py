from qualitygov.credit import (
                               filtersets,
                               tables,
                               urls_dashboard,
                               urls_query,
                               urls_repair,
                               urls_scores,
                               urls_sharing,
                               views,
)

app_name = "credit"

urlpatterns = [
    *views.read_only_object_urls("records", "creditrecord", views.RECORD_QS,
                                 filterset_class=filtersets.CreditRecordFilterSet,
                                 table_class=tables.CreditRecordTable, export_columns=views.RECORD_EXPORT,
                                 detail_view=views.CreditRecordDetailView),
    *views.list_entry_urls("lists"),
    # Each area of the credit module keeps its pages in its own URL module.
    *urls_repair.urlpatterns,
    *urls_scores.urlpatterns,
    *urls_query.urlpatterns,
    *urls_dashboard.urlpatterns,
    *urls_sharing.urlpatterns,
]
