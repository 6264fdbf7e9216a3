"""What the back-office figure pages share: the complaint statistics (``complaints.statistics``) and the
credit supervision dashboard (``credit.dashboard``) are both a page of figures filtered by period and
drill-down region, CSV/XLSX exports of its tables, and the same figures as JSON.

Each page names its *service*: a module offering ``can_view(user)``, ``check_access(user)``,
``scope_regions(user)``, ``resolve_period(key, start, end)`` (raising a ``ValidationError`` with a
code when the period is refused), ``figures(user, *, period, region, ...)``, ``EXPORT_TABLES`` and
``export_table(data, table)``. The service is looked up at call time, so what differs stays in it and
in the small hooks below (extra filters, the page's own context).
"""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from qualitygov.core.api import error_body
from qualitygov.core.exports import ComputedRows, export_response
from qualitygov.core.models import Region
from qualitygov.core.views import ScopedViewMixin

EXPORT_FORMATS = ("csv", "xlsx")


def drill_regions(service, user):
    """Regions ``user`` may drill into on a page of ``service``: those of its scope below the province
    (drilling into the province itself would only repeat the province-wide figures)."""
    return service.scope_regions(user).exclude(level=Region.Level.PROVINCE)


class FigureFilterForm(forms.Form):
    """Period (with custom start and end) and a drill-down region inside the user's scope.

    Subclasses set ``service``, ``refused`` (the service's period refusal), ``period_choices`` and
    ``period_error_codes`` (refusals shown on the period field; the others are shown on the start
    date), and may declare more filters, passed to ``service.figures`` by ``figure_filters``.
    """

    service = None
    refused: type[Exception] = Exception
    period_choices: list = []
    period_error_codes: tuple[str, ...] = ()

    period = forms.ChoiceField(label=gettext_lazy("统计期间"), required=False)
    start = forms.DateField(label=gettext_lazy("起始日期"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    region = forms.ModelChoiceField(label=gettext_lazy("区划"), queryset=Region.objects.none(), required=False,
                                    empty_label=gettext_lazy("辖区全部"), to_field_name="code",
                                    error_messages={"invalid_choice": gettext_lazy("该区划不在您的辖区内。")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = self.period_choices
        self.fields["region"].queryset = drill_regions(self.service, user)
        self.fields["region"].label_from_instance = lambda r: r.full_name
        for field in self.fields.values():
            css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
            field.widget.attrs["class"] = css

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                data["resolved_period"] = self.service.resolve_period(data.get("period"), data.get("start"),
                                                                      data.get("end"))
            except self.refused as error:
                self.add_error("period" if error.code in self.period_error_codes else "start", error)
        return data

    def figure_filters(self) -> dict:
        """Keyword arguments for ``service.figures`` beyond period and region (none by default)."""
        return {}


class FiguresMixin(ScopedViewMixin):
    """A page view of ``service``'s figures, filtered by ``form_class`` from the query string."""

    service = None
    form_class: type[FigureFilterForm] = FigureFilterForm

    def filtered_figures(self, request):
        """The form and, when it is valid, the figures for the request's user (``None`` otherwise);
        ``PermissionDenied`` for those who may not view them."""
        self.service.check_access(request.user)
        form = self.form_class(request.GET or None, user=request.user)
        if not form.is_bound:
            return form, self.service.figures(request.user, period=self.service.resolve_period())
        if not form.is_valid():
            return form, None
        data = form.cleaned_data
        return form, self.service.figures(request.user, period=data["resolved_period"], region=data["region"],
                                          **form.figure_filters())


class FiguresPageView(FiguresMixin, View):
    """GET the page: the filter form and the figures (status 400 with the form's errors when the
    filters are refused). Subclasses set ``title`` and ``template_name`` and add to the context."""

    title = ""
    template_name = ""
    export_url_name = ""  # the URL name of the page's export view (table, format), for the download buttons

    def page_context(self, request, form, data) -> dict:
        """What the page's template needs beyond title, form, figures and export links."""
        return {}

    def get(self, request, *args, **kwargs):
        form, data = self.filtered_figures(request)
        context = {
            "title": str(self.title),
            "form": form,
            "data": data,
            "export_tables": self.service.EXPORT_TABLES,
            "query_string": request.GET.urlencode(),
            "export_url_name": self.export_url_name,
            **self.page_context(request, form, data),
        }
        return render(request, self.template_name, context, status=200 if data is not None else 400)


class FiguresExportView(FiguresMixin, View):
    """One table of the page as CSV or XLSX (Chinese headers), with the page's filters."""

    def get(self, request, table: str, fmt: str, *args, **kwargs):
        if table not in self.service.EXPORT_TABLES:
            raise Http404(_("没有这张统计表。"))
        if fmt not in EXPORT_FORMATS:
            return HttpResponseBadRequest(_("不支持的导出格式：%(fmt)s（可选 csv 或 xlsx）。") % {"fmt": fmt})
        form, data = self.filtered_figures(request)
        if data is None:
            return HttpResponseBadRequest(_("筛选条件有误，未导出：%(errors)s") % {
                "errors": "；".join(str(e) for errors in form.errors.values() for e in errors)})
        headers, rows = self.service.export_table(data, table)
        columns = [(str(index), header) for index, header in enumerate(headers)]
        return export_response(ComputedRows(rows), columns, fmt, str(self.service.EXPORT_TABLES[table]))


class FiguresPermission(permissions.BasePermission):
    """Those whom ``service.can_view`` admits; subclasses set ``service`` and the refusal ``message``."""

    service = None

    def has_permission(self, request, view):
        return self.service.can_view(request.user)


class FiguresAPIView(APIView):
    """The page's figures as JSON. Subclasses set ``service``, ``refused`` and ``query_serializer``
    (with ``period``, ``start``, ``end`` and ``region`` fields), and decorate ``get`` with their schema."""

    service = None
    refused: type[Exception] = Exception
    query_serializer = None

    def figure_filters(self, params: dict) -> dict:
        """Keyword arguments for ``service.figures`` beyond period and region (none by default)."""
        return {}

    def get(self, request):
        query = self.query_serializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        region = None
        if params.get("region"):
            region = drill_regions(self.service, request.user).filter(code=params["region"]).first()
            if region is None:
                message = _("区划 %(code)s 不存在或不在您的辖区内。") % {"code": params["region"]}
                return Response(error_body(400, "region_out_of_scope", message, {"region": [message]}), status=400)
        try:
            period = self.service.resolve_period(params.get("period"), params.get("start"), params.get("end"))
        except self.refused as error:
            return Response(error_body(400, error.code, error.messages[0], {"period": error.messages}), status=400)
        return Response(self.service.figures(request.user, period=period, region=region,
                                             **self.figure_filters(params)))
