"""Tables for the sampling-record, objection and rectification list pages."""

from __future__ import annotations

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_tables2.utils import A

from qualitygov.core.tables import BaseTable
from qualitygov.inspection.models import Objection, Rectification, Sample, Verdict

SAMPLE_LINK = ("inspection:sample_detail", {"pk": A("pk")})
SAMPLE_LINK_VIA = ("inspection:sample_detail", {"pk": A("sample_id")})

# Badge colours of the verdicts, so a list reads at a glance.
VERDICT_CLASSES = {Verdict.NO_NONCONFORMITY: "text-bg-success", Verdict.UNQUALIFIED: "text-bg-warning",
                   Verdict.SERIOUSLY_UNQUALIFIED: "text-bg-danger"}


def verdict_badge(sample: Sample) -> str:
    """The sample's verdict as a coloured badge; a refusal shows 拒检, no result yet shows —."""
    if sample.outcome == Sample.Outcome.REFUSED:
        return format_html('<span class="badge text-bg-dark">{}</span>', sample.get_outcome_display())
    if not sample.verdict:
        return "—"
    return format_html('<span class="badge {}">{}</span>', VERDICT_CLASSES.get(sample.verdict, "text-bg-secondary"),
                       sample.get_verdict_display())


class SampleTable(BaseTable):
    number = tables.Column(linkify=SAMPLE_LINK)
    sampled_on = tables.DateColumn(format="Y-m-d")
    entity = tables.Column(order_by=("entity__name",), verbose_name=pgettext_lazy("field", "市场主体"))
    category = tables.Column(order_by=("category_id",), accessor="category__name", verbose_name=_("产品类别"))
    plan = tables.Column(order_by=("plan__code",), accessor="plan__code", verbose_name=_("抽查计划"))
    verdict = tables.Column(empty_values=())

    class Meta(BaseTable.Meta):
        model = Sample
        fields = ("number", "sampled_on", "plan", "entity", "category", "product_name", "batch_number", "stage",
                  "status", "verdict")

    def render_verdict(self, record):
        return verdict_badge(record)


class ObjectionTable(BaseTable):
    sample = tables.Column(linkify=SAMPLE_LINK_VIA, order_by=("sample__number",), accessor="sample__number",
                           verbose_name=_("抽样单"))
    entity = tables.Column(accessor="sample__entity__name", order_by=("sample__entity__name",),
                           verbose_name=pgettext_lazy("field", "市场主体"))
    product = tables.Column(accessor="sample__product_name", verbose_name=_("样品名称"), orderable=False)
    filed_on = tables.DateColumn(format="Y-m-d")
    reinspection_lab = tables.Column(order_by=("reinspection_lab__name",))

    class Meta(BaseTable.Meta):
        model = Objection
        fields = ("sample", "entity", "product", "filed_on", "status", "reinspection_lab", "decision")


class RectificationTable(BaseTable):
    sample = tables.Column(linkify=SAMPLE_LINK_VIA, order_by=("sample__number",), accessor="sample__number",
                           verbose_name=_("抽样单"))
    entity = tables.Column(accessor="sample__entity__name", order_by=("sample__entity__name",),
                           verbose_name=pgettext_lazy("field", "市场主体"))
    ordered_on = tables.DateColumn(format="Y-m-d")
    deadline = tables.Column()
    reported_on = tables.DateColumn(format="Y-m-d")

    class Meta(BaseTable.Meta):
        model = Rectification
        fields = ("sample", "entity", "ordered_on", "deadline", "status", "reported_on", "rechecked_on")

    def render_deadline(self, record):
        # An order still open after its deadline is overdue even before the nightly job marks it.
        late = (record.status == Rectification.Status.ORDERED and record.deadline < timezone.localdate())
        text = record.deadline.strftime("%Y-%m-%d")
        if late or record.status == Rectification.Status.OVERDUE:
            return format_html('<span class="text-danger fw-semibold">{} · {}</span>', text, _("已逾期"))
        return text
