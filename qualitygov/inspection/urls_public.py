"""Public portal pages of the spot-check module (no sign-in), mounted at /public/spot-checks/."""

from django.urls import path

from qualitygov.inspection import views_public

app_name = "public-inspection"

urlpatterns = [
    path("", views_public.PublicResultListView.as_view(), name="result_list"),
    path("results/<str:number>/", views_public.PublicResultDetailView.as_view(), name="result_detail"),
    path("draws/", views_public.PublicDrawListView.as_view(), name="draw_list"),
    path("draws/<int:pk>/", views_public.PublicDrawDetailView.as_view(), name="draw_detail"),
]
