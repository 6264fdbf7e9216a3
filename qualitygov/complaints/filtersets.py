"""Filters of the case queue, shared by the back-office page and the API (one FilterSet drives both):
kind, status, category, officer, due soon / overdue, received dates, unit and a free-text search over
the case number, tracking number and respondent. Nothing here filters on the reporter's identity."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qualitygov.complaints import handling
from qualitygov.complaints.models import Case, Category
from qualitygov.core.filtersets import BaseFilterSet, RegionPrefixFilter
from qualitygov.core.models import User, region_q


class CaseFilterSet(BaseFilterSet):
    """The unit's queue."""

    search_fields = ("number__icontains", "submission__tracking_number__icontains", "respondent_name__icontains",
                     "respondent_entity__uscc")
    kind = django_filters.ChoiceFilter(choices=Case.Kind.choices, label=_("类型"))
    status = django_filters.MultipleChoiceFilter(choices=Case.Status.choices, label=_("状态"))
    category = django_filters.ChoiceFilter(choices=Category.choices, label=_("问题类别"))
    officer = django_filters.ModelChoiceFilter(field_name="assigned_to", queryset=User.objects.none(),
                                               label=_("承办人"))
    due = django_filters.ChoiceFilter(choices=[("overdue", _("已逾期")), ("soon", _("即将到期"))],
                                      method="filter_due", label=_("期限"))
    received_after = django_filters.DateFilter(field_name="received_on", lookup_expr="gte", label=_("收到日期起"))
    received_before = django_filters.DateFilter(field_name="received_on", lookup_expr="lte", label=_("收到日期止"))
    unit = RegionPrefixFilter(region_field="handling_unit__code", label=_("承办单位"))

    class Meta:
        model = Case
        fields = ["q", "kind", "status", "category", "officer", "due", "received_after", "received_before", "unit"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["officer"].queryset = officers_for(getattr(self.request, "user", None))
        self.form.fields["officer"].queryset = self.filters["officer"].queryset

    def filter_due(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(handling.deadline_q(timezone.localdate(), overdue=value == "overdue"))


def officers_for(user):
    """Officers who may handle cases inside ``user``'s region (the choices of the officer filter and of
    the assignment form)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return User.objects.none()
    officers = User.objects.filter(is_active=True, role__in=handling.HANDLING_ROLES)
    prefix = user.region_prefix
    if prefix is not None:
        officers = officers.filter(region_q("region__code", prefix))
    return officers.order_by("username")
