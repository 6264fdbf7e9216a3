"""The consumer's public pages (no sign-in), mounted at /public/trace/ (namespace "public-trace"):
``lookup`` (the product lookup), ``recall_list`` and ``recall_detail`` (published recall notices)."""

from django.urls import path

from qualitygov.trace import views_public

app_name = "public-trace"

urlpatterns = [
    path("", views_public.LookupView.as_view(), name="lookup"),
    path("recalls/", views_public.RecallListView.as_view(), name="recall_list"),
    path("recalls/<str:number>/", views_public.RecallDetailView.as_view(), name="recall_detail"),
]
