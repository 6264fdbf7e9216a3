"""EPCIS 2.0 capture interface (REST bindings, ``openapi.json`` of the standard) at /api/v1/epcis/:

* ``POST capture`` — an EPCISDocument (``application/json`` or ``application/ld+json``); header
  ``GS1-Capture-Error-Behaviour: rollback|proceed``. Capture runs synchronously inside the request and
  the answer is ``202`` with ``Location: …/capture/{captureID}`` and the *finished* job (the bindings
  allow the job to be done by the time it is read). Invalid events under ``rollback`` (and any
  document-level problem): ``400`` ``epcis_invalid`` with every problem (event index, eventID, field,
  pointer, message), nothing stored — the failed job is still recorded and its ``captureID`` given.
* ``GET capture`` — the caller's jobs (a key: its entity's; a user: those in its scope), newest first,
  ``perPage`` / ``nextPageToken``; ``GET capture/{captureID}`` — one job (``running``, ``success``,
  ``captureErrorBehaviour``, ``errors``).
* ``POST events`` — one event: ``201`` with ``Location`` of the event, ``409`` when already stored,
  ``400`` when invalid. ``GET events`` belongs to the query area: it is handed to ``api_query``.
* ``OPTIONS`` on each advertises the versions, limits and error behaviours.

Authentication: a capture key (``Authorization: Api-Key <secret>`` or ``X-Api-Key``, tied to an entity)
or a signed-in user (token or session). Capturing: keys, enterprise users of an entity and the province
administrator; reading jobs: also officers (their region). Others: 403. Bigger than the limits: 413.
Rules live in ``trace.capture`` and ``trace.keys``; this module parses requests and shapes answers.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.urls import re_path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from qualitygov.core.api import error_body
from qualitygov.core.api_keys import ApiKeyAuthentication
from qualitygov.trace import capture, keys
from qualitygov.trace.models import CaptureJob, CaptureKey

__all__ = ["CaptureJobView", "CaptureKeyAuthentication", "CaptureView", "EventCaptureView", "urlpatterns"]

EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"
CONTENT_TYPES = ("application/json", "application/ld+json")
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 1000


class CaptureKeyAuthentication(ApiKeyAuthentication):
    """An enterprise's capture key: ``Authorization: Api-Key <secret>`` or ``X-Api-Key: <secret>``.
    No key → try the other methods; a key that is unknown, wrong or stopped → 401."""

    refused_message = gettext_lazy("上报密钥无效或已停用。")

    def lookup(self, secret: str):
        return keys.authenticate(secret)


class CaptureKeyScheme(OpenApiAuthenticationExtension):
    target_class = "qualitygov.trace.api_capture.CaptureKeyAuthentication"
    name = "captureApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": str(gettext_lazy("追溯数据上报密钥：Authorization: Api-Key <密钥>"))}


class CapturePermission(BasePermission):
    """Keys may capture and read their entity's jobs; users per ``capture.may_capture`` (writes) and
    ``capture.JOB_VIEW_ROLES`` (reads). OPTIONS is open to any authenticated caller."""

    message = gettext_lazy("您没有使用追溯数据上报接口的权限：只有企业用户（或其上报密钥）和省级管理员可以上报。")

    def has_permission(self, request, view):
        if isinstance(request.auth, CaptureKey):
            return True
        user = request.user
        if not user or not user.is_authenticated or not user.is_active:
            return False
        if request.method == "OPTIONS":
            return True
        if request.method in ("GET", "HEAD"):
            return user.is_superuser or user.role in capture.JOB_VIEW_ROLES
        return capture.may_capture(user)


def _limit_headers() -> dict[str, str]:
    return {"GS1-EPCIS-Capture-Limit": str(capture.capture_limit()),
            "GS1-EPCIS-Capture-File-Size-Limit": str(capture.capture_file_size_limit())}


def _discovery(allow: str, *, capture_endpoint: bool) -> Response:
    response = Response(status=status.HTTP_204_NO_CONTENT)
    headers = {"Allow": allow, "GS1-EPCIS-Version": EPCIS_VERSION, "GS1-EPCIS-Min": EPCIS_VERSION,
               "GS1-EPCIS-Max": EPCIS_VERSION, "GS1-CBV-Version": CBV_VERSION, "GS1-CBV-Min": CBV_VERSION,
               "GS1-CBV-Max": CBV_VERSION, "GS1-EPC-Format": "Always_GS1_Digital_Link", "GS1-Extensions": "",
               **_limit_headers()}
    if capture_endpoint:
        headers["GS1-Capture-Error-Behaviour"] = ", ".join(CaptureJob.ErrorBehaviour.values)
    for name, value in headers.items():
        response[name] = value
    return response


def _error(status_code: int, code: str, message: str, details: dict | None = None, **extra) -> Response:
    body = error_body(status_code, code, message, details)
    body["error"].update(extra)
    response = Response(body, status=status_code)
    response["GS1-EPCIS-Version"] = EPCIS_VERSION
    if status_code == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE:
        for name, value in _limit_headers().items():
            response[name] = value
    return response


class _Refusal(Exception):
    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


def _read_payload(request):
    """The JSON payload of a capture request, or raise _Refusal (406 version, 413 size, 415 type, 400 JSON)."""
    version = request.headers.get("GS1-EPCIS-Version", "").strip()
    if version and not version.startswith("2."):
        raise _Refusal(_error(status.HTTP_406_NOT_ACCEPTABLE, "unsupported_version",
                              _("本平台只支持 EPCIS 2.0，请求头 GS1-EPCIS-Version 为 %(value)s。") % {"value": version}))
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type not in CONTENT_TYPES:
        raise _Refusal(_error(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                              _("上报内容须为 JSON（Content-Type: application/json 或 application/ld+json），"
                                "当前为“%(value)s”。") % {"value": content_type or "—"}))
    try:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        capture.check_file_size(declared)
        raw = _raw_body(request)
        capture.check_file_size(len(raw))
    except capture.CaptureTooLarge as exc:
        raise _Refusal(_error(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, exc.code, exc.message)) from None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Refusal(_error(status.HTTP_400_BAD_REQUEST, "invalid_json",
                              _("上报内容不是合法的 JSON：%(detail)s") % {"detail": str(exc)[:200]})) from None


def _raw_body(request) -> bytes:
    """The request body, read up to one byte past the capture file size limit. Read from the stream
    rather than ``request.body``, whose global DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default) is meant
    for forms; the capture interface has its own, advertised limit."""
    django_request = getattr(request, "_request", request)
    if hasattr(django_request, "_body"):
        return django_request._body
    return django_request.read(capture.capture_file_size_limit() + 1)


def _caller(request) -> dict:
    if isinstance(request.auth, CaptureKey):
        return {"key": request.auth, "user": None}
    return {"key": None, "user": request.user}


def _invalid(job: CaptureJob) -> Response:
    by_pointer: dict[str, list[str]] = {}
    for problem in job.errors:
        by_pointer.setdefault(problem.get("pointer") or "non_field_errors", []).append(problem.get("message", ""))
    message = (job.errors[0]["message"] if len(job.errors) == 1 else
               _("上报内容有 %(count)s 处错误，未保存任何事件；请按各事件的字段说明修改后重新提交。")
               % {"count": len(job.errors)})
    return _error(status.HTTP_400_BAD_REQUEST, "epcis_invalid", message, by_pointer, problems=job.errors,
                  captureID=str(job.id))


def _jobs_for(request):
    if isinstance(request.auth, CaptureKey):
        return CaptureJob.objects.filter(entity_id=request.auth.entity_id)
    return capture.jobs_visible_to(request.user, CaptureJob.objects.all())


def _headers(response: Response) -> Response:
    response["GS1-EPCIS-Version"] = EPCIS_VERSION
    response["GS1-CBV-Version"] = CBV_VERSION
    return response


class _CaptureAPIView(APIView):
    authentication_classes = [CaptureKeyAuthentication, TokenAuthentication, SessionAuthentication]
    permission_classes = [CapturePermission]


class CaptureView(_CaptureAPIView):
    """``/capture``: capture a document (POST), list the caller's jobs (GET), discovery (OPTIONS)."""

    @extend_schema(summary="EPCIS 2.0 capture (EPCISDocument)", request=dict, responses={202: dict, 400: dict})
    def post(self, request):
        try:
            payload = _read_payload(request)
        except _Refusal as refusal:
            return refusal.response
        behaviour = request.headers.get("GS1-Capture-Error-Behaviour", "").strip().lower() or "rollback"
        if behaviour not in CaptureJob.ErrorBehaviour.values:
            return _error(status.HTTP_400_BAD_REQUEST, "invalid_error_behaviour",
                          _("请求头 GS1-Capture-Error-Behaviour 只能是 rollback 或 proceed，当前为“%(value)s”。")
                          % {"value": behaviour})
        try:
            job = capture.capture_document(payload, error_behaviour=behaviour, **_caller(request))
        except capture.CaptureTooLarge as exc:
            return _error(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, exc.code, exc.message)
        if job.status == CaptureJob.Status.FAILED:
            return _invalid(job)
        response = Response(capture.job_document(job), status=status.HTTP_202_ACCEPTED)
        response["Location"] = f"{request.path.rstrip('/')}/{job.id}"
        return _headers(response)

    @extend_schema(summary="EPCIS 2.0 capture jobs of the caller", responses={200: dict},
                   operation_id="epcis_capture_jobs_list")
    def get(self, request):
        try:
            per_page = min(max(int(request.query_params.get("perPage") or DEFAULT_PER_PAGE), 1), MAX_PER_PAGE)
            start = max(int(request.query_params.get("nextPageToken") or 0), 0)
        except ValueError:
            return _error(status.HTTP_400_BAD_REQUEST, "invalid_paging",
                          _("perPage 和 nextPageToken 须为非负整数。"))
        jobs = list(_jobs_for(request).order_by("-received_at", "id")[start:start + per_page + 1])
        response = Response([capture.job_document(job) for job in jobs[:per_page]])
        if len(jobs) > per_page:
            response["Link"] = f'<{request.path}?perPage={per_page}&nextPageToken={start + per_page}>; rel="next"'
        return _headers(response)

    def options(self, request, *args, **kwargs):
        return _discovery("OPTIONS, POST, GET", capture_endpoint=True)


