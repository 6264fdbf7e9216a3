"""Routing to the competent unit (SAMR Order 20 Art. 12, 13, 25, 27) and reading a region from an address."""

from __future__ import annotations

import pytest

from qualitygov.complaints import routing
from qualitygov.complaints.models import SalesChannel
from qualitygov.core.models import Region


@pytest.mark.django_db
@pytest.mark.parametrize("address,code", [
    ("吉林省长春市南关区人民大街1号", "220102"),
    ("长春南关区自由大路", "220102"),          # city written without 市
    ("长春市朝阳区西安大路5号", "220104"),       # "西安大路" is a street, not 西安区 of 辽源
    ("长春市南关区上海路18号", "220102"),        # another province's name inside a street name
    ("延边州延吉市光明街", "222401"),            # county-level city inside an autonomous prefecture
    ("吉林省吉林市船营区", "220204"),           # the city 吉林市 beside the province 吉林省
    ("长春市二道区", "220105"),
    ("通化市二道江区", "220503"),               # the longer name wins over 二道区
    ("长春经济技术开发区卫星路", "220171"),      # development zone (NBS xx7x code)
    ("四平市中央路", "220300"),                 # no county: the city
    ("吉林省某地", "220000"),                   # only the province
    ("北京市朝阳区建国路", None),                # not 长春市朝阳区: another province
    ("", None),
    ("某小区3栋", None),
])
def test_region_from_address(address, code):
    region = routing.region_from_address(address)
    assert (region.code if region else None) == code


@pytest.mark.django_db
def test_complaint_goes_to_the_registry_entitys_county(registry):
    entity = registry["yanji"]["entity"]
    result = routing.route(kind="complaint", respondent_entity=entity, respondent_address="长春市南关区某街")
    # The registry's region wins over an address typed by the complainant.
    assert result.unit.code == "222401" and result.respondent_region.code == "222401"
    assert "第十二条第一款" in result.reason and "登记主体" in result.reason


@pytest.mark.django_db
def test_complaint_by_address_when_not_registered():
    result = routing.route(kind="complaint", respondent_address="吉林省长春市朝阳区红旗街8号")
    assert result.unit.code == "220104"
    assert "按地址识别" in result.reason


@pytest.mark.django_db
def test_no_county_falls_back_to_the_city_with_the_reason():
    result = routing.route(kind="complaint", respondent_address="四平市某商场")
    assert result.unit.code == "220300" and result.unit.level == Region.Level.CITY
    assert "未能确定县级单位" in result.reason and "市级" in result.reason


@pytest.mark.django_db
def test_unknown_place_falls_back_to_the_province():
    result = routing.route(kind="complaint", respondent_address="北京市朝阳区建国路")
    assert result.unit.code == "220000" and result.respondent_region is None
    assert "省级单位" in result.reason


@pytest.mark.django_db
def test_platform_merchant_goes_to_its_place_of_business_else_the_platform(registry):
    platform = registry["chaoyang"]["entity"]
    known = routing.route(kind="complaint", respondent_address="延吉市河南街", platform_entity=platform,
                          sales_channel=SalesChannel.PLATFORM_MERCHANT)
    assert known.unit.code == "222401" and "实际经营地" in known.reason
    unknown = routing.route(kind="complaint", respondent_address="网店，地址不详", platform_entity=platform,
                            sales_channel=SalesChannel.PLATFORM_MERCHANT)
    assert unknown.unit.code == "220104" and "平台经营者住所地" in unknown.reason
    tip = routing.route(kind="tip_off", respondent_address="网店", platform_entity=platform,
                        sales_channel=SalesChannel.PLATFORM_MERCHANT)
    assert tip.unit.code == "220104" and "第二十七条第二款" in tip.reason


@pytest.mark.django_db
def test_platform_operator_and_own_website_go_to_the_domicile(registry):
    operator = registry["nanguan"]["entity"]
    for channel in (SalesChannel.PLATFORM_OPERATOR, SalesChannel.OWN_WEBSITE):
        complaint = routing.route(kind="complaint", respondent_entity=operator, sales_channel=channel)
        tip = routing.route(kind="tip_off", respondent_entity=operator, sales_channel=channel,
                            occurred_region=Region.objects.get(code="222401"))
        # The domicile rule of Art. 27 ¶1 applies even when the conduct was elsewhere.
        assert complaint.unit.code == tip.unit.code == "220102"
        assert "第十二条第二款" in complaint.reason and "第二十七条第一款" in tip.reason


@pytest.mark.django_db
def test_tip_off_goes_where_the_conduct_occurred(registry):
    entity = registry["nanguan"]["entity"]
    occurred = Region.objects.get(code="222401")
    result = routing.route(kind="tip_off", respondent_entity=entity, occurred_region=occurred)
    assert result.unit.code == "222401" and result.respondent_region.code == "220102"
    assert "第二十五条" in result.reason
    without = routing.route(kind="tip_off", respondent_entity=entity)
    assert without.unit.code == "220102" and "未填写行为发生地" in without.reason


@pytest.mark.django_db
def test_tip_off_occurring_in_a_city_goes_to_the_city_unit():
    result = routing.route(kind="tip_off", respondent_address="", occurred_region=Region.objects.get(code="220100"))
    assert result.unit.code == "220100" and "未能确定县级单位" in result.reason


@pytest.mark.parametrize("code, name", [
    ("220000", "吉林省市场监督管理厅"),
    ("220100", "长春市市场监督管理局"),
    ("220102", "长春市南关区市场监督管理局"),   # a city district is named with its city
    ("222401", "延吉市市场监督管理局"),          # a county-level city stands on its own
])
@pytest.mark.django_db
def test_authority_names_read_as_people_write_them(code, name):
    from qualitygov.core.models import Region

    assert routing.authority_name(Region.objects.get(pk=code)) == name
