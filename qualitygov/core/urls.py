from django.urls import path

from qualitygov.core import views

app_name = "core"

urlpatterns = [
    path("audit/", views.AuditLogListView.as_view(), name="auditlog_list"),
    path("audit/<int:pk>/", views.AuditLogDetailView.as_view(), name="auditlog_detail"),
]
