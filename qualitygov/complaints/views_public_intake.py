"""The public complaint and tip-off pages (no sign-in), mounted at /public/complaints/ ("complaints-public"):

- ``intake-form``: the form (complaint, tip-off or both; the respondent searched in the registry by
  name or USCC; attachments). Refusals are shown on the form in Chinese; nothing is stored.
- ``intake-respondent-search``: the htmx partial listing registered entities for the search box.
- ``intake-done``: the confirmation with the tracking number. The anonymous reporter's query code and
  password are shown once, in the answer to the form itself, and never stored in plain text anywhere.
- ``intake-follow-up``: tracking number + phone number, or query code + password; ``intake-status``:
  status, dates and the public steps of each case; ``intake-rate``: the satisfaction rating of a
  closed complaint. The browser that proved it holds the credentials keeps the submission in its
  session, so the status page and the rating need no second entry.
"""

from __future__ import annotations

import hashlib
import secrets

from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from qualitygov.complaints import intake
from qualitygov.complaints.attachments import AttachmentRefused
from qualitygov.complaints.forms_intake import FollowUpForm, SatisfactionForm, SubmissionForm
from qualitygov.complaints.models import Channel, Submission
from qualitygov.core.middleware import client_ip

__all__ = ["DoneView", "FollowUpView", "RateView", "RespondentSearchView", "StatusView", "SubmitView",
           "FOLLOW_UP_FAILURES_PER_HOUR"]

SUBMITTED_KEY = "complaints_submitted"
FOLLOWED_KEY = "complaints_followed"
# Form tokens already used by this browser → tracking number. Reloading the confirmation of an anonymous
# tip-off (an answer to a POST) sends the form again; without this a second submission with new
# credentials would be made. The same token leads to the first submission's page instead.
TOKENS_KEY = "complaints_form_tokens"
# Wrong tracking number / phone or code / password guesses per client and hour before the page refuses
# more (guessing a password must not be cheap). Counted in the cache: only failures count, and they
# leave no row behind.
FOLLOW_UP_FAILURES_PER_HOUR = 20


def _remember(request, key: str, value: str) -> None:
    request.session[key] = [*[v for v in request.session.get(key, []) if v != value][-19:], value]


def _sent_digest(request) -> str:
    """Digest of what the form sent (fields and files' names and sizes): the same token with other
    content is a new submission (the user went back and changed the form), not a resend."""
    fields = sorted((key, request.POST.getlist(key)) for key in request.POST if key != "csrfmiddlewaretoken")
    files = sorted((key, [(f.name, f.size) for f in request.FILES.getlist(key)]) for key in request.FILES)
    return hashlib.sha256(repr((fields, files)).encode()).hexdigest()


def resent_submission(request) -> tuple[str, str, str | None]:
    """(token, digest of what was sent, tracking number) — the number when this browser already sent
    this very form (same one-time token, same content), else None."""
    token = (request.POST.get("form_token") or "")[:64]
    sent = _sent_digest(request)
    already = next((number for used, digest, number in request.session.get(TOKENS_KEY, [])
                    if token and used == token and digest == sent), None)
    return token, sent, already


def remember_submission(request, token: str, sent: str, number: str) -> None:
    """Remember that this form (token and content) made the submission ``number``."""
    if token:
        request.session[TOKENS_KEY] = [*request.session.get(TOKENS_KEY, [])[-19:], [token, sent, number]]


def submit_from_form(request, form, *, channel: str, entered_by=None):
    """Run ``intake.submit`` with the form's values; (result, status) — result None when refused, with
    the refusal put on the form."""
    kwargs = form.submission_kwargs()
    kwargs.setdefault("channel", channel)
    try:
        result = intake.submit(**kwargs, client_address=client_ip(request), entered_by=entered_by)
    except intake.SubmissionRefused as refusal:
        form.add_refusal(refusal)
        return None, 400
    except AttachmentRefused as refusal:
        form.add_error("files", refusal.messages[0])
        return None, 400
    except intake.RateLimited as limited:
        form.add_error(None, limited.message)
        return None, 429
    return result, 201


class SubmitView(View):
    """The public form."""

    template_name = "complaints/intake/public_form.html"

    def _render(self, request, form, status=200, token: str = ""):
        return render(request, self.template_name, {"title": _("投诉举报"), "form": form,
                                                    "form_token": token or secrets.token_urlsafe(16)}, status=status)

    def get(self, request):
        initial = {"kind": request.GET.get("kind")} if request.GET.get("kind") in intake.KINDS else None
        return self._render(request, SubmissionForm(initial=initial))

    def post(self, request):
        token, sent, already = resent_submission(request)
        if already:
            messages.info(request, _("这份表单已经提交过，没有重复登记。"))
            return HttpResponseRedirect(reverse("complaints-public:intake-done", args=[already]))
        form = SubmissionForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, form, status=400, token=token)
        result, status = submit_from_form(request, form, channel=Channel.WEB)
        if result is None:
            return self._render(request, form, status=status, token=token)
        number = result.submission.tracking_number
        _remember(request, SUBMITTED_KEY, number)
        remember_submission(request, token, sent, number)
        if result.query_code:
            # Shown in this answer only: the password is never stored in plain text, not even in the session.
            _remember(request, FOLLOWED_KEY, number)
            return render(request, DoneView.template_name, {**_done_context(result.submission),
                                                            "query_code": result.query_code,
                                                            "query_password": result.query_password})
        return HttpResponseRedirect(reverse("complaints-public:intake-done", args=[number]))


