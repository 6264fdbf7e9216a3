"""Top-level URLs: the back office, the API and its documentation, admin, and language switching."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from qualitygov.core import views as core_views

urlpatterns = [
    path("", core_views.HomeView.as_view(), name="home"),
    path("healthz", core_views.health, name="health"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("core/", include("qualitygov.core.urls")),
    path("registry/", include("qualitygov.registry.urls")),
    path("credit/", include("qualitygov.credit.urls")),
    path("trace/", include("qualitygov.trace.urls")),
    path("inspection/", include("qualitygov.inspection.urls")),
    path("complaints/", include("qualitygov.complaints.urls")),
    path("public/spot-checks/", include("qualitygov.inspection.urls_public")),
    path("public/credit/", include("qualitygov.credit.urls_public")),
    path("public/trace/", include("qualitygov.trace.urls_public")),
    path("public/complaints/", include("qualitygov.complaints.urls_public")),
    # GS1 Digital Link paths (/01/{gtin}/10/{batch}, ...) resolve to the consumer lookup.
    path("", include("qualitygov.trace.urls_resolver")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("qualitygov.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

handler403 = "qualitygov.core.views.permission_denied"
handler404 = "qualitygov.core.views.page_not_found"
handler500 = "qualitygov.core.views.server_error"
