from django.urls import include, path

from qualitygov.complaints import api_cases, api_intake, api_rewards, api_statistics

_AREAS = (api_intake, api_cases, api_rewards, api_statistics)

urlpatterns = [
    path("complaints/", include(([p for area in _AREAS for p in area.urlpatterns], "complaints-api"))),
    path("public/complaints/", include(([p for area in _AREAS for p in area.public_urlpatterns],
                                        "public-complaints-api"))),
]
