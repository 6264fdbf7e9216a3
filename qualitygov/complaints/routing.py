"""Which unit handles a complaint or a tip-off: the competent unit by the respondent's location.

The rules are SAMR Order 20 (市场监督管理投诉举报处理暂行办法, ``shared/policy/laws``):

- Art. 12 ¶1: a complaint goes to the county-level unit where the respondent actually does business
  or has its domicile.
- Art. 12 ¶2: a complaint against an e-commerce platform operator, or a trader selling through its own
  website or other network services, goes to the unit of its domicile; a complaint against a merchant
  on a platform goes to the unit where the merchant actually does business, or to the unit of the
  platform operator's domicile.
- Art. 25: a tip-off goes to the unit (county level or above) where the reported conduct took place.
- Art. 27: a tip-off against a platform operator or an own-website trader goes to the unit of its
  domicile; against a platform merchant, to the unit where the merchant actually does business (the
  unit of the platform's domicile may handle it when it received it first).

The respondent's location is its registry entity's region when the respondent is a registered entity,
else the address it was given, read by ``region_from_address`` against the region names of
``core/data/regions.json`` (GB/T 2260). When no county can be found the case goes to the city (or the
province) unit, which assigns it on: the reason says so, so that nobody mistakes it for a decision.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _

from qualitygov.core.models import Region

__all__ = ["Routing", "region_from_address", "route"]

REGIONS_FILE = Path(__file__).resolve().parents[1] / "core" / "data" / "regions.json"

# Suffixes dropped to get the short name people write ("长春市" → "长春", "延边朝鲜族自治州" → "延边").
# Counties are matched by their full name only: short county names ("朝阳", "西安", "铁西") are common
# words in street names ("西安大路"), so matching them would route by a street.
_CITY_SUFFIXES = ("朝鲜族自治州", "自治州", "市", "地区", "盟")
_PROVINCE_SUFFIXES = ("省", "自治区", "市")
# The other provincial-level divisions (GB/T 2260 top level), by the names addresses start with: an
# address there is outside this platform's regions even when it repeats a local county name ("北京市朝阳区"
# is not 长春市朝阳区). Another province's configuration simply has its own name in regions.json.
_OTHER_PROVINCES = ("北京", "天津", "河北", "山西", "内蒙古", "辽宁", "黑龙江", "上海", "江苏", "浙江", "安徽", "福建",
                    "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南",
                    "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "台湾", "香港", "澳门")


@dataclass(frozen=True)
class Routing:
    """The unit that handles a case, the respondent's region (if found) and why, in Chinese."""

    unit: Region
    respondent_region: Region | None
    reason: str


@dataclass(frozen=True)
class _Name:
    code: str
    level: str
    parent: str | None
    text: str


@cache
def _names() -> tuple[_Name, ...]:
    """Every name a region may be written under, longest first (so "二道江区" wins over "二道区")."""
    data = json.loads(REGIONS_FILE.read_text(encoding="utf-8"))
    names: list[_Name] = []
    provinces = [r["name"] for r in data["regions"] if r["level"] == "province"]
    for region in data["regions"]:
        full = region["name"]
        variants = {full}
        if region["level"] == "city":
            short = _strip(full, _CITY_SUFFIXES)
            # "吉林" is also the province's short name: the city is only "吉林市".
            if len(short) >= 2 and not any(p.startswith(short) for p in provinces):
                variants.add(short)
        elif region["level"] == "province":
            short = _strip(full, _PROVINCE_SUFFIXES)
            if len(short) >= 2:
                variants.add(short)
        for text in variants:
            names.append(_Name(region["code"], region["level"], region["parent"], text))
    return tuple(sorted(names, key=lambda n: -len(n.text)))


def _province_names() -> set[str]:
    return {name.text for name in _names() if name.level == "province"}


