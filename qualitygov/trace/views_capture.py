"""Pages of the capture area (issue 5): an enterprise user issues and revokes capture keys for its
entity (the secret is shown once), officers list the keys in their region, and everybody who may see
capture jobs lists them and reads one with its errors. Rules live in ``trace.keys`` and
``trace.capture``; these views call them."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from qualitygov.core.roles import ADD, CHANGE, VIEW, Role
from qualitygov.core.views import ScopedViewMixin
from qualitygov.registry.models import MarketEntity
from qualitygov.trace import capture, keys
from qualitygov.trace.models import CaptureJob, CaptureKey


class KeyViewMixin(ScopedViewMixin):
    queryset = CaptureKey.objects.select_related("entity", "issued_by")

    def can_issue(self) -> bool:
        user = self.request.user
        return self.allowed(ADD) and user.role == Role.ENTERPRISE and user.entity_id is not None


class CaptureKeyListView(KeyViewMixin, View):
    """The capture keys the user may see: its entity's (enterprise) or its region's (officers)."""

    def get(self, request):
        if not self.allowed(VIEW):
            raise PermissionDenied(_("您没有查看追溯数据上报密钥的权限。"))
        rows = self.restricted(VIEW).order_by("entity__name", "name", "id")
        page = Paginator(rows, settings.PAGINATE_BY).get_page(request.GET.get("page"))
        return render(request, "trace/capture/key_list.html",
                      {"title": _("追溯数据上报密钥"), "page": page, "can_issue": self.can_issue(),
                       "can_revoke": self.allowed(CHANGE), "own_entity": request.user.role == Role.ENTERPRISE})


class CaptureKeyIssueView(KeyViewMixin, View):
    """Issue a key for the user's own entity; the secret appears on the result page only."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.can_use_pages and not self.can_issue():
            raise PermissionDenied(_("只有企业用户可以为本企业签发上报密钥。"))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self._render("", None)

    def post(self, request):
        name = request.POST.get("name", "")
        entity = get_object_or_404(MarketEntity, pk=request.user.entity_id)
        try:
            key, secret = keys.issue(entity, name, user=request.user)
        except keys.KeyRefused as exc:
            return self._render(name, exc.messages[0], status=400)
        response = render(request, "trace/capture/key_issued.html",
                          {"title": _("上报密钥已签发"), "key": key, "secret": secret})
        # The secret is in this page only: never keep it in a cache or the browser's history store.
        response["Cache-Control"] = "no-store"
        return response

    def _render(self, name, error, status=200):
        return render(self.request, "trace/capture/key_form.html",
                      {"title": _("签发上报密钥"), "name": name, "error": error}, status=status)


class CaptureKeyRevokeView(KeyViewMixin, View):
    """Stop a key (POST only)."""

    http_method_names = ["post"]

    def post(self, request, pk: int):
        if not self.allowed(CHANGE):
            raise PermissionDenied(_("您无权停用上报密钥。"))
        key = self.get_object(CHANGE)
        try:
            keys.revoke(key, user=request.user)
        except keys.KeyRefused as exc:
            raise PermissionDenied(exc.messages[0]) from None
        messages.success(request, _("已停用上报密钥：%(key)s") % {"key": key})
        return HttpResponseRedirect(reverse("trace:capturekey_list"))


class JobViewMixin(ScopedViewMixin):
    queryset = CaptureJob.objects.select_related("entity", "key", "user")

    def jobs(self):
        return capture.jobs_visible_to(self.request.user, self.queryset)


class CaptureJobListView(JobViewMixin, View):
    """Capture jobs in the user's scope, newest first, filterable by status."""

    def get(self, request):
        if not (request.user.is_superuser or request.user.role in capture.JOB_VIEW_ROLES):
            raise PermissionDenied(_("您没有查看追溯数据上报任务的权限。"))
        rows = self.jobs()
        state = request.GET.get("status", "")
        if state in CaptureJob.Status.values:
            rows = rows.filter(status=state)
        page = Paginator(rows.order_by("-received_at"), settings.PAGINATE_BY).get_page(request.GET.get("page"))
        return render(request, "trace/capture/job_list.html",
                      {"title": _("追溯数据上报任务"), "page": page, "statuses": CaptureJob.Status.choices,
                       "status": state})


class CaptureJobDetailView(JobViewMixin, View):
    """One capture job with its counts and every problem (event, field, message)."""

    def get(self, request, pk):
        job = self.jobs().filter(pk=pk).first()
        if job is None:
            raise Http404(_("未找到该上报任务，或不在您的访问范围内。"))
        return render(request, "trace/capture/job_detail.html", {"title": _("上报任务详情"), "job": job})
