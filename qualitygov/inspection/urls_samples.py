"""Pages of sampling records, lab results, objections and rectifications (inside the ``inspection`` namespace)."""

from django.urls import path

from qualitygov.core.views import ObjectHistoryView
from qualitygov.inspection import views_samples as views

urlpatterns = [
    path("samples/", views.SampleListView.as_view(), name="sample_list"),
    path("samples/add/", views.SampleAddView.as_view(), name="sample_add"),
    path("samples/refusal/add/", views.SampleRefusalAddView.as_view(), name="sample_refusal_add"),
    path("samples/<int:pk>/", views.SampleDetailView.as_view(), name="sample_detail"),
    path("samples/<int:pk>/history/", ObjectHistoryView.as_view(queryset=views.SAMPLE_QS), name="sample_history"),
    path("samples/<int:pk>/actions/<slug:action>/", views.SampleActionView.as_view(), name="sample_action"),
    path("samples/<int:pk>/results/add/", views.ResultAddView.as_view(), name="result_add"),
    path("samples/attachments/<int:pk>/", views.SampleAttachmentView.as_view(), name="sample_attachment"),
    path("results/upload/", views.ResultUploadView.as_view(), name="result_upload"),
    path("results/upload/template.csv", views.ResultUploadTemplateView.as_view(), name="result_upload_template"),
    path("objections/", views.ObjectionListView.as_view(), name="objection_list"),
    path("objections/pending/", views.ObjectionQueueView.as_view(), name="objection_pending"),
    path("rectifications/", views.RectificationListView.as_view(), name="rectification_list"),
    path("rectifications/overdue/", views.RectificationOverdueView.as_view(), name="rectification_overdue"),
]