class CaptureJobView(_CaptureAPIView):
    """``/capture/{captureID}``: one job (404 when unknown or outside the caller's scope)."""

    @extend_schema(summary="EPCIS 2.0 capture job", responses={200: dict, 404: dict},
                   operation_id="epcis_capture_job_retrieve")
    def get(self, request, capture_id: str):
        try:
            job = _jobs_for(request).filter(pk=capture_id).first()
        except ValidationError:
            job = None
        if job is None:
            return _error(status.HTTP_404_NOT_FOUND, "not_found", _("未找到该上报任务，或不在您的访问范围内。"))
        return _headers(Response(capture.job_document(job)))

    def options(self, request, *args, **kwargs):
        return _discovery("OPTIONS, GET", capture_endpoint=False)


class EventCaptureView(_CaptureAPIView):
    """``/events``: capture one event (POST); GET is the query area's (handed over in ``dispatch``)."""

    def dispatch(self, request, *args, **kwargs):
        if request.method not in ("POST", "OPTIONS"):
            query_view = _query_events_view()
            if query_view is not None:
                return query_view(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(summary="EPCIS 2.0 capture of a single event", request=dict,
                   responses={201: dict, 400: dict, 409: dict})
    def post(self, request):
        try:
            payload = _read_payload(request)
        except _Refusal as refusal:
            return refusal.response
        job = capture.capture_event(payload, **_caller(request))
        if job.status == CaptureJob.Status.FAILED:
            return _invalid(job)
        event_id = payload.get("eventID") if isinstance(payload.get("eventID"), str) else None
        if event_id is None:
            from qualitygov.trace import eventhash

            event_id = eventhash.event_hash(payload, payload.get("@context"))
        location = f"{request.path.rstrip('/')}/{quote(event_id, safe='')}"
        if job.captured_count == 0:
            response = _error(status.HTTP_409_CONFLICT, "event_exists",
                              _("事件 %(id)s 已经上报过，未重复保存。") % {"id": event_id}, captureID=str(job.id))
        else:
            response = Response({"eventID": event_id, "captureID": str(job.id)}, status=status.HTTP_201_CREATED)
        response["Location"] = location
        return _headers(response)

    def options(self, request, *args, **kwargs):
        return _discovery("OPTIONS, GET, POST", capture_endpoint=False)


def _query_events_view():
    """The query area's view for ``events`` (GET), found in ``api_query.urlpatterns`` at request time,
    so that both areas can serve one path."""
    from qualitygov.trace import api_query

    for pattern in api_query.urlpatterns:
        for candidate in ("events", "events/"):
            match = pattern.resolve(candidate) if hasattr(pattern, "resolve") else None
            if match is not None:
                return match.func
    return None


urlpatterns = [
    re_path(r"^capture/?$", CaptureView.as_view(), name="capture"),
    re_path(r"^capture/(?P<capture_id>[^/]+)/?$", CaptureJobView.as_view(), name="capture-detail"),
    re_path(r"^events/?$", EventCaptureView.as_view(), name="events-capture"),
]
