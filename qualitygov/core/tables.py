"""Tables for the core pages."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from qualitygov.core.models import AuditLog


class BaseTable(tables.Table):
    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle"}
        template_name = "django_tables2/bootstrap5.html"


class AuditLogTable(BaseTable):
    time = tables.DateTimeColumn(linkify=True, format="Y-m-d H:i:s", verbose_name=_("时间"))
    username = tables.Column(verbose_name=_("用户名"))
    action = tables.Column(verbose_name=_("操作"))
    content_type = tables.Column(verbose_name=_("对象类型"), orderable=False)
    object_repr = tables.Column(verbose_name=_("对象"))
    ip_address = tables.Column(verbose_name=_("IP 地址"))

    class Meta(BaseTable.Meta):
        model = AuditLog
        fields = ("time", "username", "action", "content_type", "object_repr", "ip_address")
