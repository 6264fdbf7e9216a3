"""The spot-check statistics page (officers), included by ``inspection/urls.py``."""

from django.urls import path

from qualitygov.inspection import views_statistics

urlpatterns = [
    path("statistics/", views_statistics.StatisticsView.as_view(), name="statistics"),
]
