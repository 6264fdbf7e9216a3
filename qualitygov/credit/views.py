"""Credit ledger pages: read-only (list, detail, history). Records are written only by
``credit.services``, so there are no add, edit or delete pages."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.text import join_list
from qualitygov.core.views import ObjectDetailView, ObjectHistoryView, ObjectListView
from qualitygov.credit.models import CreditRecord

RECORD_QS = CreditRecord.objects.select_related("entity", "entity__region", "recorded_by")

RECORD_EXPORT = [("entity__uscc", _("统一社会信用代码")), ("entity__name", pgettext_lazy("field", "市场主体")),
                 ("kind", _("信用事项")), ("polarity", _("性质")), ("occurred_on", _("发生日期")),
                 ("summary", _("摘要")), ("department", _("认定部门")), ("source_module", _("来源模块")),
                 ("source_type", _("来源记录类型")), ("source_id", _("来源记录编号")), ("publishable", _("可公示")),
                 ("publish_from", _("公示起始日")), ("publish_min_until", _("最短公示期满日")),
                 ("publish_until", _("最长公示期满日")), ("state", _("状态"))]


def read_only_object_urls(prefix: str, name: str, queryset, *, filterset_class, table_class, export_columns,
                          detail_view=ObjectDetailView) -> list:
    """The list, detail and history pages of a model whose records only a service writes."""
    return [
        path(f"{prefix}/", ObjectListView.as_view(queryset=queryset, filterset_class=filterset_class,
                                                  table_class=table_class, export_columns=export_columns),
             name=f"{name}_list"),
        path(f"{prefix}/<int:pk>/", detail_view.as_view(queryset=queryset), name=f"{name}_detail"),
        path(f"{prefix}/<int:pk>/history/", ObjectHistoryView.as_view(queryset=queryset), name=f"{name}_history"),
    ]


# Labels of the well-known keys of ``CreditRecord.details``; other keys are shown under their own name.
DETAIL_LABELS = {
    "decision_number": _("决定书文号"),
    "legal_basis": _("法律依据"),
    "penalty_types": _("处罚种类"),
    "amount": _("罚没金额（元）"),
    "field": _("所属领域"),
    "restriction_until": _("限制期限至"),
    "failing_items": _("不合格项目"),
    "product": _("产品"),
    "batch": _("批次"),
    "reason": _("原因"),
}


def detail_rows(details: dict) -> list[tuple[str, str]]:
    """(label, text) pairs for a record's details, known keys first, in Chinese."""
    from qualitygov.credit.publication import PenaltyType, SensitiveField

    choice_labels = {"penalty_types": dict(PenaltyType.choices), "field": dict(SensitiveField.choices)}

    def text(key, value) -> str:
        labels = choice_labels.get(key, {})
        if isinstance(value, list):
            return join_list(text(key, v) if not isinstance(v, dict) else _dict_text(v) for v in value)
        if isinstance(value, dict):
            return _dict_text(value)
        return str(labels.get(value, value))

    known = [k for k in DETAIL_LABELS if k in details]
    others = sorted(k for k in details if k not in DETAIL_LABELS)
    return [(str(DETAIL_LABELS.get(k, k)), text(k, details[k])) for k in known + others]


def _dict_text(value: dict) -> str:
    return "，".join(f"{k}：{v}" for k, v in value.items())


class CreditRecordDetailView(ObjectDetailView):
    """One record of a credit file, with its source, publication window and details."""

    def get_extra_context(self, obj) -> dict:
        return {"detail_rows": detail_rows(obj.details or {})}
