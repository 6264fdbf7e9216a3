"""Recall pages at /trace/recalls/ (namespace "trace"): ``recall_list``, ``recall_add``, ``recall_detail``,
``recall_history``, ``recallnotice_list`` (notices to holders, confirmed there), ``recall_report`` (the
officers' follow-up: reports due and overdue, completions and effectiveness)."""

from django.urls import path

from qualitygov.core.views import ObjectHistoryView
from qualitygov.trace import views_recall as views

urlpatterns = [
    path("recalls/", views.RecallListView.as_view(queryset=views.RECALL_QS, filterset_class=views.RecallFilterSet,
                                                  table_class=views.RecallTable, export_columns=views.RECALL_EXPORT),
         name="recall_list"),
    path("recalls/add/", views.RecallAddView.as_view(), name="recall_add"),
    path("recalls/notices/", views.RecallNoticeListView.as_view(), name="recallnotice_list"),
    path("recalls/report/", views.RecallReportView.as_view(), name="recall_report"),
    path("recalls/<int:pk>/", views.RecallDetailView.as_view(queryset=views.RECALL_QS), name="recall_detail"),
    path("recalls/<int:pk>/history/", ObjectHistoryView.as_view(queryset=views.RECALL_QS), name="recall_history"),
]
