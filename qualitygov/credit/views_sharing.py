"""Pages of the sharing area (issue 4 item 7): who read a credit file (the entity sees its own
entries, officers their region's) and the province administrator's key management. The rules are
in ``credit.sharing``; these views call it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from qualitygov.core.models import BaseModel
from qualitygov.core.roles import ADD, CHANGE, VIEW, Role, actions_for
from qualitygov.core.views import ScopedViewMixin
from qualitygov.credit import sharing
from qualitygov.credit.forms_sharing import IssueKeyForm
from qualitygov.credit.models import CreditAccessLog, SharingKey

RECENT_LOG = 50


def scoped_access_log(user, action: str = VIEW):
    """Access-log entries ``user`` may see: the rule of ``RestrictedQuerySet.restrict`` applied here,
    because ``CreditAccessLog`` is not a ``BaseModel`` and lacks ``apply_scope`` (requested of the lead)."""
    queryset = CreditAccessLog.objects.select_related("entity", "key", "user")
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset
    if action not in actions_for(user.role, CreditAccessLog):
        return queryset.none()
    return BaseModel.apply_scope.__func__(CreditAccessLog, queryset, user)


def field_labels(fields) -> list[str]:
    """The catalogue labels of shared fields, for display."""
    return [str(sharing.SHARING_FIELDS.get(f, f)) for f in fields or []]


def _log_rows(entries) -> list[dict]:
    return [{"entry": e, "fields": field_labels(e.fields)} for e in entries]


class AccessLogListView(ScopedViewMixin, View):
    """The credit-file access log: an enterprise user sees its own entity's entries, an officer those
    of the entities in the region. Filters: channel, and entity name or USCC."""

    queryset = CreditAccessLog.objects.select_related("entity", "key", "user")

    def get(self, request):
        if not self.allowed(VIEW):
            raise PermissionDenied(_("您没有查看信用档案查询记录的权限。"))
        rows = scoped_access_log(request.user, VIEW)
        channel = request.GET.get("channel", "")
        if channel in CreditAccessLog.Channel.values:
            rows = rows.filter(channel=channel)
        q = request.GET.get("q", "").strip()
        if q:
            rows = rows.filter(Q(entity__name__icontains=q) | Q(entity__uscc__iexact=q) | Q(accessor__icontains=q))
        page = Paginator(rows.order_by("-accessed_at", "-id"), settings.PAGINATE_BY).get_page(request.GET.get("page"))
        params = request.GET.copy()
        params.pop("page", None)
        context = {"title": _("信用档案查询记录"), "page": page, "rows": _log_rows(page.object_list),
                   "channels": CreditAccessLog.Channel.choices, "channel": channel, "q": q,
                   "query_string": params.urlencode(), "own_entity": request.user.role == Role.ENTERPRISE}
        return render(request, "credit/sharing/accesslog_list.html", context)


class KeyViewMixin(ScopedViewMixin):
    queryset = SharingKey.objects.select_related("issued_by")

    def key_context(self) -> dict:
        return {"can_issue": self.allowed(ADD), "can_revoke": self.allowed(CHANGE), "today": timezone.localdate()}


class SharingKeyListView(KeyViewMixin, View):
    """Every key with its department, fields, limit, state and last use."""

    def get(self, request):
        if not self.allowed(VIEW):
            raise PermissionDenied(_("您没有查看共享接口密钥的权限。"))
        keys = [{"key": k, "fields": field_labels(k.fields)} for k in self.restricted(VIEW).order_by("name", "id")]
        return render(request, "credit/sharing/key_list.html",
                      {"title": _("共享接口密钥"), "keys": keys, **self.key_context()})


class SharingKeyIssueView(KeyViewMixin, View):
    """Issue a key: the form goes to ``sharing.issue_key``; the secret is shown once on the result page."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.can_use_pages and not self.allowed(ADD):
            raise PermissionDenied(_("只有省级管理员可以签发共享接口密钥。"))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self._render(IssueKeyForm())

    def post(self, request):
        form = IssueKeyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                key, secret = sharing.issue_key(data["name"], data["department"], data["department_name"],
                                                data["fields"], data["rate_limit_per_minute"], data["expires_on"],
                                                request.user)
            except sharing.SharingRefused as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                response = render(request, "credit/sharing/key_issued.html",
                                  {"title": _("密钥已签发"), "key": key, "secret": secret,
                                   "fields": field_labels(key.fields)})
                # The secret is in this page only: never keep it in a cache or the browser's history store.
                response["Cache-Control"] = "no-store"
                return response
        return self._render(form, status=400)

    def _render(self, form, status=200):
        return render(self.request, "credit/sharing/key_form.html", {"title": _("签发共享接口密钥"), "form": form},
                      status=status)


class SharingKeyDetailView(KeyViewMixin, View):
    """One key with its recent access log."""

    def get(self, request, pk: int):
        key = self.get_object(VIEW)
        log = (scoped_access_log(request.user, VIEW).filter(key=key).order_by("-accessed_at", "-id")[:RECENT_LOG])
        return render(request, "credit/sharing/key_detail.html",
                      {"title": str(key), "key": key, "fields": field_labels(key.fields), "log": _log_rows(log),
                       "recent": RECENT_LOG, **self.key_context()})


class SharingKeyRevokeView(KeyViewMixin, View):
    """Stop a key (POST only)."""

    http_method_names = ["post"]

    def post(self, request, pk: int):
        if not self.allowed(CHANGE):
            raise PermissionDenied(_("只有省级管理员可以停用共享接口密钥。"))
        key = self.get_object(CHANGE)
        try:
            sharing.revoke_key(key, request.user)
        except sharing.SharingRefused as exc:
            raise PermissionDenied(exc.messages[0]) from None
        messages.success(request, _("已停用密钥：%(key)s") % {"key": key})
        return HttpResponseRedirect(reverse("credit:sharingkey_detail", args=[key.pk]))
