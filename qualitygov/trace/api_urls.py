"""The traceability API: the EPCIS 2.0 REST bindings at /api/v1/epcis/ (capture and query, URL
namespace "api:epcis") and the regulator's trace at /api/v1/trace/ ("api:trace-api"). Each area keeps
its views in its own module's ``urlpatterns``; this file only mounts them."""

from django.urls import include, path

from qualitygov.trace import api_capture, api_query, api_trace

urlpatterns = [
    path("epcis/", include(([*api_capture.urlpatterns, *api_query.urlpatterns], "epcis"))),
    path("trace/", include((api_trace.urlpatterns, "trace-api"))),
]
