"""Generic back-office pages: list (filters, search, sort, paging, CSV/XLSX export), detail,
edit, delete and history. Scope is enforced here, in ``ScopedViewMixin``, and nowhere else:
every page gets its rows through ``queryset.restrict(user, action)``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View
from django_tables2 import RequestConfig

from qualitygov.core import audit
from qualitygov.core.exports import export_response
from qualitygov.core.models import AuditLog
from qualitygov.core.roles import ADD, CHANGE, DELETE, EXPORT, VIEW, actions_for


class ScopedViewMixin(LoginRequiredMixin):
    """Signed-in page users only; rows come from ``queryset.restrict(user, action)``."""

    queryset = None
    action = VIEW

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.can_use_pages:
            raise PermissionDenied(_("您的账号只能通过开放接口访问数据。"))
        return super().dispatch(request, *args, **kwargs)

    @property
    def model(self):
        return self.queryset.model

    def restricted(self, action: str | None = None):
        return self.queryset.restrict(self.request.user, action or self.action)

    def allowed(self, action: str) -> bool:
        user = self.request.user
        return user.is_superuser or action in actions_for(user.role, self.model)

    def get_object(self, action: str | None = None):
        return get_object_or_404(self.restricted(action), pk=self.kwargs["pk"])

    def url_name(self, suffix: str) -> str:
        meta = self.model._meta
        return f"{meta.app_label}:{meta.model_name}_{suffix}"

    def common_context(self) -> dict:
        meta = self.model._meta
        return {
            "model_meta": meta,
            "verbose_name": meta.verbose_name,
            "verbose_name_plural": meta.verbose_name_plural,
            "list_url": reverse(self.url_name("list")),
            "can_add": self.allowed(ADD) and self._has_url("add"),
            "can_change": self.allowed(CHANGE) and self._has_url("edit"),
            "can_delete": self.allowed(DELETE) and self._has_url("delete"),
            "can_export": self.allowed(EXPORT),
            "can_import": self.allowed("import") and self._has_url("import"),
            "url_prefix": f"{meta.app_label}:{meta.model_name}",
        }

    def _has_url(self, suffix: str) -> bool:
        from django.urls import NoReverseMatch

        try:
            reverse(self.url_name(suffix), args=[0] if suffix in ("edit", "delete") else [])
            return True
        except NoReverseMatch:
            return False


class ObjectListView(ScopedViewMixin, View):
    """A list page declared by its queryset, filterset, table and export columns."""

    filterset_class = None
    table_class = None
    template_name = "core/object_list.html"
    # (field path, header) pairs for CSV/XLSX export; values are read set-based with values_list.
    export_columns: list[tuple[str, str]] = []
    title = None

    def get(self, request, *args, **kwargs):
        if not self.allowed(VIEW):
            raise PermissionDenied(_("您没有查看此类记录的权限。"))
        queryset = self.restricted(VIEW)
        filterset = self.filterset_class(request.GET or None, queryset=queryset, request=request)
        if filterset.is_bound and not filterset.is_valid():
            rows = queryset.none()
        else:
            rows = filterset.qs
        export = request.GET.get("export")
        if export:
            if not self.allowed(EXPORT):
                raise PermissionDenied(_("您没有导出权限。"))
            # Export re-applies the filter on the export-scoped queryset, so both rules hold.
            export_rows = self.filterset_class(request.GET, queryset=self.restricted(EXPORT), request=request).qs
            return export_response(export_rows, self.export_columns, export, self.model._meta.verbose_name_plural)
        table = self.table_class(rows)
        per_page = _clamp_int(request.GET.get("per_page"), settings.PAGINATE_BY, 1, settings.MAX_PAGE_SIZE)
        RequestConfig(request, paginate={"per_page": per_page}).configure(table)
        context = {
            **self.common_context(),
            "title": self.title or self.model._meta.verbose_name_plural,
            "table": table,
            "filterset": filterset,
            "filter_form": filterset.form,
            "total": table.page.paginator.count if table.page else 0,
            "query_string": request.GET.urlencode(),
        }
        template = "core/includes/object_table.html" if request.htmx else self.template_name
        return render(request, template, context)


def _clamp_int(raw, default: int, low: int, high: int) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return max(low, min(high, value))


class ObjectDetailView(ScopedViewMixin, View):
    template_name = None

    def get_extra_context(self, obj) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        obj = self.get_object(VIEW)
        meta = self.model._meta
        context = {
            **self.common_context(),
            "object": obj,
            "title": str(obj),
            "can_change_object": self.allowed(CHANGE) and self.restricted(CHANGE).filter(pk=obj.pk).exists(),
            "can_delete_object": self.allowed(DELETE) and self.restricted(DELETE).filter(pk=obj.pk).exists(),
            "history_url": reverse(self.url_name("history"), args=[obj.pk]),
            **self.get_extra_context(obj),
        }
        return render(request, self.template_name or f"{meta.app_label}/{meta.model_name}_detail.html", context)


class ObjectEditView(ScopedViewMixin, View):
    """Create (no pk) or edit a record; a save that would leave the user's scope is undone."""

    form_class = None
    template_name = "core/object_edit.html"

    def get_form_kwargs(self) -> dict:
        return {"user": self.request.user}

    def _get_instance(self):
        if "pk" in self.kwargs:
            return self.get_object(CHANGE)
        if not self.allowed(ADD):
            raise PermissionDenied(_("您没有新建此类记录的权限。"))
        return self.model()

    def get(self, request, *args, **kwargs):
        obj = self._get_instance()
        form = self.form_class(instance=obj, initial=request.GET.dict() if obj.pk is None else None,
                               **self.get_form_kwargs())
        return self._render(form, obj)

    def post(self, request, *args, **kwargs):
        obj = self._get_instance()
        form = self.form_class(request.POST, request.FILES, instance=obj, **self.get_form_kwargs())
        if form.is_valid():
            action = CHANGE if obj.pk else ADD
            try:
                with transaction.atomic():
                    saved = form.save()
                    if not self.model.objects.filter(pk=saved.pk).restrict(request.user, action).exists():
                        raise PermissionDenied
            except PermissionDenied:
                form.add_error(None, _("保存后的记录不在您的辖区或企业范围内，未保存。"))
                return self._render(form, obj, status=403)
            messages.success(request, _("已保存：%(obj)s") % {"obj": saved})
            return HttpResponseRedirect(saved.get_absolute_url())
        return self._render(form, obj, status=400)

    def _render(self, form, obj, status=200):
        context = {**self.common_context(), "form": form, "object": obj,
                   "title": (_("编辑：%(obj)s") % {"obj": obj}) if obj.pk else
                   (_("新建%(name)s") % {"name": self.model._meta.verbose_name})}
        return render(self.request, self.template_name, context, status=status)


