"""Back-office statistics pages of the complaints module (issue 6 item 8), in the "complaints" namespace."""

from django.urls import path

from qualitygov.complaints import views_statistics

urlpatterns = [
    path("statistics/", views_statistics.StatisticsView.as_view(), name="stats-dashboard"),
    path("statistics/export/<slug:table>/<slug:fmt>/", views_statistics.StatisticsExportView.as_view(),
         name="stats-export"),
    path("statistics/publish/", views_statistics.PublishView.as_view(), name="stats-publish"),
]
