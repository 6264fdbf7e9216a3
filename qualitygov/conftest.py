"""Fixtures shared by every module's tests: reference data, one user per role, and a small registry
spread over two cities and three counties so that scope can be tested."""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum.cn import uscc as stdnum_uscc

from qualitygov.core.identifiers import org_code_check_char
from qualitygov.core.roles import Role

PASSWORD = "test-pass-123"


def make_uscc(region_code: str, serial: int, category: str = "1") -> str:
    """A valid USCC for a test entity: positions 3–8 carry the region code."""
    body = f"{serial:08d}"
    org = body + org_code_check_char(body)
    first17 = "9" + category + region_code + org
    return first17 + stdnum_uscc.calc_check_digit(first17)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Reference data once per test database (it is static, like the committed files it comes from)."""
    from qualitygov.core.reference import load_reference_data

    with django_db_blocker.unblock():
        load_reference_data()


@pytest.fixture(autouse=True)
def _chinese_after_each_test():
    """The test client runs in the test's thread: a test that switches to English must not leave
    English active for the tests after it."""
    yield
    from django.utils import translation

    translation.activate("zh-hans")


@pytest.fixture
def users(db):
    """One user per role; officers in 长春 (city 220100) and 南关区 (county 220102)."""
    return make_users()


def make_users() -> dict:
    """The ``users`` fixture's objects, for fixtures of a wider scope that build them once."""
    from qualitygov.core.models import User

    spec = {
        "admin": (Role.PROVINCE_ADMIN, "220000"),
        "province": (Role.PROVINCE_OFFICER, "220000"),
        "changchun": (Role.CITY_OFFICER, "220100"),
        "nanguan": (Role.COUNTY_OFFICER, "220102"),
        "yanji": (Role.COUNTY_OFFICER, "222401"),
        "inspector": (Role.INSPECTOR, "220100"),
        "lab": (Role.LAB_STAFF, "220100"),
        "enterprise": (Role.ENTERPRISE, None),
        "consumer": (Role.DATA_CONSUMER, "220000"),
    }
    made = {}
    for username, (role, region) in spec.items():
        made[username] = User.objects.create_user(username=username, password=PASSWORD, role=role,
                                                  region_id=region)
    return made


@pytest.fixture
def registry(db, users):
    """Entities in 南关区 (220102), 朝阳区 (220104, same city) and 延吉市 (222401, another city)."""
    return make_registry(users)


def make_registry(users: dict) -> dict:
    """The ``registry`` fixture's objects (see ``make_users``)."""
    from qualitygov.core.audit import acting_as
    from qualitygov.registry.models import EntityMembership, Licence, MarketEntity, Product, QualityPerson

    today = dt.date.today()
    data = {}
    with acting_as(users["admin"]):
        for key, region, serial in (("nanguan", "220102", 1), ("chaoyang", "220104", 2), ("yanji", "222401", 3)):
            entity = MarketEntity.objects.create(
                uscc=make_uscc(region, serial), name=f"测试{key}汽车零部件有限公司", legal_representative="张三",
                region_id=region, industry_id="36", address=f"吉林省测试地址{serial}号",
                registration_date=dt.date(2015, 3, serial), status=MarketEntity.Status.OPERATING)
            product = Product.objects.create(producer=entity, name=f"{key}制动软管", brand="测试", model=f"ZD-{serial}",
                                             category_id="0101" if _has_category("0101") else _first_leaf_category(),
                                             gtin=None, is_key=True)
            licence = Licence.objects.create(entity=entity, kind=Licence.Kind.ISO9001, number=f"ISO-{serial:05d}",
                                             issuer="中国质量认证中心", issued_on=today - dt.timedelta(days=1000),
                                             valid_until=today + dt.timedelta(days=30 * serial))
            person = QualityPerson.objects.create(entity=entity, name=f"李{key}", position="cqo")
            data[key] = {"entity": entity, "product": product, "licence": licence, "person": person}
    EntityMembership.objects.create(user=users["enterprise"], entity=data["nanguan"]["entity"])
    return data


def _has_category(code: str) -> bool:
    from qualitygov.core.models import ProductCategory

    return ProductCategory.objects.filter(code=code, parent__isnull=False).exists()


def _first_leaf_category() -> str:
    from qualitygov.core.models import ProductCategory

    return ProductCategory.objects.filter(parent__isnull=False).order_by("code").values_list("code", flat=True)[0]


@pytest.fixture
def login(client):
    """Log the test client in as a named user; returns the client."""

    def _login(username: str):
        assert client.login(username=username, password=PASSWORD), username
        return client

    return _login
