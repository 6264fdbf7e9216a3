from django.urls import path

from qualitygov.registry import import_views, views

app_name = "registry"


def crud(prefix: str, name: str, list_view, detail, edit, delete, history):
    return [
        path(f"{prefix}/", list_view.as_view(), name=f"{name}_list"),
        path(f"{prefix}/add/", edit.as_view(), name=f"{name}_add"),
        path(f"{prefix}/<int:pk>/", detail.as_view(), name=f"{name}_detail"),
        path(f"{prefix}/<int:pk>/edit/", edit.as_view(), name=f"{name}_edit"),
        path(f"{prefix}/<int:pk>/delete/", delete.as_view(), name=f"{name}_delete"),
        path(f"{prefix}/<int:pk>/history/", history.as_view(), name=f"{name}_history"),
    ]


urlpatterns = [
    # Bulk import pages and their templates (before the CRUD patterns, which they extend).
    path("entities/import/", import_views.EntityImportView.as_view(), name="marketentity_import"),
    path("products/import/", import_views.ProductImportView.as_view(), name="product_import"),
    path("licences/import/", import_views.LicenceImportView.as_view(), name="licence_import"),
    path("import/template/<str:kind>.<str:fmt>", import_views.ImportTemplateView.as_view(), name="import_template"),
    path("licences/expiring/", views.ExpiringLicenceListView.as_view(), name="licence_expiring"),
    *crud("entities", "marketentity", views.EntityListView, views.EntityDetailView, views.EntityEditView,
          views.EntityDeleteView, views.EntityHistoryView),
    *crud("quality-persons", "qualityperson", views.QualityPersonListView, views.QualityPersonDetailView,
          views.QualityPersonEditView, views.QualityPersonDeleteView, views.QualityPersonHistoryView),
    *crud("products", "product", views.ProductListView, views.ProductDetailView, views.ProductEditView,
          views.ProductDeleteView, views.ProductHistoryView),
    *crud("licences", "licence", views.LicenceListView, views.LicenceDetailView, views.LicenceEditView,
          views.LicenceDeleteView, views.LicenceHistoryView),
]
