"""EPCIS 2.0 query interface (REST bindings) at /api/v1/epcis/ (URL namespace "api:epcis").

``GET events`` answers an ``EPCISQueryDocument`` of the events the signed-in user's role, region and
entity allow, filtered by the standard's query parameters (``trace.queries``); the resource paths
``eventTypes/{eventType}/events``, ``epcs/{epc}/events`` (implies ``MATCH_anyEPC``),
``bizSteps/{bizStep}/events``, ``bizLocations/{bizLocation}/events``, ``readPoints/{readPoint}/events``
and ``dispositions/{disposition}/events`` are the same query with the path's parameter added (identifiers
URL-encoded; a Digital Link whose ``//`` a proxy merged is repaired). ``GET eventTypes`` lists the event
types. Paging: ``perPage`` and the opaque ``nextPageToken``; the next page's URL is in the ``Link`` header
(``rel="next"``) and the token also in ``GS1-Next-Page-Token`` (with ``GS1-Next-Page-Token-Expires``).

``GET events/{eventID}`` answers the one event with that (URL-encoded) ID in an ``EPCISQueryDocument``
(with its error declaration when one was captured); 404 NoSuchNameException when it is not stored or
not in the caller's scope. A ``?`` of an ``ni:///…?ver=CBV2.0`` hash ID that the client left unencoded
arrives as the query string and is put back (this path takes no query parameters).

Named queries: ``POST queries`` (``{"name": …, "query": {…}}``, 201 with ``Location``; 409 when the
name is taken), ``GET queries`` (paged like the events), ``GET queries/{queryName}`` (the definition),
``DELETE queries/{queryName}`` (creator or province administrator; 204) and ``GET
queries/{queryName}/events`` (the query run for the caller, paged). Rules in ``trace.queries``.
Subscriptions (``queries/{queryName}/subscriptions``, WebSocket upgrades and the schedule/stream
parameters) are not supported: 501 ImplementationException, and they are left out of the API document.

Callers: a signed-in user whose role may view trace events, or an enterprise's capture key (its entity's
events, as the entity's enterprise users). Errors are RFC 7807 problem bodies with the bindings'
exception types (``epcisException:QueryParameterException`` …) that also carry this platform's
``error`` object (``code`` = the exception name, Chinese ``message``, ``details.parameter``).
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, urlencode

from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from qualitygov.core.api import error_body
from qualitygov.trace import queries
from qualitygov.trace.api_capture import CaptureKeyAuthentication
from qualitygov.trace.models import CaptureKey, EpcisEvent

EPCIS_HEADERS = {"GS1-EPCIS-Version": queries.EPCIS_VERSION, "GS1-CBV-Version": queries.CBV_VERSION}
_MERGED_SLASHES = re.compile(r"^(https?):/(?!/)")


def problem_response(error: queries.QueryError) -> Response:
    """The RFC 7807 answer of a refused query, with the platform's error object inside."""
    body = {"type": f"epcisException:{error.exception}", "title": error.message, "status": error.status,
            "detail": error.message,
            **error_body(error.status, error.exception, error.message,
                         {"parameter": [error.parameter]} if error.parameter else {})}
    return Response(body, status=error.status, content_type="application/problem+json", headers=EPCIS_HEADERS)


def reader_of(request):
    """Who is asking: the capture key the request presented, else the signed-in user."""
    return request.auth if isinstance(request.auth, CaptureKey) else request.user


class ReaderPermission(BasePermission):
    """Capture keys and users whose role may view trace events (``queries.may_query``), for every
    method: defining and deleting a named query is part of reading the repository."""

    message = gettext_lazy("您没有使用追溯事件查询接口的权限。")

    def has_permission(self, request, view):
        return queries.may_query(reader_of(request))


class EpcisQueryView(APIView):
    """Base of the query endpoints: a capture key, an API token or a session; ``ReaderPermission``."""

    authentication_classes = [CaptureKeyAuthentication, TokenAuthentication, SessionAuthentication]
    permission_classes = [ReaderPermission]
    queryset = EpcisEvent.objects.none()  # names the resource for the API document; scope is in queries

    def options(self, request, *args, **kwargs):
        """The bindings' discovery answer: 204 with the EPCIS and CBV versions served (DRF adds ``Allow``)."""
        response = Response(status=204)
        for name, value in {"GS1-EPCIS-Min": queries.EPCIS_VERSION, "GS1-EPCIS-Max": queries.EPCIS_VERSION,
                            "GS1-CBV-Min": queries.CBV_VERSION, "GS1-CBV-Max": queries.CBV_VERSION,
                            "GS1-EPC-Format": "Never_Translates", "GS1-Extensions": ""}.items():  # as captured
            response[name] = value
        return response

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
            page = queries.run_query(query, reader_of(request))
        except queries.QueryError as error:
            return problem_response(error)
        return Response(queries.query_document(page),
                        headers=_paging_headers(request, query.per_page, page.next_token, page.token_expires))


def _paging_headers(request, per_page: int, token: str, expires) -> dict:
    """The bindings' paging headers: ``Link`` to the next page (``perPage`` and ``nextPageToken`` only)
    and the token with its expiry; none on the last page."""
    if not token:
        return {}
    link = request.build_absolute_uri(request.path) + "?" + urlencode({"perPage": per_page, "nextPageToken": token})
    return {"Link": f'<{link}>; rel="next"', "GS1-Next-Page-Token": token,
            "GS1-Next-Page-Token-Expires": expires.isoformat().replace("+00:00", "Z")}


_MERGED_NI = re.compile(r"^ni:/{1,2}(?=[a-z0-9-]+;)")


