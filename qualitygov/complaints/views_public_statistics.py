"""Public monthly summaries of complaints and tip-offs (SAMR Order 20 Art. 34; issue 6 item 8): the list
of published months and one month with its tables and charts. No sign-in; only what
``statistics.publish_month`` froze is shown (counts and shares, no reporter, no unverified respondent)."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.generic import View

from qualitygov.complaints import statistics
from qualitygov.complaints.models import MonthlySummary


class SummaryListView(View):
    """Published months, newest first, with the month's total."""

    def get(self, request):
        summaries = statistics.published_summaries()
        return render(request, "complaints/statistics/public_list.html",
                      {"title": _("投诉举报月度统计"), "summaries": summaries})


class SummaryDetailView(View):
    """One published month: totals, tables by category, region, channel, timeliness, satisfaction."""

    def get(self, request, year: int, month: int):
        try:
            first = dt.date(year, month, 1)
        except ValueError:
            raise Http404(_("月份有误。")) from None
        summary = MonthlySummary.objects.filter(month=first).first()
        if summary is None:
            raise Http404(_("该月的投诉举报统计尚未发布。"))
        return render(request, "complaints/statistics/public_detail.html", {
            "title": _("%(month)s 投诉举报统计") % {"month": f"{first:%Y-%m}"}, "summary": summary,
            "data": statistics.localise_summary(summary.data),
            "chart_i18n": {"received": _("收到"), "complaints": _("投诉"), "tip_offs": _("举报"), "closed": _("办结"),
                           "none": _("无数据")},
        })
