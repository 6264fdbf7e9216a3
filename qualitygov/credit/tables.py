"""Tables for the credit ledger and credit-list pages."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.tables import BaseTable
from qualitygov.credit.models import CreditRecord, ListEntry


class CreditRecordTable(BaseTable):
    occurred_on = tables.DateColumn(linkify=True, format="Y-m-d")
    entity = tables.Column(linkify=True, order_by=("entity__name",), verbose_name=pgettext_lazy("field", "市场主体"))
    publish_until = tables.DateColumn(format="Y-m-d")

    class Meta(BaseTable.Meta):
        model = CreditRecord
        fields = ("occurred_on", "entity", "kind", "polarity", "department", "publishable", "publish_until", "state")


class ListEntryTable(BaseTable):
    listed_on = tables.DateColumn(format="Y-m-d", linkify=("credit:listentry_detail", [tables.A("pk")]))
    entity = tables.Column(linkify=True, order_by=("entity__name",), verbose_name=pgettext_lazy("field", "市场主体"))
    uscc = tables.Column(accessor="entity__uscc", verbose_name=_("统一社会信用代码"))
    region = tables.Column(accessor="entity__region__name", order_by=("entity__region__code",),
                           verbose_name=_("所在区划"))
    removal_due_on = tables.DateColumn(format="Y-m-d")
    removed_on = tables.DateColumn(format="Y-m-d")

    class Meta(BaseTable.Meta):
        model = ListEntry
        fields = ("listed_on", "entity", "uscc", "region", "kind", "decision_number", "department", "status",
                  "removal_due_on", "removed_on", "removal_reason")
