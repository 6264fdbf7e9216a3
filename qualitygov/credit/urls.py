from qualitygov.credit import filtersets, tables, views

app_name = "credit"

urlpatterns = [
    *views.read_only_object_urls("records", "creditrecord", views.RECORD_QS,
                                 filterset_class=filtersets.CreditRecordFilterSet,
                                 table_class=tables.CreditRecordTable, export_columns=views.RECORD_EXPORT,
                                 detail_view=views.CreditRecordDetailView),
    *views.list_entry_urls("lists"),
]
