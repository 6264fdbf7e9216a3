"""The public intake API (no sign-in), mounted at /api/v1/public/complaints/ ("public-complaints-api"):

- ``POST submissions/`` (``intake-submit``): a complaint, tip-off or both, as multipart form data (files
  in ``files``, ``authorisation_file``, ``agent_id_file``) or JSON without files; the fields are those of
  the public form (``forms_intake.SubmissionForm``). 201 answers the tracking number, each case's number,
  kind, handling unit and acceptance deadline, and for an anonymous tip-off the query code and password
  (this once). Refusals: 400 ``missing_materials`` (details name the fields), 400 ``file_type`` /
  ``file_too_large`` / ``file_disguised`` / ``too_many_files``, 429 ``rate_limited`` with ``Retry-After``.
- ``GET follow-up/`` (``intake-follow-up``): ``?tracking_number=`` with the phone number in the
  ``X-Phone`` header, or ``?query_code=`` with the password in the ``X-Query-Password`` header (secrets go
  in headers, not in the URL, which proxies and servers write to their logs). Answers the public status
  (``intake.public_status``); any mismatch is one 404 ``not_found``.

Nothing here answers the submitter's identity, officers' notes or other submissions.
"""

from __future__ import annotations

from django.core.cache import cache
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from qualitygov.complaints import intake, routing
from qualitygov.complaints.attachments import AttachmentRefused
from qualitygov.complaints.forms_intake import SubmissionForm
from qualitygov.complaints.models import Channel
from qualitygov.complaints.views_public_intake import FOLLOW_UP_FAILURES_PER_HOUR, follow_up_failure_key
from qualitygov.core.api import error_body
from qualitygov.core.middleware import client_ip

__all__ = ["FollowUpAPIView", "SubmitAPIView"]


def _jsonable_status(data: dict) -> dict:
    def convert(value):
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return convert(data)


class _Public(APIView):
    # No authentication: a stale token must not turn a public answer into a 401.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]


class SubmitAPIView(_Public):
    """Receive a submission through the open API."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(summary=gettext_lazy("提交投诉、举报或投诉并举报"), tags=["public"], request=dict,
                   responses={201: dict, 400: dict, 429: dict}, operation_id="public_complaints_submit")
    def post(self, request):
        data = request.data
        form = SubmissionForm(data, request.FILES)
        if not form.is_valid():
            details = {field: [str(e) for e in errors] for field, errors in form.errors.items()}
            return Response(error_body(400, "invalid", _("提交的数据有误，请按字段说明修改。"), details), status=400)
        try:
            result = intake.submit(**form.submission_kwargs(), channel=Channel.API, client_address=client_ip(request))
        except intake.SubmissionRefused as refusal:
            message = _("缺少《市场监督管理投诉举报处理暂行办法》规定的材料，请按字段说明补充。")
            if refusal.code != "missing_materials":
                message = next(iter(refusal.message_dict.values()))[0]
            return Response(error_body(400, refusal.code, message, refusal.message_dict), status=400)
        except AttachmentRefused as refusal:
            return Response(error_body(400, refusal.code, refusal.messages[0], {"files": refusal.messages}),
                            status=400)
        except intake.RateLimited as limited:
            response = Response(error_body(429, limited.code, limited.message), status=429)
            response["Retry-After"] = str(limited.retry_after)
            return response
        submission = result.submission
        body = {
            "tracking_number": submission.tracking_number,
            "received_on": timezone.localdate(submission.received_at).isoformat(),
            "cases": [{"number": case.number, "kind": case.kind, "handling_unit": case.handling_unit_id,
                       "handling_unit_name": routing.authority_name(case.handling_unit),
                       "accept_due_on": case.accept_due_on.isoformat() if case.accept_due_on else None,
                       "calendar_pending": case.calendar_pending} for case in result.cases],
        }
        if result.query_code:
            body |= {"query_code": result.query_code, "query_password": result.query_password}
        return Response(body, status=status.HTTP_201_CREATED)


class FollowUpAPIView(_Public):
    """The public status of one submission, for whoever holds its credentials."""

    @extend_schema(summary=gettext_lazy("查询投诉举报办理情况"), tags=["public"], responses={200: dict, 404: dict},
                   operation_id="public_complaints_follow_up",
                   parameters=[OpenApiParameter("tracking_number", str, description=gettext_lazy("登记编号")),
                               OpenApiParameter("query_code", str, description=gettext_lazy("匿名举报查询码")),
                               OpenApiParameter("X-Phone", str, OpenApiParameter.HEADER,
                                                description=gettext_lazy("提交时填写的电话号码")),
                               OpenApiParameter("X-Query-Password", str, OpenApiParameter.HEADER,
                                                description=gettext_lazy("匿名举报查询密码"))])
    def get(self, request):
        params = request.query_params
        key = follow_up_failure_key(request)
        if cache.get(key, 0) >= FOLLOW_UP_FAILURES_PER_HOUR:
            response = Response(error_body(429, "rate_limited", _("查询失败次数过多，请一小时后再试。")), status=429)
            response["Retry-After"] = "3600"
            return response
        if params.get("tracking_number"):
            submission = intake.find_named(params["tracking_number"], request.headers.get("X-Phone", ""))
        elif params.get("query_code"):
            submission = intake.find_anonymous(params["query_code"], request.headers.get("X-Query-Password", ""))
        else:
            return Response(error_body(400, "invalid", _("请提供登记编号（及 X-Phone 请求头）或查询码（及 X-Query-Password 请求头）。")),
                            status=400)
        if submission is None:
            cache.add(key, 0, timeout=3600)
            cache.incr(key)
            return Response(error_body(404, "not_found", _("未找到匹配的投诉举报：请核对登记编号和电话号码，或查询码和查询密码。")),
                            status=404)
        return Response(_jsonable_status(intake.public_status(submission)))


urlpatterns: list = []
public_urlpatterns = [
    path("submissions/", SubmitAPIView.as_view(), name="intake-submit"),
    path("follow-up/", FollowUpAPIView.as_view(), name="intake-follow-up"),
]
