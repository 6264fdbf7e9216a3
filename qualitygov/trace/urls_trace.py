"""Trace pages (issue 5, item 5), in the "trace" namespace at /trace/."""

from django.urls import path

from qualitygov.trace import views_trace

urlpatterns = [
    path("", views_trace.TraceView.as_view(), name="trace"),
    path("export/<slug:table>/", views_trace.TraceExportView.as_view(), name="trace_export"),
]