def _done_context(submission: Submission) -> dict:
    return {"title": _("提交成功"), "submission": submission, "status": intake.public_status(submission)}


class DoneView(View):
    """The confirmation with the tracking number (for the browser that submitted it)."""

    template_name = "complaints/intake/public_done.html"

    def get(self, request, number: str):
        if number not in request.session.get(SUBMITTED_KEY, []):
            raise Http404(_("未找到该登记编号。"))
        submission = Submission.objects.filter(tracking_number=number).first()
        if submission is None:
            raise Http404(_("未找到该登记编号。"))
        return render(request, self.template_name, _done_context(submission))


class RespondentSearchView(View):
    """Registered entities matching a name (at least two characters) or a USCC, as an htmx partial."""

    template_name = "complaints/intake/respondent_results.html"

    def get(self, request):
        from qualitygov.credit import query

        text = request.GET.get("q", "")
        entities, error = [], None
        try:
            _mode, _text, queryset = query.search_queryset(text)
            entities = list(queryset.select_related("region")[:10])
        except query.QueryRefused as refusal:
            error = refusal.messages[0]
        return render(request, self.template_name, {"entities": entities, "error": error, "query": text})


def follow_up_failure_key(request) -> str:
    return "complaints-follow-up-failures:" + intake.client_digest(client_ip(request) or "unknown")


class FollowUpView(View):
    """Enter the tracking number and phone number, or the query code and password."""

    template_name = "complaints/intake/public_follow_up.html"

    def _render(self, request, form, status=200):
        return render(request, self.template_name, {"title": _("查询办理情况"), "form": form}, status=status)

    def get(self, request):
        return self._render(request, FollowUpForm())

    def post(self, request):
        form = FollowUpForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        key = follow_up_failure_key(request)
        if cache.get(key, 0) >= FOLLOW_UP_FAILURES_PER_HOUR:
            form.add_error(None, _("查询失败次数过多，请一小时后再试。"))
            return self._render(request, form, status=429)
        data = form.cleaned_data
        if data.get("tracking_number"):
            submission = intake.find_named(data["tracking_number"], data["phone"])
        else:
            submission = intake.find_anonymous(data["query_code"], data["password"])
        if submission is None:
            cache.add(key, 0, timeout=3600)
            cache.incr(key)
            # One message for every mismatch: the page does not tell which part was wrong.
            form.add_error(None, _("未找到匹配的投诉举报：请核对登记编号和电话号码，或查询码和查询密码。"))
            return self._render(request, form, status=404)
        _remember(request, FOLLOWED_KEY, submission.tracking_number)
        return HttpResponseRedirect(reverse("complaints-public:intake-status", args=[submission.tracking_number]))


def _followed(request, number: str) -> Submission:
    if number not in request.session.get(FOLLOWED_KEY, []):
        raise Http404(_("请先输入登记编号和电话号码（或查询码和查询密码）。"))
    submission = Submission.objects.filter(tracking_number=number).first()
    if submission is None:
        raise Http404(_("未找到该登记编号。"))
    return submission


class StatusView(View):
    """Status, dates and public steps of each case of a followed submission, and the rating forms."""

    template_name = "complaints/intake/public_status.html"

    def get(self, request, number: str):
        submission = _followed(request, number)
        return render(request, self.template_name, {"title": _("办理情况"), "status": intake.public_status(submission),
                                                    "rating_form": SatisfactionForm()})


class RateView(View):
    """The satisfaction rating of a closed complaint (1–5 and a comment), once."""

    def post(self, request, number: str, case_number: str):
        submission = _followed(request, number)
        case = submission.cases.filter(number=case_number).first()
        if case is None:
            raise Http404(_("未找到该案件。"))
        form = SatisfactionForm(request.POST)
        if form.is_valid():
            try:
                intake.rate(case, form.cleaned_data["satisfaction"], form.cleaned_data["comment"])
            except intake.SubmissionRefused as refusal:
                for errors in refusal.message_dict.values():
                    for message in errors:
                        form.add_error(None, message)
        if form.errors:
            return render(request, StatusView.template_name,
                          {"title": _("办理情况"), "status": intake.public_status(submission), "rating_form": form,
                           "rating_case": case.number}, status=400)
        messages.success(request, _("感谢您的评价。"))
        return HttpResponseRedirect(reverse("complaints-public:intake-status", args=[number]))