class EventView(EpcisQueryView):
    """``GET events/{eventID}``: one event by its ID, in an EPCISQueryDocument."""

    @extend_schema(summary="EPCIS 2.0 event by its eventID (EPCISQueryDocument)",
                   parameters=[OpenApiParameter("event_id", str, OpenApiParameter.PATH,
                                                description="eventID, URL-encoded")],
                   responses={200: dict, 404: dict}, operation_id="epcis_event_by_id")
    def get(self, request, event_id: str):
        raw_query = request.META.get("QUERY_STRING", "")
        if raw_query:  # an unencoded "?" of the ID (this path has no query parameters)
            event_id = f"{event_id}?{raw_query}"
        event_id = _MERGED_NI.sub("ni:///", event_id)  # a proxy may merge the "///" of a hash ID
        try:
            event = queries.event_by_id(event_id, reader_of(request))
        except queries.QueryError as error:
            return problem_response(error)
        return Response(queries.query_document(queries.QueryPage([event], "", None)))


NAME_PARAMETER = OpenApiParameter("name", str, OpenApiParameter.PATH, description="queryName")


def _definition_location(request, name: str) -> str:
    return request.build_absolute_uri(f"{request.path.rstrip('/')}/{quote(name, safe='')}")


class QueriesView(EpcisQueryView):
    """``queries``: list the named queries the caller sees (GET), define one (POST)."""

    @extend_schema(summary="EPCIS 2.0 named queries", operation_id="epcis_queries_list",
                   parameters=[OpenApiParameter("perPage", int), OpenApiParameter("nextPageToken", str)],
                   responses={200: dict, 400: dict})
    def get(self, request):
        try:
            rows, token, expires = queries.list_named_queries(request.query_params, reader_of(request))
        except queries.QueryError as error:
            return problem_response(error)
        per_page = request.query_params.get("perPage") or queries.DEFAULT_PER_PAGE
        return Response([queries.definition_document(row) for row in rows],
                        headers=_paging_headers(request, per_page, token, expires))

    @extend_schema(summary="EPCIS 2.0 named query: create", operation_id="epcis_queries_create", request=dict,
                   responses={201: dict, 400: dict, 409: dict, 415: dict})
    def post(self, request):
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type not in ("application/json", "application/ld+json"):
            return problem_response(queries.QueryError(
                _("请求内容须为 JSON（Content-Type: application/json）。"), exception="UnsupportedMediaTypeException",
                status=415))
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return problem_response(queries.QueryError(_("请求内容不是合法的 JSON。"), exception="ValidationException"))
        try:
            named = queries.define_query(body, reader_of(request))
        except queries.QueryError as error:
            return problem_response(error)
        return Response(queries.definition_document(named), status=201,
                        headers={"Location": _definition_location(request, named.name)})


class QueryView(EpcisQueryView):
    """``queries/{queryName}``: the definition (GET), removal (DELETE)."""

    @extend_schema(summary="EPCIS 2.0 named query: definition", operation_id="epcis_query_retrieve",
                   parameters=[NAME_PARAMETER], responses={200: dict, 404: dict})
    def get(self, request, name: str):
        try:
            return Response(queries.definition_document(queries.named_query(name, reader_of(request))))
        except queries.QueryError as error:
            return problem_response(error)

    @extend_schema(summary="EPCIS 2.0 named query: delete", operation_id="epcis_query_destroy",
                   parameters=[NAME_PARAMETER], responses={204: None, 403: dict, 404: dict})
    def delete(self, request, name: str):
        try:
            queries.delete_query(name, reader_of(request))
        except queries.QueryError as error:
            return problem_response(error)
        return Response(status=204)


class QueryEventsView(EpcisQueryView):
    """``queries/{queryName}/events``: one page of the named query's events for the caller."""

    @extend_schema(summary="EPCIS 2.0 named query: events (EPCISQueryDocument)", operation_id="epcis_query_events",
                   parameters=[NAME_PARAMETER, OpenApiParameter("perPage", int), OpenApiParameter("nextPageToken", str)],
                   responses={200: dict, 400: dict, 404: dict, 413: dict, 501: dict})
    def get(self, request, name: str):
        reader = reader_of(request)
        try:
            named = queries.named_query(name, reader)
            if request.headers.get("Upgrade", "").lower() == "websocket":
                raise queries.unsupported_subscriptions()
            query, page = queries.run_named_query(named, request.query_params, reader)
        except queries.QueryError as error:
            return problem_response(error)
        return Response(queries.query_document(page, query_name=named.name),
                        headers=_paging_headers(request, query.per_page, page.next_token, page.token_expires))


@extend_schema(exclude=True)  # not supported, so not advertised
class SubscriptionsView(EpcisQueryView):
    """``queries/{queryName}/subscriptions[/{subscriptionID}]``: 501 for every method (no subscriptions)."""

    def dispatch_unsupported(self, request, name: str, subscription_id: str | None = None):
        try:
            queries.named_query(name, reader_of(request))  # an unknown query is still 404
            raise queries.unsupported_subscriptions()
        except queries.QueryError as error:
            return problem_response(error)

    get = post = delete = options = dispatch_unsupported


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
    path("events/<path:event_id>", EventView.as_view(), name="event-detail"),
    path("queries", QueriesView.as_view(), name="queries"),
    path("queries/<str:name>", QueryView.as_view(), name="query-detail"),
    path("queries/<str:name>/events", QueryEventsView.as_view(), name="query-events"),
    path("queries/<str:name>/subscriptions", SubscriptionsView.as_view(), name="query-subscriptions"),
    path("queries/<str:name>/subscriptions/<str:subscription_id>", SubscriptionsView.as_view(),
         name="query-subscription-detail"),
]
