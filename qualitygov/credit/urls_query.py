"""Back-office pages of the credit query area (in the "credit" namespace at /credit/): objections,
statements and the enterprise's statement form."""

from django.urls import path

from qualitygov.core.views import ObjectHistoryView
from qualitygov.credit import views_query

urlpatterns = [
    path("objections/", views_query.CreditObjectionListView.as_view(), name="creditobjection_list"),
    path("objections/<int:pk>/", views_query.CreditObjectionDetailView.as_view(), name="creditobjection_detail"),
    path("objections/<int:pk>/history/", ObjectHistoryView.as_view(queryset=views_query.OBJECTION_QS),
         name="creditobjection_history"),
    path("statements/", views_query.EntityStatementListView.as_view(), name="entitystatement_list"),
    path("statements/records/", views_query.StatementRecordsView.as_view(), name="statement_records"),
    path("statements/add/<int:record>/", views_query.StatementAddView.as_view(), name="statement_add"),
    path("statements/<int:pk>/", views_query.EntityStatementDetailView.as_view(), name="entitystatement_detail"),
    path("statements/<int:pk>/history/", ObjectHistoryView.as_view(queryset=views_query.STATEMENT_QS),
         name="entitystatement_history"),
]