class ObjectDeleteView(ScopedViewMixin, View):
    template_name = "core/object_delete.html"

    def get(self, request, *args, **kwargs):
        obj = self.get_object(DELETE)
        return render(request, self.template_name, {**self.common_context(), "object": obj,
                                                    "title": _("删除：%(obj)s") % {"obj": obj}})

    def post(self, request, *args, **kwargs):
        from django.db.models import ProtectedError

        obj = self.get_object(DELETE)
        try:
            obj.delete()
        except ProtectedError:
            messages.error(request, _("“%(obj)s”仍被其他记录引用，不能删除。") % {"obj": obj})
            return HttpResponseRedirect(obj.get_absolute_url())
        messages.success(request, _("已删除：%(obj)s") % {"obj": obj})
        return HttpResponseRedirect(reverse(self.url_name("list")))


class ObjectHistoryView(ScopedViewMixin, View):
    """The audit entries of one record, visible to whoever may see the record."""

    template_name = "core/object_history.html"

    def get(self, request, *args, **kwargs):
        obj = self.get_object(VIEW)
        entries = audit.history_for(obj).select_related("content_type")[:500]
        return render(request, self.template_name, {**self.common_context(), "object": obj, "entries": entries,
                                                    "title": _("变更历史：%(obj)s") % {"obj": obj}})


