"""The consumer lookup page (no sign-in), mounted at /public/trace/ (namespace "public-trace")."""

from django.urls import path

from qualitygov.trace import views_public

app_name = "public-trace"

urlpatterns = [
    path("", views_public.LookupView.as_view(), name="lookup"),
]