def _strip(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _find(text: str, level: str) -> list[tuple[int, _Name]]:
    """(position, name) of each region of ``level`` named in ``text``, without overlapping matches."""
    found: list[tuple[int, _Name]] = []
    taken: list[tuple[int, int]] = []
    for name in _names():
        if name.level != level:
            continue
        start = text.find(name.text)
        while start >= 0:
            end = start + len(name.text)
            if not any(start < b and a < end for a, b in taken):
                found.append((start, name))
                taken.append((start, end))
                break
            start = text.find(name.text, start + 1)
    return sorted(found, key=lambda item: item[0])


def region_code_from_address(text: str) -> str | None:
    """The GB/T 2260 code of the most precise region named in an address, or None.

    An address is written from the large to the small (province, city, county, street). The county
    is the first county-level name in it — preferring one that lies in a city also named, so that a
    county name repeated later (a street named after a place) does not win; without a county, the
    city; without a city, the province.
    """
    text = re.sub(r"\s+", "", text or "")
    if not text:
        return None
    # Only where an address starts: "长春市南关区上海路" is in 长春.
    if any(text.startswith(other) for other in _OTHER_PROVINCES if other not in _province_names()):
        return None
    cities = _find(text, "city")
    counties = _find(text, "county")
    if counties:
        city_codes = {name.code for _, name in cities}
        inside = [name for _, name in counties if name.parent in city_codes]
        return (inside or [counties[0][1]])[0].code
    if cities:
        return cities[0][1].code
    provinces = _find(text, "province")
    return provinces[0][1].code if provinces else None


def region_from_address(text: str) -> Region | None:
    """The region named in an address (county if written, else city, else province), or None."""
    code = region_code_from_address(text)
    return Region.objects.filter(code=code).first() if code else None


def authority_name(region: Region | None) -> str:
    """The name of the market regulation authority of ``region`` as people write it: 吉林省市场监督管理厅
    for the province, 长春市市场监督管理局 for a city, 长春市南关区市场监督管理局 for a city district
    (a district is named with its city), 延吉市市场监督管理局 for a county or county-level city."""
    if region is None:
        return ""
    if region.level == Region.Level.PROVINCE:
        return _("%(region)s市场监督管理厅") % {"region": region.name}
    name = region.name
    if region.kind in ("district", "development_zone") and region.parent_id:
        name = f"{region.parent.name}{name}"
    return _("%(region)s市场监督管理局") % {"region": name}


def _province() -> Region:
    return Region.objects.filter(level=Region.Level.PROVINCE).order_by("code").first()


def _locate(entity, address: str) -> tuple[Region | None, str]:
    """The region of a respondent and how it was found: the registry entity's region, else its address."""
    if entity is not None and entity.region_id:
        return entity.region, _("登记主体所在区划")
    if entity is not None and entity.address:
        address = address or entity.address
    region = region_from_address(address)
    return region, (_("按地址识别的区划") if region is not None else "")


def _unit_for(region: Region | None, basis: str) -> tuple[Region, str]:
    """The county unit of ``region``; for a city or province region, that unit, with why."""
    if region is None:
        return _province(), _("{basis}；未能确定所在区划，由省级单位确定承办单位。").format(basis=basis)
    if region.level == Region.Level.COUNTY:
        return region, _("{basis}：{region}。").format(basis=basis, region=region.full_name)
    level = _("市级") if region.level == Region.Level.CITY else _("省级")
    return region, _("{basis}：{region}；未能确定县级单位，由{level}单位确定承办单位。").format(
        basis=basis, region=region.full_name, level=level)


def route(*, kind: str, respondent_entity=None, respondent_address: str = "", sales_channel: str = "offline",
          platform_entity=None, occurred_region: Region | None = None) -> Routing:
    """The competent unit for a complaint (``kind="complaint"``) or a tip-off (``kind="tip_off"``).

    ``sales_channel`` is one of ``models.SalesChannel``; ``platform_entity`` is the e-commerce platform
    operator a merchant sells on; ``occurred_region`` is where the reported conduct took place (tip-offs,
    Art. 25). See the module docstring for the articles applied.
    """
    from qualitygov.complaints.models import Case, SalesChannel

    respondent_region, found_by = _locate(respondent_entity, respondent_address)
    found = f"（{found_by}）" if found_by else ""
    complaint = kind == Case.Kind.COMPLAINT

    if sales_channel in (SalesChannel.PLATFORM_OPERATOR, SalesChannel.OWN_WEBSITE):
        article = _("第十二条第二款") if complaint else _("第二十七条第一款")
        basis = _("电子商务平台经营者或自建网站经营者由其住所地单位处理（{article}）{found}").format(
            article=article, found=found)
        unit, reason = _unit_for(respondent_region, basis)
        return Routing(unit, respondent_region, reason)

    if sales_channel == SalesChannel.PLATFORM_MERCHANT:
        article = _("第十二条第二款") if complaint else _("第二十七条第二款")
        if respondent_region is not None or platform_entity is None:
            basis = _("平台内经营者由其实际经营地单位处理（{article}）{found}").format(article=article, found=found)
            unit, reason = _unit_for(respondent_region, basis)
            return Routing(unit, respondent_region, reason)
        # The merchant's place of business is unknown: the platform operator's domicile may handle it.
        platform_region, _how = _locate(platform_entity, "")
        basis = _("平台内经营者实际经营地不明，由电子商务平台经营者住所地单位处理（{article}）").format(article=article)
        unit, reason = _unit_for(platform_region, basis)
        return Routing(unit, respondent_region, reason)

    if not complaint and occurred_region is not None:
        basis = _("举报由被举报行为发生地单位处理（第二十五条）")
        unit, reason = _unit_for(occurred_region, basis)
        return Routing(unit, respondent_region, reason)

    if complaint:
        basis = _("投诉由被投诉人实际经营地或者住所地单位处理（第十二条第一款）{found}").format(found=found)
    else:
        basis = _("举报由被举报行为发生地单位处理（第二十五条）；未填写行为发生地，按被举报人所在地{found}").format(found=found)
    unit, reason = _unit_for(respondent_region, basis)
    return Routing(unit, respondent_region, reason)
