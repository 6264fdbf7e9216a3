"""The page filters shared by every list (``core.filtersets.BaseFilterSet``)."""

from __future__ import annotations

import django_filters
import pytest
from django.utils import translation

from qualitygov.core.filtersets import BaseFilterSet
from qualitygov.registry.models import Product


class _YesNoFilterSet(BaseFilterSet):
    is_key = django_filters.BooleanFilter(label="重点监管产品")
    is_key_api = django_filters.BooleanFilter(field_name="is_key", label="重点监管产品（API）",
                                              widget=django_filters.widgets.BooleanWidget())

    class Meta:
        model = Product
        fields = ["is_key"]


@pytest.mark.parametrize("name", ["is_key", "is_key_api"])
def test_an_empty_yes_no_filter_reads_all_not_unknown(name):
    """Left empty, a yes/no filter filters nothing: its empty choice says so ("全部" / "All"), and the
    yes and no choices and the values the page sends stay as they were."""
    with translation.override("zh-hans"):
        html = str(_YesNoFilterSet(data={}, queryset=Product.objects.none()).form[name])
        assert "全部" in html and "未知" not in html
        assert ">是<" in html and ">否<" in html
    with translation.override("en"):
        html = str(_YesNoFilterSet(data={}, queryset=Product.objects.none()).form[name])
        assert ">All<" in html and "Unknown" not in html
        assert 'value="true"' in html and 'value="false"' in html


@pytest.mark.django_db
def test_the_yes_no_filters_still_filter():
    filterset = _YesNoFilterSet(data={"is_key": "true"}, queryset=Product.objects.all())
    assert filterset.is_valid()
    assert "is_key" in str(filterset.qs.query)
