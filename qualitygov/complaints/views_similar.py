"""The similar-cases panel of the case page (issue 6, item 7).

* ``case-similar`` (GET, args [case_pk]): an HTML fragment, loaded by htmx into the case page, listing
  the open cases most like this one (``similarity.find_similar``) that the user may see, each with its
  score, the reasons and — when the two may be merged by this user — a merge button.
* ``case-merge`` (POST, args [case_pk]): merges ``duplicate`` into ``into`` (one of them is the page's
  case) with ``similarity.merge``. An htmx request gets the panel again with the outcome; a plain form
  post is redirected to the case that remains. A refused merge answers 400 with the reason in Chinese
  and changes nothing.

The direction offered is ``similarity.merge_order``'s, the one ``similarity.merge`` accepts: the case
further along in its workflow (accepted, mediating, filed …) is kept and the other folded into it; at
equal progress the earlier received case is kept (the first report, whose reporter may be rewarded,
``rewards``). A candidate is flagged "疑似重复" only with enough shared text (``Similar.likely_duplicate``).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from qualitygov.complaints import similarity
from qualitygov.complaints.models import Case
from qualitygov.core.roles import CHANGE, VIEW
from qualitygov.core.views import ScopedViewMixin


class MergeForm(forms.Form):
    duplicate = forms.IntegerField(label=gettext_lazy("重复案件"))
    into = forms.IntegerField(label=gettext_lazy("合并至"))


def _why_kept(duplicate: Case, into: Case) -> str:
    if similarity.progress(into) > similarity.progress(duplicate):
        return _("保留办理进度较快的案件")
    return _("办理进度相同，保留先收到的案件")


def panel_context(user, case: Case) -> dict:
    """Candidates for ``case`` among the cases ``user`` may see, with what the user may do with each and
    the merge direction ``similarity.merge`` accepts."""
    results = similarity.find_similar_to_case(case, user=user)
    changeable = set(Case.objects.restrict(user, CHANGE).filter(pk__in=[case.pk, *[r.case.pk for r in results]])
                     .values_list("pk", flat=True))
    case_open = case.status not in similarity.CLOSED_STATUSES
    rows = []
    for result in results:
        other = result.case
        duplicate, into = similarity.merge_order(case, other)
        why_not = ""
        if not case_open:
            why_not = _("本案已办结或已合并")
        elif other.kind != case.kind:
            why_not = _("类型不同")
        elif other.handling_unit_id != case.handling_unit_id:
            why_not = _("承办单位不同")
        elif not {case.pk, other.pk} <= changeable:
            why_not = _("无办理权限")
        rows.append({"result": result, "duplicate": duplicate, "into": into, "why_not": why_not,
                     "why_kept": _why_kept(duplicate, into)})
    return {"case": case, "rows": rows, "threshold": similarity.LIKELY_DUPLICATE,
            "text_threshold": similarity.DUPLICATE_MIN_TEXT}


class CaseSimilarView(ScopedViewMixin, View):
    queryset = Case.objects.select_related("handling_unit")
    template_name = "complaints/similar/panel.html"

    def get(self, request, case_pk: int):
        case = get_object_or_404(self.restricted(VIEW), pk=case_pk)
        return render(request, self.template_name, panel_context(request.user, case))


class CaseMergeView(ScopedViewMixin, View):
    queryset = Case.objects.select_related("handling_unit")
    template_name = "complaints/similar/panel.html"

    def post(self, request, case_pk: int):
        case = get_object_or_404(self.restricted(VIEW), pk=case_pk)
        form = MergeForm(request.POST)
        error = ""
        if not form.is_valid():
            error = _("请选择要合并的两个案件。")
        else:
            ids = {form.cleaned_data["duplicate"], form.cleaned_data["into"]}
            if case.pk not in ids:
                raise PermissionDenied(_("只能合并本案与其相似案件。"))
            found = {c.pk: c for c in self.restricted(VIEW).filter(pk__in=ids)}
            if len(found) != len(ids) or len(ids) != 2:
                raise Http404
            duplicate, into = found[form.cleaned_data["duplicate"]], found[form.cleaned_data["into"]]
            try:
                similarity.merge(duplicate, into, request.user)
            except similarity.MergeRefused as refused:
                error = refused.messages[0]
            else:
                done = _("已将案件 %(dup)s 合并至 %(into)s。") % {"dup": duplicate.number, "into": into.number}
                if not request.htmx:
                    messages.success(request, done)
                    try:
                        return HttpResponseRedirect(into.get_absolute_url())
                    except NoReverseMatch:  # the case pages are another area's; until mounted, the panel
                        pass
                case.refresh_from_db()
                return render(request, self.template_name, {**panel_context(request.user, case), "done": done})
        case.refresh_from_db()
        return render(request, self.template_name, {**panel_context(request.user, case), "error": error}, status=400)
