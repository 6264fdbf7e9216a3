"""The credit module's API beyond the ledger and the lists, mounted at /api/v1/credit/ (signed-in
users), /api/v1/sharing/ (partner departments' keys) and /api/v1/public/credit/ (no sign-in).

Each area keeps its viewsets in its own module, which lists them in ``ROUTES`` (prefix, viewset,
basename) and its other views in ``urlpatterns``; this file only mounts them.
"""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from qualitygov.credit import api_dashboard, api_public_query, api_query, api_repair, api_scores, api_sharing


def _mount(*modules):
    router = SimpleRouter()
    extra = []
    for module in modules:
        for prefix, viewset, basename in getattr(module, "ROUTES", ()):
            router.register(prefix, viewset, basename=basename)
        extra += getattr(module, "urlpatterns", [])
    return [*extra, *router.urls]


credit_patterns = (_mount(api_repair, api_scores, api_query, api_dashboard), "credit-api")
sharing_patterns = (_mount(api_sharing), "sharing-api")
public_patterns = (_mount(api_public_query), "public-credit-api")

urlpatterns = [
    path("credit/", include(credit_patterns)),
    path("sharing/", include(sharing_patterns)),
    path("public/credit/", include(public_patterns)),
]
