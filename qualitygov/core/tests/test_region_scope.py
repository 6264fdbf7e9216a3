"""The region-prefix rule that every scope and region filter uses."""

from __future__ import annotations

import pytest

from qualitygov.core.models import Region, region_prefix, region_q


@pytest.mark.parametrize("code,prefix", [("220000", "22"), ("220100", "2201"), ("222400", "2224"),
                                         ("220102", "220102"), ("220171", "220171")])
def test_prefix_of_province_city_county(code, prefix):
    assert region_prefix(code) == prefix


@pytest.mark.django_db
def test_region_q_selects_exactly_the_codes_with_the_prefix():
    codes = list(Region.objects.values_list("code", flat=True))
    for prefix in ("22", "2201", "2202", "2208", "2224", "220102", "220184", "-"):
        got = set(Region.objects.filter(region_q("code", prefix)).values_list("code", flat=True))
        assert got == {c for c in codes if c.startswith(prefix)}, prefix
    # 长春 holds its 11 county-level divisions and 4 development zones besides itself.
    assert Region.objects.filter(region_q("code", "2201")).count() == 16


@pytest.mark.django_db
def test_region_q_is_a_range_not_a_like():
    sql = str(Region.objects.filter(region_q("code", "2201")).query)
    assert "LIKE" not in sql.upper()
