"""Back-office pages of the complaints module: the similar-cases panel of a case and the merge action
(``views_similar``)."""

from django.urls import path

from qualitygov.complaints import views_similar as views

urlpatterns = [
    path("cases/<int:case_pk>/similar/", views.CaseSimilarView.as_view(), name="case-similar"),
    path("cases/<int:case_pk>/merge/", views.CaseMergeView.as_view(), name="case-merge"),
]
