"""Credit score pages (issue 4, items 2-3), in the ``credit`` namespace."""

from django.urls import path

from qualitygov.credit import views_scores

urlpatterns = [
    path("scores/models/", views_scores.ScoreModelListView.as_view(), name="scoremodel_list"),
    path("scores/models/<int:pk>/", views_scores.ScoreModelDetailView.as_view(), name="scoremodel_detail"),
    path("scores/models/<int:pk>/new-version/", views_scores.NewVersionView.as_view(),
         name="scoremodel_new_version"),
    path("scores/runs/", views_scores.ScoringRunListView.as_view(), name="scoringrun_list"),
    path("scores/runs/<int:pk>/", views_scores.ScoringRunDetailView.as_view(), name="scoringrun_detail"),
    path("entities/<int:pk>/", views_scores.EntityCreditView.as_view(), name="entity_credit"),
]
