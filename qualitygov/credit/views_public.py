"""The public credit-list pages (no sign-in): the serious-violation list and the abnormal-operation
list, showing only entries ``lists.public_entries()`` returns (still listed); removed or revoked
entries are not shown. Both lists are public (Order 44; the Enterprise Information Disclosure
Regulation), see ``credit.lists.public_entries``."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views import View

from qualitygov.core.filtersets import BaseFilterSet
from qualitygov.credit import lists
from qualitygov.credit.models import ListEntry

PUBLIC_PAGE_SIZE = 25


class PublicListFilterSet(BaseFilterSet):
    """Search of a public list by entity name or USCC."""

    search_fields = ("entity__name__icontains", "entity__uscc__istartswith")

    class Meta:
        model = ListEntry
        fields = ["q"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["q"].label = _("企业名称或统一社会信用代码")
        self.form.fields["q"].widget.attrs.update({"placeholder": _("企业名称或统一社会信用代码"),
                                                   "class": "form-control form-control-sm"})


class PublicListView(View):
    """One public list, newest listing first, with search and paging."""

    kind: str = ListEntry.Kind.SERIOUS_VIOLATION
    template_name = "public/credit_list.html"

    def get(self, request):
        filterset = PublicListFilterSet(request.GET or None, queryset=lists.public_entries(self.kind),
                                        request=request)
        rows = filterset.qs if not filterset.is_bound or filterset.is_valid() else ListEntry.objects.none()
        page = Paginator(rows, PUBLIC_PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = {"title": ListEntry.Kind(self.kind).label, "kind": self.kind, "filter_form": filterset.form,
                   "filterset": filterset, "page": page, "query": query.urlencode(),
                   "serious": self.kind == ListEntry.Kind.SERIOUS_VIOLATION}
        template = "public/credit_table.html" if getattr(request, "htmx", False) else self.template_name
        return render(request, template, context)


class PublicSeriousListView(PublicListView):
    kind = ListEntry.Kind.SERIOUS_VIOLATION


class PublicAbnormalListView(PublicListView):
    kind = ListEntry.Kind.ABNORMAL_OPERATION


__all__ = ["PublicAbnormalListView", "PublicListView", "PublicSeriousListView"]
