"""Table for the credit ledger list page."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.translation import pgettext_lazy

from qualitygov.core.tables import BaseTable
from qualitygov.credit.models import CreditRecord


class CreditRecordTable(BaseTable):
    occurred_on = tables.DateColumn(linkify=True, format="Y-m-d")
    entity = tables.Column(linkify=True, order_by=("entity__name",), verbose_name=pgettext_lazy("field", "市场主体"))
    publish_until = tables.DateColumn(format="Y-m-d")

    class Meta(BaseTable.Meta):
        model = CreditRecord
        fields = ("occurred_on", "entity", "kind", "polarity", "department", "publishable", "publish_until", "state")
