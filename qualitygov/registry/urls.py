from django.urls import path

from qualitygov.core.views import object_urls
from qualitygov.registry import filtersets, forms, import_views, tables, views

app_name = "registry"


urlpatterns = [
    # Bulk import pages and their templates (before the CRUD patterns, which they extend).
    path("entities/import/", import_views.EntityImportView.as_view(), name="marketentity_import"),
    path("products/import/", import_views.ProductImportView.as_view(), name="product_import"),
    path("licences/import/", import_views.LicenceImportView.as_view(), name="licence_import"),
    path("import/template/<str:kind>.<str:fmt>", import_views.ImportTemplateView.as_view(), name="import_template"),
    path("licences/expiring/", views.ExpiringLicenceListView.as_view(), name="licence_expiring"),
    *object_urls("entities", "marketentity", views.ENTITY_QS, filterset_class=filtersets.MarketEntityFilterSet,
                 table_class=tables.MarketEntityTable, form_class=forms.MarketEntityForm,
                 export_columns=views.ENTITY_EXPORT, detail_view=views.EntityDetailView),
    *object_urls("quality-persons", "qualityperson", views.PERSON_QS,
                 filterset_class=filtersets.QualityPersonFilterSet, table_class=tables.QualityPersonTable,
                 form_class=forms.QualityPersonForm, export_columns=views.PERSON_EXPORT),
    *object_urls("products", "product", views.PRODUCT_QS, filterset_class=filtersets.ProductFilterSet,
                 table_class=tables.ProductTable, form_class=forms.ProductForm, export_columns=views.PRODUCT_EXPORT),
    *object_urls("licences", "licence", views.LICENCE_QS, filterset_class=filtersets.LicenceFilterSet,
                 table_class=tables.LicenceTable, form_class=forms.LicenceForm, export_columns=views.LICENCE_EXPORT),
]
