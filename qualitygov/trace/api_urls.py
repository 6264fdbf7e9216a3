"""The traceability API: the EPCIS 2.0 REST bindings at /api/v1/epcis/ (capture and query, URL
namespace "api:epcis") and the regulator's trace at /api/v1/trace/ ("api:trace-api"). Each area keeps
its views in its own module's ``urlpatterns``; this file only mounts them. Recalls are at
/api/v1/recalls/ ("api:recall-api"), the consumer lookup at /api/v1/public/trace/
("api:public-trace-api")."""

from django.urls import include, path

from qualitygov.trace import api_capture, api_public, api_query, api_recall, api_trace

urlpatterns = [
    path("epcis/", include(([*api_capture.urlpatterns, *api_query.urlpatterns], "epcis"))),
    path("trace/", include((api_trace.urlpatterns, "trace-api"))),
    path("recalls/", include((api_recall.urlpatterns, "recall-api"))),
    path("public/trace/", include((api_public.urlpatterns, "public-trace-api"))),
]
