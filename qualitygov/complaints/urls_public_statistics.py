"""Public pages of the complaints module: the published monthly summaries (namespace "complaints-public")."""

from django.urls import path

from qualitygov.complaints import views_public_statistics

urlpatterns = [
    path("statistics/", views_public_statistics.SummaryListView.as_view(), name="stats-summary-list"),
    path("statistics/<int:year>/<int:month>/", views_public_statistics.SummaryDetailView.as_view(),
         name="stats-summary-detail"),
]
