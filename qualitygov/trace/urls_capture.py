"""Pages of the capture area (issue 5): capture keys and capture jobs."""

from django.urls import path

from qualitygov.trace import views_capture

urlpatterns = [
    path("capture/keys/", views_capture.CaptureKeyListView.as_view(), name="capturekey_list"),
    path("capture/keys/add/", views_capture.CaptureKeyIssueView.as_view(), name="capturekey_add"),
    path("capture/keys/<int:pk>/revoke/", views_capture.CaptureKeyRevokeView.as_view(), name="capturekey_revoke"),
    path("capture/jobs/", views_capture.CaptureJobListView.as_view(), name="capturejob_list"),
    path("capture/jobs/<uuid:pk>/", views_capture.CaptureJobDetailView.as_view(), name="capturejob_detail"),
]
