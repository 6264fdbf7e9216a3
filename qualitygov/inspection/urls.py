"""Spot-check pages, mounted at /inspection/; each part keeps its patterns in its own module."""

from django.urls import include, path

app_name = "inspection"

urlpatterns = [
    path("", include("qualitygov.inspection.urls_plans")),
    path("", include("qualitygov.inspection.urls_samples")),
    path("", include("qualitygov.inspection.urls_statistics")),
]
