"""The demo data generator: deterministic, valid identifiers, realistic shares, working demo logins."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pytest
from django.contrib.auth import authenticate
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from qualitygov.core.identifiers import validate_gtin, validate_uscc
from qualitygov.core.models import AuditLog, Region, User
from qualitygov.registry import demo_pools as pools
from qualitygov.registry.demo import DEMO_PASSWORD, DEMO_USERS, ensure_demo_users, reset_registry, seed_demo
from qualitygov.registry.models import EntityMembership, Licence, MarketEntity, Product, QualityPerson

REFERENCE = dt.date(2026, 11, 1)
# Shares the generator's weights aim at (see demo_pools): manufacturing about 10 % of all entities,
# wholesale and retail about 40 %, Changchun about 40 %. The bounds leave room for sampling noise
# at a few hundred entities (one standard deviation is about 1.5 points).
MANUFACTURING_SHARE = (0.05, 0.17)
TRADE_SHARE = (0.30, 0.52)
CHANGCHUN_SHARE = (0.30, 0.50)


def _digest() -> str:
    """SHA-256 of every generated row, independent of database ids and timestamps."""
    parts = [
        list(MarketEntity.objects.order_by("uscc").values_list(
            "uscc", "name", "legal_representative", "region_id", "industry_id", "address", "size_class",
            "registration_date", "status", "phone")),
        list(QualityPerson.objects.order_by("entity__uscc", "position", "name", "phone").values_list(
            "entity__uscc", "name", "position", "phone", "appointed_on", "certificate_no")),
        list(Product.objects.order_by("producer__uscc", "gtin", "name", "model").values_list(
            "producer__uscc", "name", "brand", "model", "category_id", "gtin", "is_key")),
        list(Licence.objects.order_by("kind", "number").values_list(
            "entity__uscc", "kind", "number", "issuer", "scope", "issued_on", "valid_until", "status")),
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode()).hexdigest()


@pytest.fixture
def demo(db):
    summary = seed_demo(400, seed=7, reference_date=REFERENCE, batch_size=150)
    return summary


@pytest.mark.django_db
def test_same_seed_gives_identical_rows_whatever_the_batch_size():
    first = seed_demo(250, seed=11, reference_date=REFERENCE)
    digest = _digest()
    reset_registry()
    second = seed_demo(250, seed=11, reference_date=REFERENCE, batch_size=37)
    assert _digest() == digest
    assert first["created"] == second["created"]
    assert first["created"]["entities"] == 250 and first["created"]["products"] > 0


@pytest.mark.django_db
def test_different_seed_gives_different_rows():
    seed_demo(150, seed=11, reference_date=REFERENCE)
    digest = _digest()
    names = set(MarketEntity.objects.values_list("name", flat=True))
    reset_registry()
    seed_demo(150, seed=12, reference_date=REFERENCE)
    assert _digest() != digest
    # Not just shifted: most names differ.
    assert len(names & set(MarketEntity.objects.values_list("name", flat=True))) < 30


@pytest.mark.django_db
def test_a_smaller_run_is_the_start_of_a_larger_one():
    seed_demo(60, seed=5, reference_date=REFERENCE)
    small = set(MarketEntity.objects.values_list("uscc", "name", "address"))
    reset_registry()
    seed_demo(120, seed=5, reference_date=REFERENCE)
    assert small <= set(MarketEntity.objects.values_list("uscc", "name", "address"))


@pytest.mark.django_db
def test_usccs_are_valid_and_carry_the_region_code(demo):
    categories = {"1": 0, "2": 0, "3": 0}
    for uscc, region, name in MarketEntity.objects.values_list("uscc", "region_id", "name"):
        assert validate_uscc(uscc) == uscc
        assert uscc[2:8] == region
        categories[uscc[1]] += 1
        # The organisation category matches the kind of entity the name says it is.
        if uscc[1] == "3":
            assert name.endswith("专业合作社")
        elif uscc[1] == "1":
            assert name.endswith("公司")
    assert all(count > 0 for count in categories.values()), categories
    assert MarketEntity.objects.values("uscc").distinct().count() == 400


@pytest.mark.django_db
def test_regions_are_county_level_and_names_unique(demo):
    levels = set(Region.objects.filter(code__in=MarketEntity.objects.values("region_id")).values_list("level", flat=True))
    assert levels == {Region.Level.COUNTY}
    names = list(MarketEntity.objects.values_list("name", flat=True))
    assert len(names) == len(set(names)) == 400


@pytest.mark.django_db
def test_gtins_are_valid_gs1_china_numbers(demo):
    gtins = list(Product.objects.exclude(gtin=None).values_list("gtin", flat=True))
    assert len(gtins) >= 50
    assert len(gtins) == len(set(gtins))
    for gtin in gtins:
        assert validate_gtin(gtin) == gtin and len(gtin) == 14
        assert 690 <= int(gtin[1:4]) <= 699, gtin


@pytest.mark.django_db
def test_products_match_their_producer_industry(demo):
    # A product's category is one of the lines of business of its producer's division.
    allowed: dict[str, set[str]] = {}
    for table in (pools.INDUSTRY_LINES, pools.SHOP_WORDS):
        for division, lines in table.items():
            allowed.setdefault(division, set()).update(code for _, codes in lines for code in codes)
    rows = list(Product.objects.values_list("producer__industry_id", "producer__industry__parent_id",
                                            "category_id", "category__is_key", "is_key"))
    assert rows
    for division, section, category, category_is_key, is_key in rows:
        assert section == "C"  # only manufacturers make catalogued products
        assert category in allowed[division], (division, category)
        assert is_key == category_is_key


@pytest.mark.django_db
def test_industry_and_region_shares_are_realistic(demo):
    total = MarketEntity.objects.count()
    manufacturing = MarketEntity.objects.filter(industry__parent_id="C").count() / total
    trade = MarketEntity.objects.filter(industry__parent_id="F").count() / total
    changchun = MarketEntity.objects.filter(region__parent_id="220100").count() / total
    assert MANUFACTURING_SHARE[0] <= manufacturing <= MANUFACTURING_SHARE[1]
    assert TRADE_SHARE[0] <= trade <= TRADE_SHARE[1]
    assert CHANGCHUN_SHARE[0] <= changchun <= CHANGCHUN_SHARE[1]
    assert MarketEntity.objects.filter(status=MarketEntity.Status.OPERATING).count() / total > 0.85
    small = MarketEntity.objects.filter(size_class__in=["micro", "small"]).count() / total
    assert small > 0.9
    dates = MarketEntity.objects.values_list("registration_date", flat=True)
    assert min(dates) >= dt.date(1990, 1, 1) and max(dates) < REFERENCE


@pytest.mark.django_db
def test_licences_include_expiring_expired_and_withdrawn(demo):
    licences = Licence.objects.all()
    total = licences.count()
    assert total >= 40
    expiring = Licence.objects.expiring_within(90, today=REFERENCE).count()
    assert 0 < expiring < total * 0.25
    statuses = set(licences.values_list("status", flat=True))
    assert {Licence.Status.VALID, Licence.Status.EXPIRED} <= statuses
    assert statuses & {Licence.Status.SUSPENDED, Licence.Status.REVOKED}
    for issued, until in licences.values_list("issued_on", "valid_until"):
        assert until >= issued and 2 * 365 < (until - issued).days + 1 <= 5 * 366
    kinds = set(licences.values_list("kind", flat=True))
    assert {Licence.Kind.ISO9001, Licence.Kind.FOOD_PRODUCTION, Licence.Kind.CCC} <= kinds
    # Food licence numbers carry the producer's county code (食品生产许可证编号规则).
    for number, region in Licence.objects.filter(kind=Licence.Kind.FOOD_PRODUCTION).values_list(
            "number", "entity__region_id"):
        assert number.startswith("SC") and len(number) == 16 and number[5:11] == region


@pytest.mark.django_db
def test_chief_quality_officers_at_larger_manufacturers(demo):
    cqo = QualityPerson.objects.filter(position=QualityPerson.Position.CHIEF_QUALITY_OFFICER)
    assert cqo.exists()
    assert not cqo.exclude(entity__size_class__in=["medium", "large"]).exists()
    assert all(no.startswith("JLCQO-") for no in cqo.values_list("certificate_no", flat=True))


@pytest.mark.django_db
def test_running_again_with_the_same_seed_skips_what_exists(demo):
    digest = _digest()
    again = seed_demo(400, seed=7, reference_date=REFERENCE)
    assert again["skipped_entities"] == 400 and again["created"]["entities"] == 0
    assert _digest() == digest
    more = seed_demo(450, seed=7, reference_date=REFERENCE)
    assert more["skipped_entities"] == 400 and more["created"]["entities"] == 50


@pytest.mark.django_db
def test_one_summary_audit_entry_and_no_per_row_entries(demo):
    entries = AuditLog.objects.filter(content_type=ContentType.objects.get_for_model(MarketEntity))
    assert entries.count() == 1
    entry = entries.get()
    assert entry.action == "import" and entry.message == "demo data"
    assert entry.after["seed"] == 7 and entry.after["counts"] == demo["created"]


@pytest.mark.django_db
def test_demo_users_cover_every_role_and_are_idempotent(demo):
    rows = ensure_demo_users()
    assert [r["username"] for r in rows] == [u.username for u in DEMO_USERS]
    assert authenticate(username="nanguan", password=DEMO_PASSWORD) is not None
    county = User.objects.get(username="nanguan")
    assert county.region.level == Region.Level.COUNTY and county.region_id == "220102"
    assert User.objects.get(username="yanji").region.level == Region.Level.COUNTY
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.role == "province_admin" and admin.region_id == "220000"
    for user in User.objects.filter(username__in=[u.username for u in DEMO_USERS]):
        user.full_clean()  # role and region agree, as the model requires
        assert user.last_name and user.organisation
    enterprise = User.objects.get(username="enterprise")
    entity = enterprise.entity_membership.entity
    assert entity.region_id == "220102"
    assert entity.products.exists() and entity.licences.exists()
    assert Licence.objects.filter(entity=entity).expiring_within(90, today=REFERENCE).exists()
    token = Token.objects.get(user__username="consumer").key
    assert next(r for r in rows if r["username"] == "consumer")["token"] == token
    # Again: same users, same token, the password still works.
    again = ensure_demo_users()
    assert next(r for r in again if r["username"] == "consumer")["token"] == token
    assert User.objects.filter(username__in=[u.username for u in DEMO_USERS]).count() == len(DEMO_USERS)
    assert EntityMembership.objects.filter(user__username="enterprise").count() == 1
    assert authenticate(username="enterprise", password=DEMO_PASSWORD) is not None


@pytest.mark.django_db
def test_command_prints_summary_and_logins():
    out = io.StringIO()
    call_command("seed_demo", entities=80, seed=3, reference_date=REFERENCE, quiet=True, stdout=out)
    text = out.getvalue()
    summary = json.loads(text[:text.index("\n演示账号")])
    assert summary["created"]["entities"] == 80 and summary["seed"] == 3
    assert "demo12345" in text and "nanguan" in text and "Token" in text
    out = io.StringIO()
    call_command("seed_demo", users_only=True, stdout=out)
    assert MarketEntity.objects.count() == 80
    out = io.StringIO()
    call_command("seed_demo", entities=80, seed=3, reference_date=REFERENCE, reset=True, no_users=True,
                 quiet=True, stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["reset"]["entities"] == 80 and summary["created"]["entities"] == 80
