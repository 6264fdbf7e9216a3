"""Back-office pages of the complaints module: intake (officer entry, receipt, attachments, identity)."""

from django.urls import path

from qualitygov.complaints import views_intake

urlpatterns = [
    path("intake/new/", views_intake.EntryView.as_view(), name="intake-entry"),
    path("intake/submissions/<int:pk>/", views_intake.EnteredView.as_view(), name="intake-entered"),
    path("intake/attachments/<int:pk>/", views_intake.AttachmentView.as_view(), name="intake-attachment"),
    path("intake/cases/<int:pk>/identity/", views_intake.IdentityView.as_view(), name="intake-identity"),
]
