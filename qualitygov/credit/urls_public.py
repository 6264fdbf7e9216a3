"""Public credit-list pages (no sign-in), mounted at /public/credit/."""

from django.urls import path

from qualitygov.credit import views_public

app_name = "public-credit"

urlpatterns = [
    path("", views_public.PublicSeriousListView.as_view(), name="serious_list"),
    path("abnormal-operation/", views_public.PublicAbnormalListView.as_view(), name="abnormal_list"),
]
