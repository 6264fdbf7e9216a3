"""Streaming CSV and XLSX exports of a queryset, read set-based with ``values_list``.

CSV carries a UTF-8 byte-order mark so that spreadsheet programs on Chinese Windows open it
correctly; XLSX is written by openpyxl in write-only mode so memory stays flat.
"""

from __future__ import annotations

import csv
import io
import tempfile
from urllib.parse import quote

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _


class _Echo:
    def write(self, value):
        return value


def _choice_maps(model, fields: list[str]) -> dict[int, dict]:
    """Choice labels for each exported field that has choices, so exports read like the pages."""
    maps = {}
    for index, path in enumerate(fields):
        current = model
        field = None
        for part in path.split("__"):
            try:
                field = current._meta.get_field(part)
            except Exception:
                field = None
                break
            if field.is_relation and field.related_model is not None:
                current = field.related_model
        if field is not None and getattr(field, "choices", None):
            maps[index] = {k: str(v) for k, v in field.flatchoices}
    return maps


def export_rows(queryset, columns: list[tuple[str, str]]):
    """Header, then one list of display values per row."""
    fields = [c[0] for c in columns]
    maps = _choice_maps(queryset.model, fields)
    yield [str(c[1]) for c in columns]
    for row in queryset.values_list(*fields).iterator(chunk_size=2000):
        out = []
        for index, value in enumerate(row):
            if index in maps:
                value = maps[index].get(value, value)
            elif isinstance(value, bool):
                value = _("是") if value else _("否")
            if hasattr(value, "tzinfo") and value.tzinfo is not None:
                value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
            out.append("" if value is None else value)
        yield out


class ComputedRows:
    """Stands in for a queryset in ``export_response`` when the rows are already computed (statistics
    tables): a ``model`` without choice fields and ``values_list(*fields).iterator()`` over the rows.
    Rows are lists in column order, or dicts read by the columns' field names."""

    class model:  # noqa: N801 - stands in for a model class
        class _meta:  # noqa: N801
            @staticmethod
            def get_field(name):
                raise LookupError(name)

    def __init__(self, rows):
        self.rows = rows
        self.fields: tuple[str, ...] = ()

    def values_list(self, *fields):
        self.fields = fields
        return self

    def iterator(self, chunk_size=None):
        for row in self.rows:
            yield tuple(row.get(field) for field in self.fields) if isinstance(row, dict) else row


def _filename(title: str, ext: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"{title}-{stamp}.{ext}"


def export_response(queryset, columns, fmt: str, title: str):
    """A download of ``queryset`` as ``csv`` or ``xlsx``."""
    if fmt == "csv":
        writer = csv.writer(_Echo())

        def stream():
            yield "\ufeff"
            for row in export_rows(queryset, columns):
                yield writer.writerow(row)

        response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(_filename(str(title), 'csv'))}"
        return response
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=str(title)[:31])
        for row in export_rows(queryset, columns):
            sheet.append([str(v) if not isinstance(v, int | float | str) else v for v in row])
        handle = tempfile.TemporaryFile()
        workbook.save(handle)
        handle.seek(0)
        return FileResponse(handle, as_attachment=True, filename=_filename(str(title), "xlsx"),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    from django.http import HttpResponseBadRequest

    return HttpResponseBadRequest(_("不支持的导出格式：%(fmt)s（可选 csv 或 xlsx）。") % {"fmt": fmt})


def rows_to_csv_text(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
