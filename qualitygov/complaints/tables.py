"""Tables of the case pages: the queue (with each case's next legal deadline) and the due lists."""

from __future__ import annotations

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from qualitygov.complaints import handling
from qualitygov.complaints.models import Case
from qualitygov.core.tables import BaseTable


class CaseTable(BaseTable):
    number = tables.Column(linkify=("complaints:case_detail", [tables.A("pk")]), verbose_name=_("案件编号"))
    handling_unit = tables.Column(order_by=("handling_unit__code",), verbose_name=_("承办单位"))
    assigned_to = tables.Column(order_by=("assigned_to__username",), verbose_name=_("承办人"))
    next_due = tables.Column(empty_values=(), orderable=False, verbose_name=_("下一期限"))

    class Meta(BaseTable.Meta):
        model = Case
        fields = ("number", "kind", "status", "received_on", "respondent_name", "category", "handling_unit",
                  "assigned_to", "accept_due_on", "next_due")
        attrs = {**BaseTable.Meta.attrs, "id": "qg-case-table"}
        row_attrs = {"data-case": lambda record: record.number}

    def render_assigned_to(self, value):
        return value.display_name

    def render_next_due(self, record):
        found = handling.next_deadline(record)
        if found is None:
            # A deadline left empty because its year's holidays are not announced yet is still open:
            # say so rather than showing the case as having none.
            if record.calendar_pending and record.status not in handling.TERMINAL:
                return format_html('<span class="qg-due text-warning-emphasis">{}</span>',
                                   _("期限待节假日安排公布后计算"))
            return "—"
        label, due = found
        late = due < timezone.localdate()
        return format_html('<span class="qg-due{}">{} {}</span>', " text-danger fw-bold" if late else "", label,
                           due.isoformat())


# Export of the queue: case facts and clocks, never the reporter's identity or contacts (Art. 33).
CASE_EXPORT = [
    ("number", _("案件编号")), ("submission__tracking_number", _("登记编号")), ("kind", _("类型")),
    ("status", _("状态")), ("submission__channel", _("渠道")), ("received_on", _("收到日期")),
    ("handling_unit__name", _("承办单位")), ("assigned_to__username", _("承办人")),
    ("respondent_name", _("被投诉举报人名称")), ("respondent_entity__uscc", _("统一社会信用代码")),
    ("category", _("问题类别")), ("product_category__code", _("产品类别")), ("product_name", _("商品或服务名称")),
    ("accept_due_on", _("受理期限")), ("accepted_on", _("受理日期")), ("rejected_on", _("不予受理日期")),
    ("mediation_due_on", _("调解期限")), ("mediation_outcome", _("调解结果")), ("mediation_ended_on", _("调解终结日期")),
    ("end_notice_due_on", _("终止调解告知期限")), ("end_notified_on", _("终止调解告知日期")),
    ("verification_due_on", _("线索核查期限")), ("filing_decision", _("立案决定")),
    ("reporter_notice_due_on", _("告知举报人期限")), ("penalty_decision_number", _("处罚决定书文号")),
    ("calendar_pending", _("期限待节假日安排公布后计算")), ("closed_on", _("办结日期")),
]
