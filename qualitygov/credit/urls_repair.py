"""Credit-repair pages at /credit/repairs/: ``repairapplication_list`` (filters: status, target,
overdue), ``_add`` (the enterprise's application), ``_detail`` (with the steps), ``_history``."""

from django.urls import path

from qualitygov.core.views import ObjectHistoryView
from qualitygov.credit import views_repair as views

urlpatterns = [
    path("repairs/", views.RepairListView.as_view(queryset=views.REPAIR_QS, filterset_class=views.RepairFilterSet,
                                                  table_class=views.RepairTable, export_columns=views.REPAIR_EXPORT),
         name="repairapplication_list"),
    path("repairs/add/", views.RepairAddView.as_view(), name="repairapplication_add"),
    path("repairs/<int:pk>/", views.RepairDetailView.as_view(queryset=views.REPAIR_QS),
         name="repairapplication_detail"),
    path("repairs/<int:pk>/history/", ObjectHistoryView.as_view(queryset=views.REPAIR_QS),
         name="repairapplication_history"),
]