class HomeView(LoginRequiredMixin, TemplateView):
    """The dashboard: counts by prefecture on a Jilin map, and what needs attention."""

    template_name = "core/dashboard.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.can_use_pages:
            raise PermissionDenied(_("您的账号只能通过开放接口访问数据。"))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        from qualitygov.core.dashboard import dashboard_context

        return {**super().get_context_data(**kwargs), **dashboard_context(self.request.user)}


class AuditLogListView(ObjectListView):
    queryset = AuditLog.objects.select_related("content_type", "user")

    @property
    def filterset_class(self):
        from qualitygov.core.filtersets import AuditLogFilterSet

        return AuditLogFilterSet

    @property
    def table_class(self):
        from qualitygov.core.tables import AuditLogTable

        return AuditLogTable

    export_columns = [("time", gettext_lazy("时间")), ("username", gettext_lazy("用户名")),
                      ("ip_address", gettext_lazy("IP 地址")), ("action", gettext_lazy("操作")),
                      ("content_type__model", gettext_lazy("对象类型")), ("object_id", gettext_lazy("对象编号")),
                      ("object_repr", gettext_lazy("对象")), ("region", gettext_lazy("区划代码")),
                      ("hash", gettext_lazy("哈希"))]


class AuditLogDetailView(ObjectDetailView):
    queryset = AuditLog.objects.select_related("content_type", "user")
    template_name = "core/auditlog_detail.html"

    def get(self, request, *args, **kwargs):
        obj = self.get_object(VIEW)
        return render(request, self.template_name, {**self.common_context(), "object": obj, "title": str(obj)})


def _api_error(request, status: int, code: str, message: str):
    """Paths under /api/ answer in the API's one error shape even when Django itself raises."""
    from django.http import JsonResponse

    from qualitygov.core.api import error_body

    return JsonResponse(error_body(status, code, str(message)), status=status,
                        json_dumps_params={"ensure_ascii": False})


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else _("您没有访问此页面的权限。")
    if request.path.startswith("/api/"):
        return _api_error(request, 403, "permission_denied", message)
    return render(request, "403.html", {"message": message}, status=403)


def page_not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return _api_error(request, 404, "not_found", _("接口路径不存在。"))
    return render(request, "404.html", {"message": _("页面不存在，或记录不在您的访问范围内。")}, status=404)


def server_error(request):
    if request.path.startswith("/api/"):
        return _api_error(request, 500, "server_error", _("服务器内部错误，请稍后重试或联系管理员。"))
    return render(request, "500.html", status=500)


__all__ = ["ObjectListView", "ObjectDetailView", "ObjectEditView", "ObjectDeleteView", "ObjectHistoryView",
           "HomeView", "Http404"]


def object_urls(prefix: str, name: str, queryset, *, filterset_class, table_class, form_class, export_columns,
                list_view=ObjectListView, detail_view=ObjectDetailView) -> list:
    """The six standard pages of one model — list, add, detail, edit, delete, history — declared
    from its queryset, filter set, table, form and export columns; names are ``<name>_<page>``."""
    from django.urls import path

    edit = ObjectEditView.as_view(queryset=queryset, form_class=form_class)
    return [
        path(f"{prefix}/", list_view.as_view(queryset=queryset, filterset_class=filterset_class,
                                             table_class=table_class, export_columns=export_columns),
             name=f"{name}_list"),
        path(f"{prefix}/add/", edit, name=f"{name}_add"),
        path(f"{prefix}/<int:pk>/", detail_view.as_view(queryset=queryset), name=f"{name}_detail"),
        path(f"{prefix}/<int:pk>/edit/", edit, name=f"{name}_edit"),
        path(f"{prefix}/<int:pk>/delete/", ObjectDeleteView.as_view(queryset=queryset), name=f"{name}_delete"),
        path(f"{prefix}/<int:pk>/history/", ObjectHistoryView.as_view(queryset=queryset), name=f"{name}_history"),
    ]


def health(request):
    """Liveness and database check for load balancers and monitoring: 200 ``ok`` or 503."""
    from django.db import connection
    from django.http import JsonResponse

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not ready"
        return JsonResponse({"status": "error", "database": str(exc)[:200]}, status=503)
    return JsonResponse({"status": "ok", "database": connection.vendor})
