"""Pages of the sharing area (issue 4 item 7): the access log and the key management pages."""

from django.urls import path

from qualitygov.credit import views_sharing

urlpatterns = [
    path("access-log/", views_sharing.AccessLogListView.as_view(), name="accesslog_list"),
    path("sharing/keys/", views_sharing.SharingKeyListView.as_view(), name="sharingkey_list"),
    path("sharing/keys/add/", views_sharing.SharingKeyIssueView.as_view(), name="sharingkey_add"),
    path("sharing/keys/<int:pk>/", views_sharing.SharingKeyDetailView.as_view(), name="sharingkey_detail"),
    path("sharing/keys/<int:pk>/revoke/", views_sharing.SharingKeyRevokeView.as_view(), name="sharingkey_revoke"),
]
