"""Import pages: upload a CSV or XLSX file of entities, products or licences, see the report.

The pages only collect the upload and show what ``importing.import_file`` answers; the rules
(validation, scope, all-or-nothing, idempotence) live there.
"""

from __future__ import annotations

from urllib.parse import quote

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from qualitygov.core.roles import IMPORT
from qualitygov.core.views import ScopedViewMixin
from qualitygov.registry import importing

ENCODING_CHOICES = [
    ("", gettext_lazy("自动识别（UTF-8 或 GB18030）")),
    ("utf-8", "UTF-8"),
    ("gb18030", gettext_lazy("GB18030 / GBK（中文版 Excel 默认）")),
]


class ImportForm(forms.Form):
    """The upload: a file, a dry-run switch and, when automatic detection is not wanted, the encoding."""

    file = forms.FileField(label=gettext_lazy("导入文件"),
                           help_text=gettext_lazy("CSV（UTF-8 或 GB18030/GBK）或 XLSX，第 1 行为表头。"),
                           widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.xlsx"}))
    dry_run = forms.BooleanField(label=gettext_lazy("仅校验，不写入（试运行）"), required=False,
                                 widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
    encoding = forms.ChoiceField(label=gettext_lazy("CSV 文件编码"), choices=ENCODING_CHOICES, required=False,
                                 widget=forms.Select(attrs={"class": "form-select"}))


class _KindMixin(ScopedViewMixin):
    """Resolves the import kind and refuses users whose role may not import it."""

    kind: str | None = None

    def get_kind(self) -> str:
        kind = self.kind or self.kwargs.get("kind")
        if kind not in importing.KINDS:
            raise Http404
        return kind

    @property
    def queryset(self):
        return importing.MODELS[self.get_kind()].objects.all()

    def check_import_allowed(self) -> None:
        if not self.allowed(IMPORT):
            raise PermissionDenied(_("您没有批量导入%(what)s的权限。")
                                   % {"what": self.model._meta.verbose_name_plural})


class ImportView(_KindMixin, View):
    """Upload form and report for one kind of record."""

    template_name = "registry/import.html"

    def get(self, request, *args, **kwargs):
        self.check_import_allowed()
        return self._render(ImportForm(), None)

    def post(self, request, *args, **kwargs):
        self.check_import_allowed()
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(form, None, status=400)
        upload = form.cleaned_data["file"]
        report = importing.import_file(self.get_kind(), upload, upload.name, user=request.user,
                                       dry_run=form.cleaned_data["dry_run"],
                                       encoding=form.cleaned_data["encoding"] or None)
        # The import is idempotent, so showing the report here (no redirect) is safe to resubmit.
        return self._render(ImportForm(initial={"encoding": form.cleaned_data["encoding"]}), report,
                            status=200 if report.ok else 400)

    def _render(self, form, report, status=200):
        kind = self.get_kind()
        meta = self.model._meta
        context = {
            **self.common_context(),
            "title": _("批量导入%(what)s") % {"what": meta.verbose_name_plural},
            "kind": kind,
            "form": form,
            "report": report,
            "columns": importing.columns_for(kind),
            "template_csv_url": reverse("registry:import_template", kwargs={"kind": kind, "fmt": "csv"}),
            "template_xlsx_url": reverse("registry:import_template", kwargs={"kind": kind, "fmt": "xlsx"}),
            "max_errors": importing.MAX_REPORTED_ERRORS,
        }
        return render(self.request, self.template_name, context, status=status)


class EntityImportView(ImportView):
    kind = "entities"


class ProductImportView(ImportView):
    kind = "products"


class LicenceImportView(ImportView):
    kind = "licences"


class ImportTemplateView(_KindMixin, View):
    """Download of an import template (CSV or XLSX) with the Chinese headers and an example row."""

    content_types = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }

    def get(self, request, *args, **kwargs):
        kind, fmt = self.get_kind(), self.kwargs["fmt"]
        if fmt not in importing.FORMATS:
            raise Http404
        self.check_import_allowed()
        response = HttpResponse(importing.template_bytes(kind, fmt), content_type=self.content_types[fmt])
        filename = importing.template_filename(kind, fmt)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
        return response
