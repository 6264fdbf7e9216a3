"""Deterministic demo data: realistic, fictional Jilin market entities, products and licences.

``seed_demo(entities, seed)`` writes the same rows for the same seed, reference date and version
of ``demo_pools``, byte for byte, on SQLite and PostgreSQL alike: every draw comes from one
``random.Random(seed)`` in a fixed order, never from the global generator or the clock.

It streams: entities are generated and written in batches, so memory stays flat (names are kept
unique by a fixed-size Bloom filter, not a growing set). Identifiers are unique
by construction rather than by lookup: organisation-code bodies, GS1 company prefixes and licence
serials come from counters passed through a seeded affine permutation, which is a bijection on
its code space. That is what lets it scale to millions of entities.

Re-running with the same seed skips entities whose USCC is already present (with their products,
licences and people), so it is idempotent; ``reset_registry`` empties the registry first when a
clean data set is wanted (``qualitygov seed-demo --reset``).
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import hashlib
import itertools
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, reset_queries, transaction
from django.db.models import Exists, OuterRef
from stdnum import ean
from stdnum.cn import uscc as stdnum_uscc
from stdnum.iso7064 import mod_11_10

from qualitygov.core import audit
from qualitygov.core.identifiers import USCC_ALPHABET, org_code_check_char, validate_gtin
from qualitygov.core.models import Industry, ProductCategory, Region
from qualitygov.core.roles import Role
from qualitygov.registry import demo_pools as pools
from qualitygov.registry.models import EntityMembership, Licence, MarketEntity, Product, QualityPerson

# Fixed default so that tests and benchmarks are reproducible; the CLI passes today's date so
# that the "expiring within 90 days" list of a fresh demo has rows.
DEFAULT_REFERENCE_DATE = dt.date(2026, 11, 1)
FIRST_REGISTRATION = dt.date(1990, 1, 1)
# GB 32100 codes were issued to new registrations from 1 October 2015 (三证合一); their
# organisation-code part is then assigned by the registration system and starts with "MA".
USCC_REFORM_DATE = dt.date(2015, 10, 1)
# Farmers' specialised cooperatives exist since the Law on Farmers' Specialised Cooperatives
# came into force on 1 July 2007.
COOPERATIVE_LAW_DATE = dt.date(2007, 7, 1)

DEMO_PASSWORD = "demo12345"
SHOWCASE_REGION = "220102"  # 南关区: the enterprise demo user's entity lives here

MA_SPACE = len(USCC_ALPHABET) ** 6     # "MA" + 6 characters of the USCC alphabet
# Rows per INSERT statement. SQLite's driver caches up to 128 prepared statements and a prepared
# multi-row INSERT grows with its row count, so huge statements of ever-varying length would hold
# hundreds of megabytes; a fixed, moderate size keeps memory flat and is as fast.
INSERT_ROWS = 500
NUMERIC_SPACE = 10**8                  # pre-2015 organisation codes: 8 digits + check
GS1_PREFIX_SPACE = 10**6               # 8-digit GS1 company prefixes 690xxxxx–699xxxxx


# ---------------------------------------------------------------------------------------------
# Reference data as plain tuples, read once per run.
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Region:
    code: str
    name: str
    kind: str
    city_code: str
    city_name: str

    @property
    def is_urban(self) -> bool:
        return self.kind in ("district", "development_zone")


@dataclass(frozen=True)
class _Category:
    code: str
    name: str
    is_key: bool


@dataclass
class _Reference:
    regions: dict[str, _Region]
    sections: dict[str, str]                      # division code -> section letter
    division_names: dict[str, str]
    categories: dict[str, _Category]              # leaf categories only
    categories_by_division: dict[str, tuple[str, ...]]

    @classmethod
    def load(cls) -> _Reference:
        rows = list(Region.objects.order_by("code").values_list("code", "name", "kind", "level", "parent_id"))
        names = {code: name for code, name, *_ in rows}
        regions = {code: _Region(code, name, kind, parent, names.get(parent, ""))
                   for code, name, kind, level, parent in rows if level == Region.Level.COUNTY}
        divisions = Industry.objects.filter(level=Industry.Level.DIVISION).order_by("code")
        sections = dict(divisions.values_list("code", "parent_id"))
        division_names = dict(divisions.values_list("code", "name"))
        leaves = ProductCategory.objects.filter(parent__isnull=False).order_by("code")
        categories = {c: _Category(c, n, k) for c, n, k in leaves.values_list("code", "name", "is_key")}
        by_division: dict[str, list[str]] = {}
        for code, industry in leaves.values_list("code", "industry_id"):
            if industry:
                by_division.setdefault(industry, []).append(code)
        if not regions or not sections:
            raise RuntimeError("参考数据为空：请先运行 qualitygov load-reference。")
        return cls(regions, sections, division_names, categories,
                   {k: tuple(v) for k, v in by_division.items()})


class _Permutation:
    """A seeded bijection of ``range(size)``: ``(a*i + b) mod size`` with ``gcd(a, size) == 1``."""

    def __init__(self, rng: random.Random, size: int):
        self.size = size
        a = rng.randrange(size // 3, size - 1)
        while math.gcd(a, size) != 1:
            a += 1
        self.a, self.b = a, rng.randrange(size)

    def __call__(self, index: int) -> int:
        if index >= self.size:
            raise OverflowError("code space exhausted")
        return (self.a * index + self.b) % self.size


class _Weighted:
    """Items with weights, drawn with one ``random()`` call (bisect on cumulative weights)."""

    def __init__(self, pairs: Iterable[tuple[object, float]]):
        pairs = [(item, w) for item, w in pairs if w > 0]
        if not pairs:
            raise ValueError("no item with a positive weight")
        self.items = [item for item, _ in pairs]
        self.cum = list(itertools.accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def draw(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


class _NameFilter:
    """Remembers names already given, in a fixed 8 MiB Bloom filter instead of a set of strings.

    A Bloom filter never misses a name it has seen, so names stay unique; it may wrongly claim
    to have seen a new one (about 0.1 % of the time at three million names), which only makes
    the generator draw another name. The filter's size is fixed, not derived from the number of
    entities, so its answers, and hence the data, depend only on the sequence of names: a larger
    run still starts with exactly the entities of a smaller one.
    """

    BITS_LOG2 = 26
    HASHES = 4

    def __init__(self):
        self.bits = bytearray((1 << self.BITS_LOG2) // 8)

    def claim(self, name: str) -> bool:
        """Record ``name``; False if it (probably) was recorded before."""
        value = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=16).digest(), "big")
        mask = (1 << self.BITS_LOG2) - 1
        positions = [(value >> (self.BITS_LOG2 * i)) & mask for i in range(self.HASHES)]
        bits = self.bits
        if all(bits[p >> 3] & (1 << (p & 7)) for p in positions):
            return False
        for p in positions:
            bits[p >> 3] |= 1 << (p & 7)
        return True


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    if end <= start:
        return start
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


# ---------------------------------------------------------------------------------------------
# The generator.
# ---------------------------------------------------------------------------------------------
@dataclass
class Bundle:
    """One generated entity with its people, products and licences (field dicts, no database ids)."""

    entity: dict
    persons: list[dict] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    licences: list[dict] = field(default_factory=list)


class DemoGenerator:
    """Yields ``Bundle`` objects; the n-th bundle depends only on the seed, the reference data and
    the reference date, so a larger run starts with exactly the entities of a smaller one."""

    def __init__(self, seed: int, reference_date: dt.date, reference: _Reference):
        self.rng = random.Random(seed)
        self.ref = reference
        self.today = reference_date
        rng = self.rng
        self._ma = _Permutation(rng, MA_SPACE)
        self._numeric = _Permutation(rng, NUMERIC_SPACE)
        self._gs1 = _Permutation(rng, GS1_PREFIX_SPACE)
        self._ma_next = self._numeric_next = self._gs1_next = 0
        self._serials: dict[tuple, int] = {}
        self._names = _NameFilter()
        self._kinds = _Weighted(pools.KIND_WEIGHTS)
        self._industries = {kind: _Weighted((d, w) for d, w in weights if d in reference.sections)
                            for kind, weights in pools.INDUSTRY_WEIGHTS.items()}
        self._region_by_division: dict[str, _Weighted] = {}
        self._years = {kind: self._year_weights(kind) for kind in pools.USCC_CATEGORY}
        self._surnames = _Weighted(pools.SURNAMES)
        self._yanbian_surnames = _Weighted(pools.YANBIAN_SURNAMES)
        self._company_forms = _Weighted(pools.COMPANY_FORMS)
        self._small_forms = _Weighted((f, w) for f, w in pools.COMPANY_FORMS if f != "股份有限公司")
        self._coop_forms = _Weighted(pools.COOPERATIVE_FORMS)
        self._cert_bodies = _Weighted(((code, name), w) for name, code, w in pools.SYSTEM_CERT_BODIES)
        self._iatf_bodies = _Weighted(pools.IATF_BODIES)
        self._base_region_weight = self._region_base_weights()

    # -- weights ----------------------------------------------------------------------------
    def _region_base_weights(self) -> dict[str, float]:
        by_city: dict[str, list[_Region]] = {}
        for region in self.ref.regions.values():
            by_city.setdefault(region.city_code, []).append(region)
        weights = {}
        for city, members in by_city.items():
            inner = {r.code: pools.COUNTY_WEIGHTS.get(r.code, pools.UNKNOWN_COUNTY_WEIGHT) for r in members}
            total = sum(inner.values())
            city_weight = pools.CITY_WEIGHTS.get(city, pools.UNKNOWN_CITY_WEIGHT)
            for code, w in inner.items():
                weights[code] = city_weight * w / total
        return weights

    def _regions_for(self, division: str) -> _Weighted:
        table = self._region_by_division.get(division)
        if table is None:
            section = self.ref.sections[division]
            affinity = pools.INDUSTRY_REGION_AFFINITY.get(division, {})
            table = _Weighted(
                (code, base * pools.KIND_SECTION_AFFINITY.get((self.ref.regions[code].kind, section), 1.0)
                 * affinity.get(code, 1.0))
                for code, base in sorted(self._base_region_weight.items()))
            self._region_by_division[division] = table
        return table

    def _year_weights(self, kind: str) -> _Weighted:
        # Registrations grew every year (the 2014 registration reform sped it up), and older
        # entities have had more time to close, so weights rise with the year.
        growth = {pools.KIND_COMPANY: 1.10, pools.KIND_INDIVIDUAL: 1.14, pools.KIND_COOPERATIVE: 1.04}[kind]
        first = COOPERATIVE_LAW_DATE.year if kind == pools.KIND_COOPERATIVE else FIRST_REGISTRATION.year
        return _Weighted((year, growth ** (year - first)) for year in range(first, self.today.year + 1))

    # -- identifiers ------------------------------------------------------------------------
    def _org_body(self, new_style: bool) -> str:
        if new_style:
            value = self._ma(self._ma_next)
            self._ma_next += 1
            chars = []
            for _ in range(6):
                value, digit = divmod(value, len(USCC_ALPHABET))
                chars.append(USCC_ALPHABET[digit])
            return "MA" + "".join(reversed(chars))
        value = self._numeric(self._numeric_next)
        self._numeric_next += 1
        return f"{value:08d}"

    def _uscc(self, kind: str, region: str, registered: dt.date) -> str:
        new_style = kind != pools.KIND_COMPANY or registered >= USCC_REFORM_DATE
        body = self._org_body(new_style)
        head = "9" + pools.USCC_CATEGORY[kind] + region + body + org_code_check_char(body)
        return head + stdnum_uscc.calc_check_digit(head)

    def _serial(self, key: tuple, start_max: int = 300) -> int:
        """Next serial number for ``key``; the first one starts at a random small offset."""
        value = self._serials.get(key)
        value = self.rng.randrange(1, start_max) if value is None else value + 1
        self._serials[key] = value
        return value

    # -- people -----------------------------------------------------------------------------
    def _person(self, region: _Region) -> str:
        rng = self.rng
        surnames = self._yanbian_surnames if region.city_code == "222400" and rng.random() < 0.45 else self._surnames
        surname = surnames.draw(rng)
        pool = pools.GIVEN_MALE if rng.random() < 0.62 else pools.GIVEN_FEMALE
        given = rng.choice(pool) if rng.random() < 0.2 else rng.choice(pool) + rng.choice(pool)
        return surname + given

    def _phone(self, region: _Region, mobile: bool) -> str:
        rng = self.rng
        if mobile:
            return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        area = pools.AREA_CODES.get(region.city_code, "0431")
        return f"{area}-{rng.choice('5689')}{rng.randrange(10**7):07d}"

    # -- names and addresses ----------------------------------------------------------------
    @staticmethod
    def _short(name: str, code: str) -> str:
        if code in pools.REGION_SHORT_NAMES:
            return pools.REGION_SHORT_NAMES[code]
        return name[:-1] if len(name) > 2 and name[-1] in "市县区" else name

    def _brand(self, attempt: int) -> str:
        rng = self.rng
        while True:
            if attempt < 3 and rng.random() < 0.5:
                brand = rng.choice(pools.BRANDS)
            elif attempt < 12:
                brand = rng.choice(pools.BRAND_CHARS) + rng.choice(pools.BRAND_CHARS)
            else:
                brand = "".join(rng.choice(pools.BRAND_CHARS) for _ in range(3))
            if brand[0] != brand[1] and brand not in pools.BRAND_BLOCKLIST:
                return brand

    def _claim(self, name: str) -> bool:
        return self._names.claim(name)

    def _local_prefix(self, region: _Region) -> str:
        """Region words of a local business: 长春市南关区 in a city, 农安县 in a county."""
        if region.is_urban:
            return region.city_name + (region.name if region.kind == "district" else "")
        return region.name

    def _company_name(self, region: _Region, word: str, size: str) -> tuple[str, str]:
        rng = self.rng
        city_short = self._short(region.city_name, region.city_code)
        for attempt in itertools.count():
            brand = self._brand(attempt)
            # A 股份有限公司 needs registered capital and shareholders that micro firms rarely have.
            form = self._company_forms.draw(rng) if size in ("medium", "large") else self._small_forms.draw(rng)
            roll = rng.random()
            if size in ("medium", "large") and roll < 0.3:
                prefix = "吉林省"
            elif region.is_urban or roll < 0.55:
                # 延边朝鲜族自治州 firms call themselves 延边…, not by the prefecture's full name.
                full = region.city_name if region.city_code not in pools.REGION_SHORT_NAMES else city_short
                prefix = city_short if rng.random() < 0.65 else full
            else:
                prefix = region.name if rng.random() < 0.6 else self._short(region.name, region.code)
            if rng.random() < 0.04:
                name = f"{brand}{word}（{city_short}）{form}"
            else:
                name = f"{prefix}{brand}{word}{form}"
            if self._claim(name):
                return name, brand
        raise AssertionError("unreachable")

    def _individual_name(self, region: _Region, word: str) -> tuple[str, str]:
        rng = self.rng
        prefix = self._local_prefix(region)
        for attempt in itertools.count():
            if rng.random() < 0.25:
                surname = self._surnames.draw(rng)
                brand = rng.choice((f"{surname}记", f"老{surname}家", f"{surname}氏", f"小{surname}"))
                if attempt > 3:
                    brand = self._brand(attempt) + brand
            else:
                brand = self._brand(attempt)
            name = f"{prefix}{brand}{word}"
            if self._claim(name):
                return name, brand
        raise AssertionError("unreachable")

    def _cooperative_name(self, region: _Region, word: str) -> tuple[str, str]:
        rng = self.rng
        prefix = self._local_prefix(region)
        for attempt in itertools.count():
            brand = self._brand(attempt)
            name = f"{prefix}{brand}{word}{self._coop_forms.draw(rng)}"
            if self._claim(name):
                return name, brand
        raise AssertionError("unreachable")

    def _address(self, region: _Region, rural: bool) -> str:
        rng = self.rng
        head = f"吉林省{region.city_name}{region.name}"
        if rural and not region.is_urban:
            town = rng.choice(pools.TOWN_WORDS) + ("镇" if rng.random() < 0.75 else "乡")
            return f"{head}{town}{rng.choice(pools.VILLAGE_WORDS)}村{rng.randrange(1, 12)}组"
        streets = (pools.ZONE_STREETS.get(region.code) or
                   (pools.CITY_STREETS.get(region.city_code) if region.is_urban else None) or pools.GENERIC_STREETS)
        number = rng.randrange(1, 3000) if region.is_urban else rng.randrange(1, 900)
        return f"{head}{rng.choice(streets)}{number}号"

    # -- the entity -------------------------------------------------------------------------
    def _lines(self, kind: str, division: str):
        if kind == pools.KIND_INDIVIDUAL and division in pools.SHOP_WORDS:
            return pools.SHOP_WORDS[division]
        if kind == pools.KIND_COOPERATIVE:
            return tuple((w, ()) for w in pools.COOPERATIVE_LINES.get(division, ("种植",)))
        return pools.INDUSTRY_LINES.get(division) or ((self.ref.division_names[division][:4], ()),)

    def _categories(self, division: str, wanted: tuple[str, ...]) -> tuple[str, ...]:
        present = tuple(c for c in wanted if c in self.ref.categories)
        if present or not wanted:
            return present
        # The line's categories are not in this catalogue: use the division's own, if any.
        return self.ref.categories_by_division.get(division, ())

    def _size(self, kind: str, manufacturing: bool) -> str:
        roll = self.rng.random()
        if kind == pools.KIND_INDIVIDUAL:
            return MarketEntity.SizeClass.MICRO
        if kind == pools.KIND_COOPERATIVE:
            cuts = (0.88, 0.99, 1.0)
        elif manufacturing:
            cuts = (0.42, 0.82, 0.96)
        else:
            cuts = (0.72, 0.94, 0.99)
        sizes = (MarketEntity.SizeClass.MICRO, MarketEntity.SizeClass.SMALL, MarketEntity.SizeClass.MEDIUM)
        for cut, size in zip(cuts, sizes, strict=True):
            if roll < cut:
                return size
        return MarketEntity.SizeClass.LARGE

    def _status(self) -> str:
        roll = self.rng.random()
        if roll < 0.93:
            return MarketEntity.Status.OPERATING
        if roll < 0.945:
            return MarketEntity.Status.SUSPENDED
        if roll < 0.965:
            return MarketEntity.Status.REVOKED
        return MarketEntity.Status.CANCELLED

    def _registration_date(self, kind: str) -> dt.date:
        rng = self.rng
        year = self._years[kind].draw(rng)
        start = max(dt.date(year, 1, 1), COOPERATIVE_LAW_DATE if kind == pools.KIND_COOPERATIVE else FIRST_REGISTRATION)
        end = min(dt.date(year, 12, 31), self.today - dt.timedelta(days=1))
        return _date_between(rng, start, end)

    def bundles(self, count: int) -> Iterator[Bundle]:
        """The first ``count`` bundles. The first is the showcase entity of the enterprise demo user."""
        for index in range(count):
            yield self._bundle(index, showcase=index == 0)

    def _showcase_division(self) -> str:
        # An electrical maker shows every kind of paper: a production licence (cables), CCC
        # certificates and the management-system certificates. Fall back to any division with
        # catalogue categories when the catalogue lacks electrical ones.
        for division in ("38", "36", "13", *sorted(self.ref.categories_by_division)):
            lines = pools.INDUSTRY_LINES.get(division, ())
            if division in self.ref.sections and any(self._categories(division, c) for _, c in lines):
                return division
        return sorted(self.ref.sections)[0]

    def _bundle(self, index: int, showcase: bool = False) -> Bundle:
        rng = self.rng
        if showcase:
            kind = pools.KIND_COMPANY
            division = self._showcase_division()
            region_code = SHOWCASE_REGION if SHOWCASE_REGION in self.ref.regions else min(self.ref.regions)
        else:
            kind = self._kinds.draw(rng)
            division = self._industries[kind].draw(rng)
            region_code = self._regions_for(division).draw(rng)
        region = self.ref.regions[region_code]
        section = self.ref.sections[division]
        manufacturing = section == "C"
        lines = self._lines(kind, division)
        if showcase:
            line_word, wanted = next((w, c) for w, c in lines if self._categories(division, c))
        else:
            line_word, wanted = rng.choice(lines)
        categories = self._categories(division, wanted)
        registered = self._registration_date(kind)
        size = self._size(kind, manufacturing)
        status = self._status()
        if showcase:
            registered = _date_between(rng, dt.date(2006, 1, 1), dt.date(2012, 12, 31))
            size, status = MarketEntity.SizeClass.MEDIUM, MarketEntity.Status.OPERATING
        uscc = self._uscc(kind, region_code, registered)
        if kind == pools.KIND_COMPANY:
            name, brand = self._company_name(region, line_word, size)
        elif kind == pools.KIND_INDIVIDUAL:
            name, brand = self._individual_name(region, line_word)
        else:
            name, brand = self._cooperative_name(region, line_word)
        rural = section == "A" or kind == pools.KIND_COOPERATIVE
        entity = {
            "uscc": uscc, "name": name, "legal_representative": self._person(region),
            "region_id": region_code, "industry_id": division, "address": self._address(region, rural),
            "size_class": size, "registration_date": registered, "status": status,
            "phone": self._phone(region, mobile=kind != pools.KIND_COMPANY or rng.random() < 0.3),
        }
        bundle = Bundle(entity)
        if manufacturing:
            bundle.persons = self._quality_persons(kind, size, region, registered, division)
        if categories:
            count = self._product_count(kind, size, showcase)
            bundle.products = self._products(categories, brand, count)
        bundle.licences = self._licences(kind, division, section, size, status, region, registered,
                                         bundle.products, showcase, line_word)
        return bundle

    # -- quality persons --------------------------------------------------------------------
    def _quality_persons(self, kind, size, region, registered, division) -> list[dict]:
        rng = self.rng
        Position = QualityPerson.Position
        people: list[tuple[str, bool]] = []
        if kind == pools.KIND_COMPANY:
            if size in ("medium", "large"):
                # The strategy asks large and key firms to appoint a chief quality officer
                # (吉政发〔2012〕27号, 三.1); most medium and large manufacturers have done so.
                if rng.random() < 0.85:
                    people.append((Position.CHIEF_QUALITY_OFFICER, True))
                if size == "large" or rng.random() < 0.4:
                    people.append((Position.QUALITY_DIRECTOR, False))
                people.append((Position.QUALITY_MANAGER, False))
            elif rng.random() < (0.8 if size == "small" else 0.5):
                people.append((Position.QUALITY_MANAGER, False))
        if division in ("13", "14", "15") and rng.random() < 0.6:
            people.append((Position.SAFETY_OFFICER, False))  # food safety officer (食品安全员)
        rows = []
        for position, is_cqo in people:
            appointed = _date_between(rng, max(registered, self.today - dt.timedelta(days=3650)), self.today)
            certificate = ""
            if is_cqo:
                serial = self._serial(("cqo", appointed.year), 50)
                certificate = f"{pools.CQO_CERT_PREFIX}-{appointed.year}-{serial:05d}"
            rows.append({"name": self._person(region), "position": position,
                         "phone": self._phone(region, mobile=True), "appointed_on": appointed,
                         "certificate_no": certificate})
        return rows

    # -- products ---------------------------------------------------------------------------
    def _product_count(self, kind: str, size: str, showcase: bool) -> int:
        if showcase:
            return 3
        high = {"micro": 3, "small": 4, "medium": 5, "large": 5}[size]
        if kind != pools.KIND_COMPANY:
            high = 2
        low = 2 if size in ("medium", "large") else 1
        return self.rng.randint(low, high)

    def _products(self, categories: tuple[str, ...], brand: str, count: int) -> list[dict]:
        rng = self.rng
        prefix_index = self._gs1_next
        self._gs1_next += 1
        company_prefix = None
        if prefix_index < GS1_PREFIX_SPACE:
            company_prefix = f"69{self._gs1(prefix_index):06d}"
        item_base = rng.randrange(0, 9000)
        seen, rows = set(), []
        for j in range(count):
            code = categories[j % len(categories)] if j < len(categories) else rng.choice(categories)
            category = self.ref.categories[code]
            choices = pools.PRODUCT_NAMES.get(code) or ((category.name, ()),)
            product_name, models = rng.choice(choices)
            model = rng.choice(models) if models else f"{rng.choice('ABCDEFGHJKLMNPQRSTWXYZ')}{rng.choice('ABCDEFGHJKLMNPQRSTWXYZ')}-{rng.randrange(100, 9999)}"
            if (product_name, model) in seen:
                model = f"{model} {rng.choice('ABCDEFGH')}{j + 1}"
            seen.add((product_name, model))
            gtin = None
            if company_prefix is not None:
                body = f"{company_prefix}{item_base + j:04d}"
                gtin = validate_gtin(body + ean.calc_check_digit(body))
            rows.append({"name": product_name, "brand": brand if rng.random() < 0.55 else rng.choice(pools.TRADEMARKS),
                         "model": model, "category_id": code, "gtin": gtin, "is_key": category.is_key})
        return rows

    # -- licences ---------------------------------------------------------------------------
    def _dates(self, kind: str, registered: dt.date) -> tuple[dt.date, dt.date, str]:
        """Issue date, end of validity and status of one licence, relative to the reference date.

        Most are current (issued within the last validity period, so a share of about
        90 / (365 × years) expires within 90 days); some lapsed without renewal, a few are
        suspended, revoked or cancelled.
        """
        rng = self.rng
        years = pools.VALIDITY_YEARS[kind]
        roll = rng.random()
        status = Licence.Status.VALID
        if 0.86 <= roll < 0.93:
            valid_until = self.today - dt.timedelta(days=rng.randrange(1, 721))
            issued = _add_years(valid_until, -years) + dt.timedelta(days=1)
            if issued >= registered:
                return issued, valid_until, Licence.Status.EXPIRED
        elif 0.93 <= roll < 0.955:
            status = Licence.Status.SUSPENDED
        elif 0.955 <= roll < 0.965:
            status = Licence.Status.REVOKED
        elif 0.965 <= roll < 0.98:
            status = Licence.Status.CANCELLED
        window_start = max(registered, _add_years(self.today, -years) + dt.timedelta(days=1))
        issued = _date_between(rng, window_start, self.today)
        valid_until = _add_years(issued, years) - dt.timedelta(days=1)
        if status == Licence.Status.VALID and valid_until < self.today:
            status = Licence.Status.EXPIRED
        return issued, valid_until, status

    def _licence(self, kind, number, issuer, scope, registered) -> dict:
        issued, valid_until, status = self._dates(kind, registered)
        return {"kind": kind, "number": number, "issuer": issuer, "scope": scope, "issued_on": issued,
                "valid_until": valid_until, "status": status}

    def _local_bureau(self, region: _Region) -> str:
        if region.kind == "district":
            return f"{region.city_name}{region.name}市场监督管理局"
        if region.kind == "development_zone":
            return f"{region.city_name}市场监督管理局{region.name}分局"
        return f"{region.name}市场监督管理局"

    def _licences(self, kind, division, section, size, status, region, registered, products, showcase,
                  line_word) -> list[dict]:
        rng = self.rng
        Kind = Licence.Kind
        rows: list[dict] = []
        codes = [p["category_id"] for p in products]
        product_names = "、".join(dict.fromkeys(p["name"] for p in products))
        # Production licences: one per licensed product unit.
        for code in dict.fromkeys(codes):
            if code in pools.PRODUCTION_LICENCE_PRODUCTS and kind == pools.KIND_COMPANY:
                group, unit, unit_name = pools.PRODUCTION_LICENCE_PRODUCTS[code]
                serial = self._serial(("xk", group, unit), 400)
                models = "、".join(p["model"] for p in products if p["category_id"] == code)
                rows.append(self._licence(Kind.PRODUCTION_LICENCE, f"(吉)XK{group}-{unit}-{serial:05d}",
                                          "吉林省市场监督管理厅", f"{unit_name}：{models}", registered))
        # Food production licence: one per producer, covering its food categories.
        food = [pools.FOOD_CATEGORIES[c] for c in dict.fromkeys(codes) if c in pools.FOOD_CATEGORIES]
        if food and (kind == pools.KIND_COMPANY or rng.random() < 0.5):
            category = food[0][0]
            serial = self._serial(("sc", category, region.code), 200)
            if serial <= 9999:  # four-digit serial space of one category in one county
                digits = f"{category}{region.code}{serial:04d}"
                number = f"SC{digits}{mod_11_10.calc_check_digit(digits)}"
                rows.append(self._licence(Kind.FOOD_PRODUCTION, number, self._local_bureau(region),
                                          "；".join(dict.fromkeys(n for _, n in food)), registered))
        # CCC: one certificate per certified product.
        for product in products:
            ccc = pools.CCC_PRODUCTS.get(product["category_id"])
            if ccc is None:
                continue
            group, body = ccc
            issued, valid_until, lic_status = self._dates(Kind.CCC, registered)
            serial = self._serial(("ccc",), 10**6)
            rows.append({"kind": Kind.CCC, "number": f"{issued.year}0{1 if body.startswith('中国') else 2}{group}{serial:08d}",
                         "issuer": body, "scope": f"{product['name']} {product['model']}", "issued_on": issued,
                         "valid_until": valid_until, "status": lic_status})
        if kind == pools.KIND_COMPANY:
            rows.extend(self._system_certificates(division, section, size, registered, product_names, showcase,
                                                  line_word))
        if division == "34" and kind == pools.KIND_COMPANY and rng.random() < 0.3:
            unit = rng.choice(("21", "22", "24"))  # boilers, pressure vessels, pressure piping parts
            issued, valid_until, lic_status = self._dates(Kind.SPECIAL_EQUIPMENT, registered)
            serial = self._serial(("ts", unit), 100)
            rows.append({"kind": Kind.SPECIAL_EQUIPMENT, "number": f"TS{unit}22{serial:03d}-{valid_until.year}",
                         "issuer": "吉林省市场监督管理厅", "scope": "换热压力容器设计、制造", "issued_on": issued,
                         "valid_until": valid_until, "status": lic_status})
        if showcase and rows:
            # The showcase entity always has one valid licence expiring within 90 days.
            first = rows[0]
            first["valid_until"] = self.today + dt.timedelta(days=45)
            first["issued_on"] = _add_years(first["valid_until"], -pools.VALIDITY_YEARS[first["kind"]]) + dt.timedelta(days=1)
            first["status"] = Licence.Status.VALID
            for row in rows[1:]:
                if row["status"] != Licence.Status.VALID:
                    row["status"] = Licence.Status.VALID
                    row["issued_on"] = max(registered, self.today - dt.timedelta(days=200))
                    row["valid_until"] = _add_years(row["issued_on"], pools.VALIDITY_YEARS[row["kind"]]) - dt.timedelta(days=1)
        # An entity that lost its business licence lost its permits with it.
        overrides = {MarketEntity.Status.REVOKED: Licence.Status.REVOKED,
                     MarketEntity.Status.CANCELLED: Licence.Status.CANCELLED}
        for row in rows:
            if row["status"] == Licence.Status.VALID and status in overrides:
                row["status"] = overrides[status]
            elif row["status"] == Licence.Status.VALID and status == MarketEntity.Status.SUSPENDED and rng.random() < 0.5:
                row["status"] = Licence.Status.SUSPENDED
        return rows

    def _system_certificates(self, division, section, size, registered, product_names, showcase,
                             line_word) -> list[dict]:
        rng = self.rng
        Kind = Licence.Kind
        if section == "C":
            p9001 = {"micro": 0.25, "small": 0.55, "medium": 0.85, "large": 0.98}[size]
        elif section == "E":
            p9001 = 0.35  # construction firms need ISO 9001 for most tenders
        else:
            p9001 = 0.04
        if showcase:
            p9001 = 1.0
        if rng.random() >= p9001:
            return []
        activity = f"{product_names}的设计、生产和服务" if product_names else f"{line_word}相关服务"
        size_letter = {"micro": "S", "small": "S", "medium": "M", "large": "L"}[size]
        kinds = [(Kind.ISO9001, "Q", activity)]
        if showcase or rng.random() < 0.55:
            kinds.append((Kind.ISO14001, "E", f"{activity}及相关环境管理活动"))
        if showcase or rng.random() < 0.45:
            kinds.append((Kind.ISO45001, "S", f"{activity}及相关职业健康安全管理活动"))
        rows = []
        body_code, body = self._cert_bodies.draw(rng)
        for kind, letter, scope in kinds:
            issued, valid_until, status = self._dates(kind, registered)
            serial = self._serial(("cert", body_code, issued.year, letter), 2000)
            cycle = min(6, max(0, (issued.year - max(registered.year, 2000)) // 3))
            number = f"{body_code}{issued.year % 100:02d}{letter}{serial:05d}R{cycle}{size_letter}"
            rows.append({"kind": kind, "number": number, "issuer": body, "scope": scope, "issued_on": issued,
                         "valid_until": valid_until, "status": status})
        if division == "36" and rng.random() < (0.2 if size == "micro" else 0.6):
            issued, valid_until, status = self._dates(Kind.IATF16949, registered)
            serial = self._serial(("iatf",), 10**5)
            rows.append({"kind": Kind.IATF16949, "number": f"IATF{400000 + serial:07d}",
                         "issuer": self._iatf_bodies.draw(rng), "scope": f"{product_names or '汽车零部件'}的制造",
                         "issued_on": issued, "valid_until": valid_until, "status": status})
        return rows


# ---------------------------------------------------------------------------------------------
# Writing to the database.
# ---------------------------------------------------------------------------------------------
def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _existing(queryset, field_name: str, values: list, step: int = 2000) -> set:
    """Values of ``field_name`` already in the table (looked up in slices for SQLite's parameter limit)."""
    found = set()
    for i in range(0, len(values), step):
        found.update(queryset.filter(**{f"{field_name}__in": values[i:i + step]}).values_list(field_name, flat=True))
    return found


@contextlib.contextmanager
def _large_sqlite_cache(kib: int = 65536):
    """Give SQLite a 64 MiB page cache for the run (default 2 MiB), then restore it.

    Entities arrive in random USCC and name order, so every insert touches index pages all over
    the file; with the default cache a million-entity run spends much of its time re-reading them.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def seed_demo(entities: int = 2000, seed: int = 20121, *, batch_size: int = 5000,
              progress: Callable[[int, int], None] | None = None,
              reference_date: dt.date | None = None) -> dict:
    """Generate ``entities`` demo market entities with their people, products and licences.

    Returns a summary: rows created per table, entities skipped because their USCC was already
    present, seconds taken and rows per second. Each batch is written in its own transaction with
    per-object audit entries off; one summary audit entry records the run.
    """
    if entities < 0:
        raise ValueError("entities must be >= 0")
    reference_date = reference_date or DEFAULT_REFERENCE_DATE
    started = time.perf_counter()
    generator = DemoGenerator(seed, reference_date, _Reference.load())
    counts = {"entities": 0, "quality_persons": 0, "products": 0, "licences": 0, "skipped_entities": 0}
    # An empty registry needs no duplicate checks; that keeps the first (benchmark) load fast.
    check_entities = MarketEntity.objects.exists()
    check_products = Product.objects.exists()
    check_licences = Licence.objects.exists()
    done = 0
    with audit.per_object_audit_disabled(), _large_sqlite_cache():
        for batch in _chunks(generator.bundles(entities), batch_size):
            with transaction.atomic():
                _write_batch(batch, counts, check_entities, check_products, check_licences)
            done += len(batch)
            reset_queries()  # DEBUG keeps every query's SQL; don't let it grow with the run
            if progress is not None:
                progress(done, entities)
        seconds = time.perf_counter() - started
        rows = counts["entities"] + counts["quality_persons"] + counts["products"] + counts["licences"]
        summary = {
            "seed": seed, "requested": entities, "reference_date": reference_date.isoformat(),
            "created": {k: v for k, v in counts.items() if k != "skipped_entities"},
            "skipped_entities": counts["skipped_entities"],
            "seconds": round(seconds, 3),
            "rows_per_second": round(rows / seconds) if seconds > 0 else None,
            "entities_per_second": round(counts["entities"] / seconds) if seconds > 0 else None,
        }
        with transaction.atomic():
            audit.record("import", model=MarketEntity, message="demo data",
                         after={"seed": seed, "reference_date": summary["reference_date"], "counts": summary["created"],
                                "skipped_entities": counts["skipped_entities"]})
    return summary


def _write_batch(batch: list[Bundle], counts: dict, check_entities: bool, check_products: bool,
                 check_licences: bool) -> None:
    if check_entities:
        existing = _existing(MarketEntity.objects.all(), "uscc", [b.entity["uscc"] for b in batch])
        if existing:
            counts["skipped_entities"] += sum(1 for b in batch if b.entity["uscc"] in existing)
            batch = [b for b in batch if b.entity["uscc"] not in existing]
    objects = [MarketEntity(**b.entity) for b in batch]
    MarketEntity.objects.bulk_create(objects, batch_size=INSERT_ROWS)
    persons, products, licences = [], [], []
    for bundle, entity in zip(batch, objects, strict=True):
        persons.extend(QualityPerson(entity_id=entity.pk, **row) for row in bundle.persons)
        products.extend(Product(producer_id=entity.pk, **row) for row in bundle.products)
        licences.extend(Licence(entity_id=entity.pk, **row) for row in bundle.licences)
    if check_products and products:
        # A GTIN already registered by someone else (an import, a user) stays theirs.
        taken = _existing(Product.objects.all(), "gtin", [p.gtin for p in products if p.gtin])
        for product in products:
            if product.gtin in taken:
                product.gtin = None
    if check_licences and licences:
        taken = set(Licence.objects.filter(number__in=[lic.number for lic in licences]).values_list("kind", "number"))
        licences = [lic for lic in licences if (lic.kind, lic.number) not in taken]
    QualityPerson.objects.bulk_create(persons, batch_size=INSERT_ROWS)
    Product.objects.bulk_create(products, batch_size=INSERT_ROWS)
    Licence.objects.bulk_create(licences, batch_size=INSERT_ROWS)
    counts["entities"] += len(objects)
    counts["quality_persons"] += len(persons)
    counts["products"] += len(products)
    counts["licences"] += len(licences)


def reset_registry() -> dict[str, int]:
    """Delete every market entity with its people, products, licences and enterprise memberships.

    For demo and benchmark databases only. Deletes table by table in SQL (no per-row signals),
    children first, in one transaction; a table of another module that still points at an entity
    makes it fail and roll back. One audit entry records the counts.
    """
    counts = {}
    with transaction.atomic(), audit.per_object_audit_disabled():
        for key, model in (("licences", Licence), ("products", Product), ("quality_persons", QualityPerson),
                           ("memberships", EntityMembership), ("entities", MarketEntity)):
            queryset = model._base_manager.all()
            counts[key] = queryset.count()
            queryset._raw_delete(queryset.db)
        audit.record("delete", model=MarketEntity, message="demo data reset", before={"counts": counts})
    return counts


# ---------------------------------------------------------------------------------------------
# Demo users.
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    region: str | None
    last_name: str
    first_name: str
    organisation: str
    superuser: bool = False


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", Role.PROVINCE_ADMIN, "220000", "系统", "管理员", "吉林省市场监督管理厅", superuser=True),
    DemoUser("province", Role.PROVINCE_OFFICER, "220000", "王", "建华", "吉林省市场监督管理厅"),
    DemoUser("changchun", Role.CITY_OFFICER, "220100", "李", "明远", "长春市市场监督管理局"),
    DemoUser("nanguan", Role.COUNTY_OFFICER, "220102", "张", "丽娟", "长春市南关区市场监督管理局"),
    DemoUser("yanji", Role.COUNTY_OFFICER, "222401", "金", "成浩", "延吉市市场监督管理局"),
    DemoUser("inspector", Role.INSPECTOR, "220100", "刘", "志刚", "长春市市场监督管理综合行政执法支队"),
    DemoUser("lab", Role.LAB_STAFF, "220100", "赵", "雪梅", "长春市产品质量检验检测中心"),
    DemoUser("enterprise", Role.ENTERPRISE, None, "孙", "海涛", ""),
    DemoUser("consumer", Role.DATA_CONSUMER, "220000", "数据", "共享", "吉林省政务服务和数字化建设管理局"),
)


def showcase_entity() -> MarketEntity | None:
    """The entity of the enterprise demo user: the first operating entity in 南关区 with products and licences."""
    return (MarketEntity.objects
            .filter(region_id=SHOWCASE_REGION, status=MarketEntity.Status.OPERATING)
            .filter(Exists(Product.objects.filter(producer=OuterRef("pk"))),
                    Exists(Licence.objects.filter(entity=OuterRef("pk"))))
            .order_by("pk").first())


def ensure_demo_users(password: str = DEMO_PASSWORD) -> list[dict]:
    """Create or update the demo logins (idempotent) and return one row per user for printing.

    The password is hashed once and shared, because hashing is deliberately slow and these are
    demo accounts. The data consumer gets an API token (kept if it already has one).
    """
    from rest_framework.authtoken.models import Token

    User = get_user_model()
    hashed = make_password(password)
    entity = showcase_entity()
    region_names = dict(Region.objects.filter(code__in={u.region for u in DEMO_USERS if u.region})
                        .values_list("code", "name"))
    rows = []
    with transaction.atomic():
        for spec in DEMO_USERS:
            organisation = spec.organisation or (entity.name if entity else "")
            user, _ = User.objects.update_or_create(username=spec.username, defaults={
                "role": spec.role, "region_id": spec.region if spec.region in region_names else None,
                "last_name": spec.last_name, "first_name": spec.first_name, "organisation": organisation,
                "is_superuser": spec.superuser, "is_staff": spec.superuser, "is_active": True, "password": hashed,
            })
            token = None
            if spec.role == Role.ENTERPRISE:
                if entity is not None:
                    EntityMembership.objects.update_or_create(user=user, defaults={"entity": entity})
                else:
                    EntityMembership.objects.filter(user=user).delete()
            if spec.role == Role.DATA_CONSUMER:
                token = Token.objects.get_or_create(user=user)[0].key
            rows.append({
                "username": spec.username, "password": password, "role": Role(spec.role).label,
                "name": f"{spec.last_name}{spec.first_name}", "organisation": organisation,
                "scope": (entity.name if entity else "（无演示企业）") if spec.role == Role.ENTERPRISE
                else region_names.get(spec.region, ""),
                "token": token,
            })
    return rows
