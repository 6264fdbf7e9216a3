"""The open API, version 1: every module's viewsets on one router."""

from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from qualitygov.core import api_views
from qualitygov.credit import api as credit_api
from qualitygov.registry import api as registry_api

app_name = "api"

router = DefaultRouter()
router.register("regions", api_views.RegionViewSet)
router.register("industries", api_views.IndustryViewSet)
router.register("product-categories", api_views.ProductCategoryViewSet)
router.register("audit-log", api_views.AuditLogViewSet)
router.register("entities", registry_api.MarketEntityViewSet)
router.register("quality-persons", registry_api.QualityPersonViewSet)
router.register("products", registry_api.ProductViewSet)
router.register("licences", registry_api.LicenceViewSet)
router.register("credit-records", credit_api.CreditRecordViewSet)
router.register("credit-lists", credit_api.ListEntryViewSet)
router.register("public/credit-lists", credit_api.PublicListEntryViewSet, basename="public-credit-list")

urlpatterns = [
    path("inspection/", include("qualitygov.inspection.api_urls")),
    path("", include("qualitygov.credit.api_urls")),
    path("", include("qualitygov.trace.api_urls")),
    path("", include("qualitygov.complaints.api_urls")),
    path("me/", api_views.me, name="me"),
    path("check-id/", api_views.check_id, name="check-id"),
    path("auth/token/", obtain_auth_token, name="auth-token"),
    *router.urls,
]
