"""EPCIS 2.0 query interface (REST bindings) at /api/v1/epcis/ (URL namespace "api:epcis").

``GET events`` answers an ``EPCISQueryDocument`` of the events the signed-in user's role, region and
entity allow, filtered by the standard's query parameters (``trace.queries``); the resource paths
``eventTypes/{eventType}/events``, ``epcs/{epc}/events`` (implies ``MATCH_anyEPC``),
``bizSteps/{bizStep}/events``, ``bizLocations/{bizLocation}/events``, ``readPoints/{readPoint}/events``
and ``dispositions/{disposition}/events`` are the same query with the path's parameter added (identifiers
URL-encoded; a Digital Link whose ``//`` a proxy merged is repaired). ``GET eventTypes`` lists the event
types. Paging: ``perPage`` and the opaque ``nextPageToken``; the next page's URL is in the ``Link`` header
(``rel="next"``) and the token also in ``GS1-Next-Page-Token`` (with ``GS1-Next-Page-Token-Expires``).

Errors are RFC 7807 problem bodies with the bindings' exception types
(``epcisException:QueryParameterException`` …) that also carry this platform's ``error`` object
(``code`` = the exception name, Chinese ``message``, ``details.parameter``).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from qualitygov.core.api import error_body
from qualitygov.trace import queries
from qualitygov.trace.models import EpcisEvent

EPCIS_HEADERS = {"GS1-EPCIS-Version": queries.EPCIS_VERSION, "GS1-CBV-Version": queries.CBV_VERSION}
_MERGED_SLASHES = re.compile(r"^(https?):/(?!/)")


def problem_response(error: queries.QueryError) -> Response:
    """The RFC 7807 answer of a refused query, with the platform's error object inside."""
    body = {"type": f"epcisException:{error.exception}", "title": error.message, "status": error.status,
            "detail": error.message,
            **error_body(error.status, error.exception, error.message,
                         {"parameter": [error.parameter]} if error.parameter else {})}
    return Response(body, status=error.status, content_type="application/problem+json", headers=EPCIS_HEADERS)


class EpcisQueryView(APIView):
    """Base of the query endpoints: sign-in and role checked against ``EpcisEvent`` (RolePermission)."""

    queryset = EpcisEvent.objects.all()  # for RolePermission: the role must be allowed to view events

    def finalize_response(self, request, response, *args, **kwargs):
        for name, value in EPCIS_HEADERS.items():
            response.headers.setdefault(name, value)
        return super().finalize_response(request, response, *args, **kwargs)


# The query parameters, for the API documentation (semantics in trace.queries).
QUERY_PARAMETERS = [OpenApiParameter(name, str, required=False) for name in (
    "eventType", "GE_eventTime", "LT_eventTime", "GE_recordTime", "LT_recordTime", "EQ_action", "EQ_bizStep",
    "EQ_disposition", "EQ_readPoint", "EQ_bizLocation", *sorted(queries.MATCH_ROLES), "EQ_eventID",
    "EQ_transformationID", "EXISTS_errorDeclaration", "EQ_errorReason", "orderBy", "orderDirection",
    "eventCountLimit", "maxEventCount", "perPage", "nextPageToken")]


class EventsView(EpcisQueryView):
    """``GET events`` (and the resource paths, via ``implied``): one page of matching events."""

    implied_parameter: str | None = None

    @extend_schema(summary="EPCIS 2.0 event query (EPCISQueryDocument)", parameters=QUERY_PARAMETERS,
                   responses={200: dict, 400: dict, 413: dict})
    def get(self, request, value: str | None = None):
        implied = {}
        if self.implied_parameter:
            implied[self.implied_parameter] = _MERGED_SLASHES.sub(r"\1://", value or "")
        try:
            query = queries.parse_query(request.query_params, implied=implied)
            page = queries.run_query(query, request.user)
        except queries.QueryError as error:
            return problem_response(error)
        headers = {}
        if page.next_token:
            link = request.build_absolute_uri(request.path) + "?" + urlencode(
                {"perPage": query.per_page, "nextPageToken": page.next_token})
            headers = {"Link": f'<{link}>; rel="next"', "GS1-Next-Page-Token": page.next_token,
                       "GS1-Next-Page-Token-Expires": page.token_expires.isoformat().replace("+00:00", "Z")}
        return Response(queries.query_document(page), headers=headers)


class EventTypesView(EpcisQueryView):
    """``GET eventTypes``: the event types this repository serves."""

    @extend_schema(summary="EPCIS 2.0 event types", responses={200: dict})
    def get(self, request):
        return Response(queries.event_types_collection())


def _resource(parameter: str):
    return EventsView.as_view(implied_parameter=parameter)


urlpatterns = [
    path("events", EventsView.as_view(), name="events"),
    path("eventTypes", EventTypesView.as_view(), name="event-types"),
    path("eventTypes/<str:value>/events", _resource("eventType"), name="event-type-events"),
    path("epcs/<path:value>/events", _resource("MATCH_anyEPC"), name="epc-events"),
    path("bizSteps/<path:value>/events", _resource("EQ_bizStep"), name="biz-step-events"),
    path("bizLocations/<path:value>/events", _resource("EQ_bizLocation"), name="biz-location-events"),
    path("readPoints/<path:value>/events", _resource("EQ_readPoint"), name="read-point-events"),
    path("dispositions/<path:value>/events", _resource("EQ_disposition"), name="disposition-events"),
]
