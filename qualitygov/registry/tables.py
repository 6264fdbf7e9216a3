"""Tables for the registry list pages."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from qualitygov.core.tables import BaseTable
from qualitygov.registry.models import Licence, MarketEntity, Product, QualityPerson


class MarketEntityTable(BaseTable):
    name = tables.Column(linkify=True)
    region = tables.Column(order_by=("region_id",))
    industry = tables.Column(order_by=("industry_id",))

    class Meta(BaseTable.Meta):
        model = MarketEntity
        fields = ("name", "uscc", "legal_representative", "region", "industry", "size_class",
                  "registration_date", "status")


class QualityPersonTable(BaseTable):
    name = tables.Column(linkify=True)
    entity = tables.Column(linkify=True, order_by=("entity__name",))

    class Meta(BaseTable.Meta):
        model = QualityPerson
        fields = ("name", "position", "entity", "phone", "appointed_on")


class ProductTable(BaseTable):
    name = tables.Column(linkify=True)
    producer = tables.Column(linkify=True, order_by=("producer__name",))
    category = tables.Column(order_by=("category_id",))

    class Meta(BaseTable.Meta):
        model = Product
        fields = ("name", "brand", "model", "gtin", "category", "producer", "is_key")

    def render_gtin(self, record):
        return record.gtin_display


class LicenceTable(BaseTable):
    number = tables.Column(linkify=True)
    entity = tables.Column(linkify=True, order_by=("entity__name",))
    days_left = tables.Column(verbose_name=_("剩余天数"), orderable=False, empty_values=())

    class Meta(BaseTable.Meta):
        model = Licence
        fields = ("number", "kind", "entity", "issuer", "issued_on", "valid_until", "days_left", "status")

    def render_days_left(self, record):
        return record.days_left
