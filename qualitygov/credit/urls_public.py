"""Public credit pages (no sign-in), mounted at /public/credit/: the two lists and the credit query."""

from django.urls import path

from qualitygov.credit import views_public, views_query_public

app_name = "public-credit"

urlpatterns = [
    path("", views_public.PublicSeriousListView.as_view(), name="serious_list"),
    path("abnormal-operation/", views_public.PublicAbnormalListView.as_view(), name="abnormal_list"),
    path("search/", views_query_public.PublicSearchView.as_view(), name="search"),
    path("entities/<str:uscc>/", views_query_public.PublicEntityView.as_view(), name="entity"),
    path("records/<int:pk>/objection/", views_query_public.PublicObjectionView.as_view(), name="objection"),
    path("objections/<str:number>/", views_query_public.PublicObjectionDoneView.as_view(), name="objection_done"),
]
