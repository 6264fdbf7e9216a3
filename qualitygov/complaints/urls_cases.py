"""Back-office pages of the complaints module: case handling (see ``views_cases``)."""

from django.urls import path

from qualitygov.complaints import views_cases as views
from qualitygov.core.views import ObjectHistoryView

urlpatterns = [
    path("cases/", views.case_list_view(), name="case_list"),
    path("cases/due/", views.CaseDueView.as_view(), name="case-due"),
    path("cases/notices/", views.RespondentNoticeListView.as_view(), name="case-notices"),
    path("cases/<int:pk>/", views.CaseDetailView.as_view(queryset=views.CASE_QS), name="case_detail"),
    path("cases/<int:pk>/history/", ObjectHistoryView.as_view(queryset=views.CASE_QS), name="case_history"),
]
