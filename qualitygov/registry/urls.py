from django.urls import path

from qualitygov.registry import views

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
