"""The trace page (issue 5, item 5) at /trace/ (``trace:trace``) and its CSV downloads
(``trace:trace_export``). Thin: ``tracing.trace`` does the work over the events the user may see."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View

from qualitygov.core.views import ScopedViewMixin
from qualitygov.trace import tracing
from qualitygov.trace.models import EpcisEvent


class TraceForm(forms.Form):
    """What to trace and which way."""

    id = forms.CharField(label=gettext_lazy("追溯标识"), max_length=300, help_text=gettext_lazy(
        "批次：商品条码 空格 批号，或 GS1 数字链接；也可输入单品序列号或物流单元（SSCC）的标识。"))
    direction = forms.ChoiceField(label=gettext_lazy("追溯方向"), initial=tracing.FORWARD, required=False, choices=[
        (tracing.FORWARD, gettext_lazy("正向追踪（流向哪里）")), (tracing.BACKWARD, gettext_lazy("反向溯源（来自哪里）"))])
    max_depth = forms.IntegerField(label=gettext_lazy("最大层数"), required=False, min_value=1,
                                   max_value=tracing.LIMIT_MAX_DEPTH, initial=tracing.DEFAULT_MAX_DEPTH)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
            field.widget.attrs["class"] = css

    def run(self, user) -> dict | None:
        """The trace, or None with the error added to the form."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        try:
            return tracing.trace(data["id"], data["direction"] or tracing.FORWARD, user=user,
                                 max_depth=data.get("max_depth"))
        except tracing.TraceError as error:
            self.add_error("id", error.message)
            return None


def _check(user) -> None:
    if not tracing.can_trace(user):
        raise PermissionDenied(_("追溯查询仅供监管人员和企业用户使用。"))


def csv_download(result: dict, table: str) -> HttpResponse:
    """One table of a trace result as a UTF-8 CSV (with BOM, for spreadsheet programs)."""
    headers, rows = tracing.export_table(result, table)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"{tracing.EXPORT_TABLES[table]}.csv"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


# The page draws and lists at most this many; the downloads carry everything.
GRAPH_NODES = 300
TABLE_EDGES = 500


def _can_start_recall(user, result: dict | None) -> bool:
    """Whether the page offers "start a recall" for this trace: a forward trace of a batch (GTIN + batch),
    to an officer, who then investigates from the failed spot check (``trace:recall_add?batch=``)."""
    from qualitygov.trace import recalls

    if not result or result["query"]["direction"] != "forward" or result["query"]["kind"] != "class":
        return False
    return user.is_superuser or user.role in recalls.OFFICER_ROLES


def _display(result: dict | None) -> dict:
    """The graph data (nodes nearest the start first) and the edge rows with labels, both capped."""
    if result is None:
        return {}
    labels = {n["id"]: n["label"] for n in result["nodes"]}
    shown = result["nodes"][:GRAPH_NODES]
    ids = {n["id"] for n in shown}
    graph = {"start": result["query"]["identifier"],
             "nodes": [{k: n[k] for k in ("id", "kind", "kind_label", "label", "entity", "region", "in_scope", "depth")}
                       for n in shown],
             "edges": [{"from": e["from"], "to": e["to"], "relation": e["relation_label"], "quantity": e["quantity"],
                        "uom": e["uom"], "time": e["time"]} for e in result["edges"]
                       if e["from"] in ids and e["to"] in ids]}
    edge_rows = [{**e, "from_label": labels.get(e["from"], e["from"]), "to_label": labels.get(e["to"], e["to"])}
                 for e in result["edges"][:TABLE_EDGES]]
    return {"graph": graph, "edge_rows": edge_rows, "graph_capped": len(result["nodes"]) > GRAPH_NODES,
            "table_capped": len(result["edges"]) > TABLE_EDGES, "graph_limit": GRAPH_NODES, "table_limit": TABLE_EDGES}


class TraceView(ScopedViewMixin, View):
    """GET the form; with ``id`` the graph, the holders and the edges."""

    queryset = EpcisEvent.objects.all()
    template_name = "trace/trace/trace.html"

    def get(self, request, *args, **kwargs):
        _check(request.user)
        form = TraceForm(request.GET or None)
        result = form.run(request.user) if form.is_bound else None
        context = {"title": _("追溯查询"), "form": form, "result": result, "query_string": request.GET.urlencode(),
                   "can_start_recall": _can_start_recall(request.user, result),
                   **_display(result),
                   "graph_i18n": {"quantity": _("数量"), "event": _("事件"), "time": _("时间"),
                                  "out_of_scope": _("辖区外位置")}}
        return render(request, self.template_name, context, status=400 if form.is_bound and result is None else 200)


class TraceExportView(ScopedViewMixin, View):
    """The holders or edges table as CSV, with the page's query."""

    queryset = EpcisEvent.objects.all()

    def get(self, request, table: str, *args, **kwargs):
        _check(request.user)
        if table not in tracing.EXPORT_TABLES:
            raise Http404(_("没有这张表。"))
        form = TraceForm(request.GET)
        result = form.run(request.user)
        if result is None:
            return HttpResponseBadRequest(_("追溯条件有误，未导出：%(errors)s") % {
                "errors": "；".join(str(e) for errors in form.errors.values() for e in errors)})
        return csv_download(result, table)
