"""Credit dashboard pages (issue 4, item 8), included in the "credit" namespace at /credit/."""

from django.urls import path

from qualitygov.credit import views_dashboard

urlpatterns = [
    path("dashboard/", views_dashboard.DashboardView.as_view(), name="dashboard"),
    path("dashboard/export/<slug:table>/<slug:fmt>/", views_dashboard.DashboardExportView.as_view(),
         name="dashboard_export"),
]
