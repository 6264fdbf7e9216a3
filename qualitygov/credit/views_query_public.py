"""The public credit query pages (no sign-in): search, an entity's public credit file, the objection
form of a published record and its confirmation. What is shown comes from ``credit.query`` only."""

from __future__ import annotations

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from qualitygov.credit import query
from qualitygov.credit.api_public_query import ObjectionRateThrottle
from qualitygov.credit.forms_query import ObjectionForm, SearchForm
from qualitygov.credit.models import CreditObjection, CreditRecord

SESSION_KEY = "credit_objection_numbers"


class PublicSearchView(View):
    """Search registered entities by name (contains) or USCC (exact); a bad query shows why."""

    template_name = "public/credit/search.html"

    def get(self, request):
        form = SearchForm(request.GET or None)
        result, error = None, None
        text = request.GET.get("q", "")
        if text.strip():
            try:
                result = query.search(text, request.GET.get("page"))
            except query.QueryRefused as exc:
                error = exc.messages[0]
        context = {"title": _("信用信息查询"), "form": form, "result": result, "error": error, "query": text,
                   "section": "search"}
        return render(request, self.template_name, context, status=400 if error else 200)


class PublicEntityView(View):
    """An entity's public credit file: grade, published records with its statements, list status."""

    template_name = "public/credit/entity.html"

    def get(self, request, uscc: str):
        try:
            file = query.public_file_for_uscc(uscc)
        except query.QueryRefused:
            file = None
        if file is None:
            raise Http404(_("未找到该统一社会信用代码的市场主体。"))
        return render(request, self.template_name, {"title": file["entity"]["name"], "file": file,
                                                    "section": "search"})


def _objection_record(pk: int) -> CreditRecord:
    """A record that was published at some time and not withdrawn (so a late objection gets its
    reason); anything else is "not found", so the page reveals nothing unpublished."""
    record = (CreditRecord.objects.filter(pk=pk, publishable=True, state=CreditRecord.State.ACTIVE,
                                          entity__status__in=query.PUBLIC_ENTITY_STATUSES)
              .select_related("entity").first())
    if record is None:
        raise Http404(_("未找到该条公示信息。"))
    return record


class PublicObjectionView(View):
    """The objection form of one published record; refusals (late, missing fields) in Chinese."""

    template_name = "public/credit/objection.html"

    def _render(self, request, record, form, refusal=None, status=200):
        closed = refusal is not None and getattr(refusal, "code", None) in ("objection_late", "not_public")
        context = {"title": _("对公示信息提出异议"), "record": None if closed else record, "entity": record.entity,
                   "form": form, "refusal": refusal.messages[0] if refusal else None, "closed": closed,
                   "deadline": query.objection_deadline(record), "section": "search"}
        return render(request, self.template_name, context, status=status)

    def get(self, request, pk: int):
        record = _objection_record(pk)
        try:
            query.check_objection_open(record)
        except query.QueryRefused as exc:
            return self._render(request, record, None, exc)
        return self._render(request, record, ObjectionForm())

    def post(self, request, pk: int):
        record = _objection_record(pk)
        form = ObjectionForm(request.POST)
        if not form.is_valid():
            return self._render(request, record, form, status=400)
        data = form.cleaned_data
        # The same per-address limit as the API's anonymous objections (signed-in users are not limited).
        if not ObjectionRateThrottle().allow_request(request, self):
            form.add_error(None, _("提交过于频繁，请稍后再试。"))
            return self._render(request, record, form, status=429)
        try:
            objection = query.submit_objection(record, data["name"], data["contact"], data["grounds"],
                                               user=request.user)
        except query.QueryRefused as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
                return self._render(request, record, form, status=400)
            return self._render(request, record, form, exc, status=400)
        # The confirmation page shows only numbers this browser submitted.
        request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, [])[-19:], objection.tracking_number]
        return HttpResponseRedirect(reverse("public-credit:objection_done", args=[objection.tracking_number]))


class PublicObjectionDoneView(View):
    """Confirmation: tracking number, date received and the answer deadline (no personal data)."""

    template_name = "public/credit/objection_done.html"

    def get(self, request, number: str):
        if number not in request.session.get(SESSION_KEY, []):
            raise Http404(_("未找到该受理编号。"))
        objection = (CreditObjection.objects.select_related("entity").filter(tracking_number=number).first())
        if objection is None:
            raise Http404(_("未找到该受理编号。"))
        return render(request, self.template_name, {"title": _("异议已受理"), "objection": objection,
                                                    "section": "search"})


__all__ = ["PublicEntityView", "PublicObjectionDoneView", "PublicObjectionView", "PublicSearchView"]
