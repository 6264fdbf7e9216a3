"""Back-office intake pages (namespace "complaints"):

- ``intake-entry``: an officer enters a submission received by phone, letter, counter or fax (Art. 8;
  for non-written submissions the officer records what Art. 9 requires). The same checks as the public
  form apply (``intake.submit``); the officer is kept as ``entered_by``.
- ``intake-entered``: the receipt of an entered submission — tracking number, the cases, the unit each
  went to and why, the acceptance deadline; for an anonymous tip-off taken by phone, the query code and
  password to read out to the caller, shown once.
- ``intake-attachment``: streams an attachment to readers of one of its submission's cases; the agent's
  authorisation and ID only to users who may see identities, audit-logged.
- ``intake-identity``: (POST, htmx partial) reveals the reporter identity of a case to a user who may
  see it (``protection.reveal``, audit-logged), else shows it masked.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views import View

from qualitygov.complaints import attachments, intake, protection
from qualitygov.complaints.forms_intake import OfficerEntryForm
from qualitygov.complaints.models import Attachment, Case, Submission
from qualitygov.complaints.views_public_intake import remember_submission, resent_submission, submit_from_form
from qualitygov.core import audit
from qualitygov.core.models import AuditLog
from qualitygov.core.roles import ADD, VIEW, actions_for
from qualitygov.core.views import ScopedViewMixin

__all__ = ["AttachmentView", "EnteredView", "EntryView", "IdentityView"]


def case_url(case) -> str | None:
    """The case page of the "cases" area when it exists (built alongside this one)."""
    for name in ("complaints:case_detail", "complaints:case-detail"):
        try:
            return reverse(name, args=[case.pk])
        except NoReverseMatch:
            continue
    return None


class EntryView(ScopedViewMixin, View):
    """Officers (province, city, county) enter phone, letter, counter and fax submissions."""

    queryset = Case.objects.all()
    action = ADD
    template_name = "complaints/intake/officer_entry.html"

    def _check(self):
        user = self.request.user
        if not (user.is_superuser or ADD in actions_for(user.role, Case)):
            raise PermissionDenied(_("只有市场监管部门工作人员可以登记投诉举报。"))

    def _render(self, form, status=200, token: str = ""):
        return render(self.request, self.template_name, {"title": _("登记投诉举报"), "form": form,
                                                         "form_token": token or secrets.token_urlsafe(16)},
                      status=status)

    def get(self, request):
        self._check()
        return self._render(OfficerEntryForm())

    def post(self, request):
        self._check()
        # A double click or a reload of the answer sends the same form again: show what it entered.
        token, sent, already = resent_submission(request)
        if already:
            submission = Submission.objects.filter(tracking_number=already).first()
            if submission is not None:
                messages.info(request, _("这份表单已经提交过，没有重复登记。"))
                return HttpResponseRedirect(reverse("complaints:intake-entered", args=[submission.pk]))
        form = OfficerEntryForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(form, status=400, token=token)
        result, status = submit_from_form(request, form, channel=form.cleaned_data["channel"], entered_by=request.user)
        if result is None:
            return self._render(form, status=status, token=token)
        remember_submission(request, token, sent, result.submission.tracking_number)
        if result.query_code:
            # Read out to the caller now; only its hash is kept.
            return render(request, EnteredView.template_name,
                          {**_entered_context(request.user, result.submission), "query_code": result.query_code,
                           "query_password": result.query_password,
                           "similar": intake.similar_to(result.cases, user=request.user)})
        return HttpResponseRedirect(reverse("complaints:intake-entered", args=[result.submission.pk]))


def _entered_context(user, submission) -> dict:
    visible = set(Case.objects.restrict(user, VIEW).filter(submission=submission).values_list("pk", flat=True))
    cases = []
    for case in submission.cases.select_related("handling_unit").order_by("kind", "id"):
        received = case.events.filter(kind="received").values_list("text", flat=True).first() or ""
        cases.append({"case": case, "reason": received, "url": case_url(case) if case.pk in visible else None})
    return {"title": _("登记完成"), "submission": submission, "cases": cases}


class EnteredView(ScopedViewMixin, View):
    """The receipt of a submission this officer entered."""

    queryset = Case.objects.all()
    template_name = "complaints/intake/officer_entered.html"

    def get(self, request, pk: int):
        submission = get_object_or_404(Submission, pk=pk)
        # The officer who entered it, or anyone who may read one of its cases.
        if submission.entered_by_id != request.user.pk and not Case.objects.restrict(request.user, VIEW).filter(
                submission=submission).exists():
            raise Http404(_("未找到该登记。"))
        context = _entered_context(request.user, submission)
        if submission.entered_by_id == request.user.pk:
            context["similar"] = intake.similar_to([row["case"] for row in context["cases"]], user=request.user)
        return render(request, self.template_name, context)


class AttachmentView(ScopedViewMixin, View):
    """Stream an attachment to a reader of its case (never from a public URL)."""

    queryset = Case.objects.all()

    def get(self, request, pk: int):
        attachment = get_object_or_404(Attachment.objects.select_related("submission"), pk=pk)
        if not attachments.readable_by(request.user, attachment):
            raise Http404(_("未找到该材料，或不在您的访问范围内。"))
        if attachment.kind in attachments.IDENTITY_KINDS:
            case = Case.objects.restrict(request.user, VIEW).filter(submission_id=attachment.submission_id).first()
            with audit.attributed_to(request.user):
                audit.record(AuditLog.Action.ACCESS, case, region=case.handling_unit_id,
                             after={"attachment": attachment.pk, "kind": attachment.kind},
                             message=_("查看投诉举报人身份材料（案件 %(number)s）") % {"number": case.number})
        path = attachments.path_of(attachment)
        if not path.exists():
            raise Http404(_("该材料的文件已不存在。"))
        response = FileResponse(open(path, "rb"), content_type=attachment.content_type, as_attachment=True,
                                filename=attachment.original_name)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class IdentityView(ScopedViewMixin, View):
    """The reporter identity panel of a case (htmx): revealed and audit-logged for users who may see
    it, masked for everybody else."""

    queryset = Case.objects.select_related("submission")
    template_name = "complaints/intake/identity_panel.html"

    def get(self, request, pk: int):
        case = self.get_object()
        return render(request, self.template_name, {"case": case, "values": protection.masked(case), "revealed": False,
                                                    "may_reveal": protection.can_view_identity(request.user, case)})

    def post(self, request, pk: int):
        case = self.get_object()
        if not protection.can_view_identity(request.user, case):
            raise PermissionDenied(_("您无权查看投诉举报人信息。"))
        values = protection.reveal(request.user, case, purpose=request.POST.get("purpose", ""))
        return render(request, self.template_name, {"case": case, "values": values, "revealed": True,
                                                    "may_reveal": True})
