"""The API side of bulk import: the upload serializer, the report's schema, and the one response.

The registry viewsets expose ``POST /api/v1/<kind>/import/`` as actions that call
``import_response``; the rules live in ``importing.import_file``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from qualitygov.core.api import error_body
from qualitygov.registry import importing

ENCODING_CHOICES = [("utf-8", "UTF-8"), ("gb18030", "GB18030"), ("gbk", "GBK")]


class ImportUploadSerializer(serializers.Serializer):
    """The multipart form of an import request."""

    file = serializers.FileField(label=gettext_lazy("导入文件"),
                                 help_text=gettext_lazy("CSV（UTF-8 或 GB18030/GBK）或 XLSX 文件，第 1 行为表头。"))
    dry_run = serializers.BooleanField(label=gettext_lazy("试运行"), required=False, default=False,
                                       help_text=gettext_lazy("为 true 时只校验并统计，不写入任何数据。"))
    encoding = serializers.ChoiceField(label=gettext_lazy("CSV 文件编码"), choices=ENCODING_CHOICES, required=False,
                                       allow_blank=True,
                                       help_text=gettext_lazy("不填时自动识别（先按 UTF-8，再按 GB18030）。"))


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("电子表格中的行号（表头为第 1 行）；整个文件的问题为 null。"))
    column = serializers.CharField(allow_null=True, help_text=gettext_lazy("列名（表头）。"))
    message = serializers.CharField(help_text=gettext_lazy("原因。"))


class ImportSummarySerializer(serializers.Serializer):
    """What an import did (or, in a dry run, would do), without the list of problems."""

    # A plain string, not an enum: "kind" is also the licence kind's enum in the schema.
    kind = serializers.CharField(help_text=gettext_lazy("导入类型：entities、products 或 licences。"))
    filename = serializers.CharField()
    format = serializers.ChoiceField(choices=importing.FORMATS)
    encoding = serializers.CharField(allow_null=True)
    sha256 = serializers.CharField()
    dry_run = serializers.BooleanField()
    ok = serializers.BooleanField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error_count = serializers.IntegerField()
    errors_truncated = serializers.BooleanField()
    ignored_columns = serializers.ListField(child=serializers.CharField(),
                                            help_text=gettext_lazy("文件中不属于模板、已忽略的列。"))


class ImportReportSerializer(ImportSummarySerializer):
    """The import report: the summary and every problem (row, column, reason)."""

    errors = ImportErrorSerializer(many=True)


ImportFailureSerializer = inline_serializer(
    name="ImportFailure",
    fields={"error": inline_serializer(name="ImportFailureBody", fields={
        "status": serializers.IntegerField(),
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "details": inline_serializer(name="ImportFailureDetails", fields={
            "rows": ImportErrorSerializer(many=True),
            "error_count": serializers.IntegerField(),
            "errors_truncated": serializers.BooleanField(),
            "report": ImportSummarySerializer(),
        }),
    })},
)


_SUMMARIES = {"entities": gettext_lazy("批量导入市场主体"), "products": gettext_lazy("批量导入产品"),
              "licences": gettext_lazy("批量导入许可证与认证证书")}
_DESCRIPTION = gettext_lazy(
    "上传 CSV（UTF-8 或 GB18030/GBK）或 XLSX 文件批量导入。全部行校验通过才写入（一个事务，"
    "任何错误都不写入任何数据）；按自然键（统一社会信用代码；产品按商品条码，无条码时按生产者、名称和型号；"
    "证书按类型与编号）识别已有记录，重复导入只更新不重复新增。`dry_run=true` 只校验并给出将新增、更新和未变的条数。"
    "成功或试运行通过时返回 200 与导入报告；有任何错误时返回 400，`error.details.rows` 逐条列出"
    "行号（表头为第 1 行）、列名和原因。模板可在页面 `/registry/import/template/<kind>.<csv|xlsx>` 下载。"
)


def import_schema(kind: str):
    """OpenAPI description of the import action of ``kind``."""
    return extend_schema(
        summary=_SUMMARIES[kind],
        description=_DESCRIPTION,
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            200: ImportReportSerializer,
            400: OpenApiResponse(ImportFailureSerializer, description="文件或数据有误，未写入任何数据"),
            403: OpenApiResponse(description="无导入权限"),
        },
        examples=[OpenApiExample(
            "有错误的导入", status_codes=["400"], response_only=True,
            value={"error": {"status": 400, "code": "import_invalid", "message": "导入文件有 1 处错误，未写入任何数据。",
                             "details": {"rows": [{"row": 3, "column": "统一社会信用代码",
                                                   "message": "统一社会信用代码校验码不符：应为“3”，实际为“4”。"}],
                                         "error_count": 1, "errors_truncated": False}}},
        )],
        filters=False,
    )


def import_response(request, kind: str) -> Response:
    """Run an import from an API request and answer with the report (200) or the error shape (400)."""
    if not importing.may_import(request.user, kind):
        raise exceptions.PermissionDenied(_("您没有批量导入%(what)s的权限。")
                                          % {"what": importing.MODELS[kind]._meta.verbose_name_plural})
    upload = ImportUploadSerializer(data=request.data)
    upload.is_valid(raise_exception=True)
    data = upload.validated_data
    report = importing.import_file(kind, data["file"], data["file"].name, user=request.user,
                                   dry_run=data.get("dry_run", False), encoding=data.get("encoding") or None)
    body = report.as_dict()
    if report.ok:
        return Response(body, status=status.HTTP_200_OK)
    message = _("导入文件有 %(n)d 处错误，未写入任何数据。") % {"n": report.error_count}
    details = {"rows": body["errors"], "error_count": report.error_count,
               "errors_truncated": report.errors_truncated,
               "report": {k: v for k, v in body.items() if k != "errors"}}
    return Response(error_body(400, "import_invalid", message, details), status=status.HTTP_400_BAD_REQUEST)
