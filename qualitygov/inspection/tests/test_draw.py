"""The random draw (issue 3, item 3): reproducible, stratified by credit class, exclusions, region and
category filters, inspectors with conflicts of interest, stored records that re-run to the same list.

Every test runs on SQLite and on PostgreSQL (DATABASE_URL); on PostgreSQL the entity draw is computed
in the database, on SQLite in numpy, and both must give the lists computed here by hand from the
published formula."""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import math
import random

import pytest
from django.db import connection
from scipy import optimize, stats

from qualitygov.conftest import make_uscc
from qualitygov.core.models import Region, User
from qualitygov.core.roles import Role
from qualitygov.inspection import draw
from qualitygov.inspection.draw import (
    DrawError,
    candidate_set_digest,
    draw_entities,
    draw_inspectors,
    entity_key,
    entity_uniform_key,
    rerun_draw,
    risk_class_table,
    run_draw,
)
from qualitygov.inspection.draw_sql import DIGEST_SEEDS, lookup3_hash64, lookup3_hash64_many
from qualitygov.inspection.models import InspectorConflict, RandomDraw
from qualitygov.registry.models import MarketEntity, Product

pytestmark = pytest.mark.django_db

SEED = 20240601
CLASS_LETTERS = ["A", "B", "C", "D"]


def make_entities(specs, start: int = 1, classes=None) -> list[MarketEntity]:
    """Bulk-create entities from (region, status) pairs with serials from ``start``; returns them.
    ``classes`` (one letter per entity) goes in the legal representative, where the test class
    sources below read it."""
    rows = [MarketEntity(uscc=make_uscc(region, serial), name=f"抽样测试企业{serial}",
                         legal_representative=classes[serial - start] if classes else "王五",
                         region_id=region, industry_id="36", address=f"测试路{serial}号",
                         registration_date=dt.date(2010, 1, 1), status=status)
            for serial, (region, status) in enumerate(specs, start=start)]
    MarketEntity.objects.bulk_create(rows)
    return list(MarketEntity.objects.filter(uscc__in=[row.uscc for row in rows]).order_by("uscc"))


def operating(region: str, n: int) -> list[tuple[str, str]]:
    return [(region, MarketEntity.Status.OPERATING)] * n


@risk_class_table(entity_field="pk", class_field="legal_representative")
def classes_table():
    """Test risk classes the database joins: a one-letter legal representative."""
    return MarketEntity.objects.filter(legal_representative__in=CLASS_LETTERS)


def classes_function(ids: list[int]) -> dict[int, str]:
    """The same classes through the Python-function interface."""
    return dict(MarketEntity.objects.filter(pk__in=ids, legal_representative__in=CLASS_LETTERS)
                .values_list("pk", "legal_representative"))


@risk_class_table(entity_field="producer", class_field="name")
def classes_with_duplicates():
    """A class source with two rows for an entity that makes two products."""
    return Product.objects.all()


def by_hand(uscc: str, seed: int = SEED, weight: float = 1.0) -> float:
    """The published key, step by step: h = lookup3 (PostgreSQL's hashtextextended), u from its top
    52 bits, key = u ** (1 / w)."""
    h = lookup3_hash64(uscc.encode("ascii"), seed)
    u = ((h >> 12) + 0.5) / 2**52
    return u if weight == 1.0 else u ** (1.0 / weight)


def top_by_hand(usccs, count: int, seed: int = SEED, weight_of=lambda uscc: 1.0) -> list[str]:
    keyed = [(by_hand(uscc, seed, weight_of(uscc)), uscc) for uscc in usccs if weight_of(uscc) > 0]
    return [uscc for _key, uscc in heapq.nlargest(count, keyed)]


def test_same_seed_same_list_and_another_seed_another_list():
    make_entities(operating("220102", 300))
    first = draw_entities(seed=SEED, count=20)
    again = draw_entities(seed=SEED, count=20)
    other = draw_entities(seed=SEED + 1, count=20)
    assert len(first.items) == 20
    assert first.usccs == again.usccs
    assert [item.key for item in first.items] == [item.key for item in again.items]
    assert other.usccs != first.usccs
    assert first.candidate_count == 300 and first.notes == []
    assert first.algorithm == draw.ALGORITHM_VERSION == "es-a-res/pg-lookup3-64/v2"


# PostgreSQL 15's own ``SELECT hashtextextended(s, seed)`` (signed bigint), for the reference
# implementation to match on any database.
POSTGRES_HASHES = [
    ("91220102000000017K", 20240601, 5136452873061888722),
    ("91220102000000017K", 0, -763566544136252325),
    ("", 0, -6939563903564495251),
    ("吉林", 2**63 - 1, -160501946711182988),
    ("ABCDEFGHIJKL", 1, 2659038847539142939),
]


def test_key_function_is_postgresql_hashtextextended():
    for text, seed, expected in POSTGRES_HASHES:
        assert lookup3_hash64(text, seed) == expected % 2**64
    # The numpy version used for streamed candidates agrees with the reference, at every length
    # (one to three 12-byte blocks, every tail) and for values of mixed lengths in one call.
    rng = random.Random(7)
    values = ["".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY吉") for _ in range(rng.randrange(0, 38)))
              for _ in range(400)]
    seeds = (0, SEED, 2**63 - 1)
    many = lookup3_hash64_many(values, seeds)
    for row, seed in enumerate(seeds):
        assert [int(h) for h in many[row]] == [lookup3_hash64(value, seed) for value in values]
    usccs = [make_uscc("220102", serial) for serial in range(1, 101)]
    assert [int(h) for h in lookup3_hash64_many(usccs, (SEED,))[0]] == [lookup3_hash64(u, SEED) for u in usccs]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute('SELECT hashtextextended(v COLLATE "C", %s) FROM unnest(%s::text[]) v', [SEED, values])
            assert [h % 2**64 for (h,) in cursor.fetchall()] == [lookup3_hash64(v, SEED) for v in values]


def test_result_is_top_keys_of_the_published_formula():
    """Anyone can check a draw: the drawn list is the candidates with the largest keys, largest first."""
    entities = make_entities(operating("220102", 250))
    expected = top_by_hand([entity.uscc for entity in entities], 30)
    result = draw_entities(seed=SEED, count=30, chunk_size=7)  # when streamed: many chunks, the pool crosses them
    assert result.usccs == expected
    assert [item.key for item in result.items] == [by_hand(uscc) for uscc in expected]
    assert entity_uniform_key(SEED, expected[0]) == by_hand(expected[0]) == result.items[0].key
    assert [item.rank for item in result.items] == list(range(1, 31))
    assert result.items[0].name == MarketEntity.objects.get(uscc=expected[0]).name


def test_fixed_candidates_give_the_published_list_on_every_database():
    """The same 200 entities and seed give this list on SQLite and on PostgreSQL (computed once with
    the reference function; the test runs on both databases)."""
    make_entities(operating("220102", 200))
    assert draw_entities(seed=SEED, count=10).usccs == [
        "91220102000001839Y", "9122010200000188X2", "91220102000000174L", "91220102000000887N",
        "91220102000002006C", "91220102000000772G", "91220102000000422A", "91220102000000107N",
        "9122010200000022XJ", "9122010200000065XC"]


def test_keys_are_uniform_and_seeds_independent():
    """Sequential registration numbers (the hard case for a weak hash) still give uniform numbers,
    and two seeds draw nearly unrelated lists."""
    usccs = [make_uscc("220102", serial) for serial in range(1, 5001)]
    numbers = [entity_uniform_key(SEED, uscc) for uscc in usccs]
    assert stats.kstest(numbers, "uniform").pvalue > 0.01
    # Drawing 500 of 5000 twice: the overlap is hypergeometric with mean 50 and s.d. about 6.4.
    overlap = set(top_by_hand(usccs, 500)) & set(top_by_hand(usccs, 500, seed=SEED + 1))
    assert 25 <= len(overlap) <= 75


def test_candidate_digest_binds_the_candidate_set_in_any_order():
    entities = make_entities(operating("220102", 40))
    usccs = [entity.uscc for entity in entities]
    result = draw_entities(seed=SEED, count=5, chunk_size=9)
    # By hand: SHA-256 of the count and the two sums modulo 2**64 of the hashes with the fixed seeds.
    sums = [sum(lookup3_hash64(uscc, seed) for uscc in usccs) % 2**64 for seed in DIGEST_SEEDS]
    text = f"qualitygov candidate multiset v2\n40\n{sums[0]:016x}\n{sums[1]:016x}\n"
    assert result.candidate_digest == hashlib.sha256(text.encode()).hexdigest()
    assert result.candidate_digest == candidate_set_digest(list(reversed(usccs)))
    # Independent of the seed, so that two draws from one set show the same digest; any change of
    # the set changes it.
    assert draw_entities(seed=SEED + 7, count=5).candidate_digest == result.candidate_digest
    assert candidate_set_digest(usccs[1:]) != result.candidate_digest
    assert candidate_set_digest([*usccs[1:], make_uscc("220102", 999)]) != result.candidate_digest


def test_insertion_order_does_not_change_the_result():
    specs = operating("220102", 120)
    make_entities(specs)
    forward = draw_entities(seed=SEED, count=15)
    MarketEntity.objects.all().delete()
    # Same entities inserted in the reverse order: new ids, new physical order.
    rows = [MarketEntity(uscc=make_uscc("220102", serial), name=f"抽样测试企业{serial}", legal_representative="王五",
                         region_id="220102", industry_id="36", address="测试路", registration_date=dt.date(2010, 1, 1))
            for serial in range(120, 0, -1)]
    MarketEntity.objects.bulk_create(rows)
    backward = draw_entities(seed=SEED, count=15)
    assert backward.usccs == forward.usccs
    assert backward.candidate_digest == forward.candidate_digest
    assert [item.entity_id for item in backward.items] != [item.entity_id for item in forward.items]


def test_risk_classes_from_a_table_or_a_function_give_the_same_draw(users):
    """The credit module's classes can be joined in SQL (a ``RiskClassTable``) or looked up by a
    function; both give the list computed by hand with the class weights, and a stored draw re-runs."""
    letters = [CLASS_LETTERS[i % 4] for i in range(400)] + ["王五"] * 20  # the last 20: no class → B
    entities = make_entities(operating("220102", 420), classes=letters)
    weight = {"A": 0.5, "B": 1.0, "C": 2.0, "D": 4.0}
    class_of = {entity.uscc: weight.get(entity.legal_representative, 1.0) for entity in entities}
    expected = top_by_hand(class_of, 60, weight_of=class_of.get)
    from_table = draw_entities(seed=SEED, count=60, risk_classes=classes_table)
    from_function = draw_entities(seed=SEED, count=60, risk_classes=classes_function)
    assert from_table.usccs == from_function.usccs == expected
    assert [item.key for item in from_table.items] == [item.key for item in from_function.items]
    assert from_table.items[0].key == entity_key(SEED, expected[0], class_of[expected[0]])
    assert from_table.candidate_classes == from_function.candidate_classes == {"A": 100, "B": 120, "C": 100,
                                                                                 "D": 100}
    assert from_table.candidate_digest == from_function.candidate_digest
    # The table also answers the function interface, and a record re-runs from its stored path.
    assert classes_table([entities[0].pk, entities[-1].pk]) == {entities[0].pk: entities[0].legal_representative}
    record, result = run_draw("entities", region=Region.objects.get(pk="220000"), drawn_by=users["province"],
                              seed=SEED, count=60, risk_classes=classes_table)
    assert record.inputs["risk_classes"] == "qualitygov.inspection.tests.test_draw.classes_table"
    again, identical, differences = rerun_draw(record)
    assert identical, differences
    assert again.usccs == expected


def test_two_classes_for_one_entity_are_refused():
    entities = make_entities(operating("220102", 5))
    Product.objects.create(producer=entities[0], name="A", category_id="0101")
    Product.objects.create(producer=entities[0], name="D", category_id="0101")
    with pytest.raises(DrawError, match="多条记录"):
        draw_entities(seed=SEED, count=3, risk_classes=classes_with_duplicates)


@pytest.mark.parametrize("collector", ["session aggregate", "array_agg", "two scans"])
@pytest.mark.parametrize("estimate", [None, 1.0, 1000.0, 10_000_000.0])
def test_threshold_guesses_and_statement_forms_never_change_the_result(monkeypatch, collector, estimate):
    """On PostgreSQL the database returns only candidates above a threshold guessed from the
    planner's row estimate; a guess far too low or far too high costs another statement but never
    changes the list. So does the form of the statement: one scan collecting the candidates with a
    temporary aggregate (PostgreSQL < 16) or ``array_agg`` (16+: forced here on any version, where
    it is correct but not parallel), or two scans with a row limit (cut short here at 5 rows). On
    SQLite the draw is streamed and must give the same lists."""
    letters = [CLASS_LETTERS[i % 4] for i in range(300)]
    entities = make_entities(operating("220102", 300), classes=letters)
    weight = {"A": 0.5, "B": 1.0, "C": 0.0, "D": 4.0}
    class_of = {entity.uscc: weight[entity.legal_representative] for entity in entities}
    attempts = []
    original = draw._pg_attempt

    def counted(cursor, used, *args, **kwargs):
        attempts.append(used)
        return original(cursor, used, *args, **kwargs)

    monkeypatch.setattr(draw, "_pg_attempt", counted)
    if collector == "array_agg":
        monkeypatch.setattr(draw, "_pg_collector", lambda connection: "array_agg")
    elif collector == "two scans":
        monkeypatch.setattr(draw, "_pg_collector", lambda connection: None)
        monkeypatch.setattr(draw, "_row_limit", lambda count: 5)
    if estimate is not None:
        monkeypatch.setattr(draw, "_estimated_rows", lambda *args: estimate)
    for risk_classes, expected in [
        (None, top_by_hand(class_of, 40)),
        (classes_table, top_by_hand(class_of, 40, weight_of=class_of.get)),
    ]:
        result = draw_entities(seed=SEED, count=40, risk_classes=risk_classes, class_ratios=weight)
        assert result.usccs == expected
        assert result.candidate_count == 300
        assert result.candidate_digest == candidate_set_digest(list(class_of))
    if connection.vendor == "sqlite":
        assert attempts == []
        return
    expected_collector = {"session aggregate": draw.draw_sql.PG_COLLECT, "array_agg": "array_agg",
                          "two scans": None}[collector]
    if connection.pg_version >= 160000 and collector == "session aggregate":
        expected_collector = "array_agg"
    assert set(attempts) == {expected_collector}
    # A guess from 1 row returns everything at once; from 10,000,000 it returns too few rows; with
    # two scans, a guess from 1,000 returns more than 5: a second statement each time.
    if estimate == 1.0:
        assert len(attempts) == 2
    if estimate == 10_000_000.0 or (estimate == 1000.0 and collector == "two scans"):
        assert len(attempts) >= 4


def test_without_a_session_aggregate_the_draw_takes_two_scans(monkeypatch):
    """Where the temporary aggregate cannot be created (no TEMP privilege, a read-only transaction;
    simulated by a statement that fails), the transaction stays usable and the draw is the same."""
    entities = make_entities(operating("220102", 120))
    expected = top_by_hand([entity.uscc for entity in entities], 12)
    monkeypatch.setattr(draw.draw_sql, "PG_CREATE_COLLECT", "CREATE AGGREGATE pg_temp.broken (")
    attempts = []
    original = draw._pg_attempt
    monkeypatch.setattr(draw, "_pg_attempt", lambda cursor, used, *a, **k: attempts.append(used) or original(
        cursor, used, *a, **k))
    assert draw_entities(seed=SEED, count=12).usccs == expected
    assert MarketEntity.objects.count() == 120  # the failed statement did not break the transaction
    if connection.vendor == "postgresql":
        assert attempts == (["array_agg"] if connection.pg_version >= 160000 else [None])


def test_a_database_hash_that_differs_falls_back_to_python(monkeypatch):
    """If the server's hashtextextended ever differed from the published function (a big-endian
    server, a future PostgreSQL), the draw would be computed in Python — the same list."""
    entities = make_entities(operating("220102", 120))
    expected = top_by_hand([entity.uscc for entity in entities], 12)
    streamed = []
    original = draw._tally_streamed

    def spy(*args, **kwargs):
        streamed.append(True)
        return original(*args, **kwargs)

    monkeypatch.setattr(draw, "_tally_streamed", spy)
    assert draw_entities(seed=SEED, count=12).usccs == expected
    assert streamed == ([] if connection.vendor == "postgresql" else [True])
    monkeypatch.setattr(draw, "lookup3_hash64", lambda data, seed=0: 0)  # the probe no longer matches
    assert draw_entities(seed=SEED, count=12).usccs == expected
    assert streamed[-1] is True and len(streamed) == (1 if connection.vendor == "postgresql" else 2)


def test_stratification_draws_risky_classes_more_often():
    entities = make_entities(operating("220102", 4000))
    classes = {entity.pk: "ABCD"[i % 4] for i, entity in enumerate(entities)}
    result = draw_entities(seed=SEED, count=400, risk_classes=lambda ids: {pk: classes[pk] for pk in ids})
    drawn = result.drawn_classes
    assert result.candidate_classes == {"A": 1000, "B": 1000, "C": 1000, "D": 1000}
    assert sum(drawn.values()) == 400
    rates = {cls: drawn.get(cls, 0) / 1000 for cls in "ABCD"}
    assert rates["A"] < rates["B"] < rates["C"] < rates["D"]
    # Expected counts: with many candidates the 400th key is close to a fixed t, and a candidate of
    # weight w is drawn when u ** (1 / w) > t, with probability 1 − exp(−λ·w), λ = −ln t set by
    # Σp = 400 (Efraimidis & Spirakis 2006): about 28, 56, 109 and 206 — D seven times A, not eight,
    # without replacement. The counts must fit them (chi-square; the seed is fixed, no flakes).
    lam = optimize.brentq(lambda lam: sum(1000 * (1 - math.exp(-lam * w)) for w in (0.5, 1, 2, 4)) - 400, 1e-6, 10)
    expected = [1000 * (1 - math.exp(-lam * w)) for w in (0.5, 1, 2, 4)]
    assert stats.chisquare([drawn.get(cls, 0) for cls in "ABCD"], expected).pvalue > 0.01
    weight = {"A": 0.5, "B": 1.0, "C": 2.0, "D": 4.0}
    assert all(item.key == entity_key(SEED, item.uscc, weight[item.risk_class]) for item in result.items)


@pytest.mark.parametrize("risk_classes", [classes_function, classes_table])
def test_class_with_weight_zero_is_never_drawn(risk_classes):
    make_entities(operating("220102", 60), classes=["A" if i % 2 else "D" for i in range(60)])
    result = draw_entities(seed=SEED, count=50, class_ratios={"A": 0, "B": 1, "D": 4}, risk_classes=risk_classes)
    assert {item.risk_class for item in result.items} == {"D"}
    assert len(result.items) == 30
    assert any("比例为 0" in note for note in result.notes)


def test_exclusions_respected():
    entities = make_entities(operating("220102", 50))
    excluded = {entity.pk for entity in entities[:45]}
    result = draw_entities(seed=SEED, count=10, exclude_entity_ids=excluded,
                           exclude_sampled_since=dt.date(2025, 1, 1))
    assert result.candidate_count == 5
    assert {item.entity_id for item in result.items} == {entity.pk for entity in entities[45:]}
    assert result.parameters["exclude_sampled_since"] == "2025-01-01"
    with pytest.raises(DrawError, match="排除"):
        draw_entities(seed=SEED, count=10, exclude_sampled_since=dt.date(2025, 1, 1))


def test_status_region_and_category_filters():
    make_entities(operating("220102", 10) + operating("220104", 10) + operating("222401", 10)
                  + [("220102", MarketEntity.Status.CANCELLED)] * 5)
    changchun = draw_entities(seed=SEED, count=100, region_prefix="2201")
    assert changchun.candidate_count == 20
    assert {MarketEntity.objects.get(pk=item.entity_id).region_id for item in changchun.items} == {"220102", "220104"}
    nanguan = draw_entities(seed=SEED, count=100, region_prefix="220102")
    assert nanguan.candidate_count == 10
    with_cancelled = draw_entities(seed=SEED, count=100, region_prefix="220102", statuses=["operating", "cancelled"])
    assert with_cancelled.candidate_count == 15

    entities = list(MarketEntity.objects.filter(status="operating").order_by("uscc"))
    for i, entity in enumerate(entities[:6]):
        Product.objects.create(producer=entity, name=f"产品{i}", category_id="0101" if i < 4 else "0201")
    assert draw_entities(seed=SEED, count=100, categories=["0101"]).candidate_count == 4
    assert draw_entities(seed=SEED, count=100, categories=["01"]).candidate_count == 4  # group → its categories
    assert draw_entities(seed=SEED, count=100, categories=["01", "02"]).candidate_count == 6
    assert draw_entities(seed=SEED, count=100, categories=["03"]).candidate_count == 0


def test_count_larger_than_candidates_draws_all_with_a_note():
    entities = make_entities(operating("220102", 7))
    result = draw_entities(seed=SEED, count=10)
    assert sorted(result.usccs) == sorted(entity.uscc for entity in entities)
    assert result.notes and "全部候选均被抽中" in result.notes[0]
    with pytest.raises(DrawError):
        draw_entities(seed=SEED, count=0)


# --- inspectors ----------------------------------------------------------------------------------

@pytest.fixture
def inspectors(db):
    regions = ["220102", "220102", "220104", "220104", "220200", "222401"]
    return [User.objects.create_user(username=f"insp{i}", password="x", role=Role.INSPECTOR, region_id=region,
                                     last_name="检", first_name=str(i))
            for i, region in enumerate(regions)]


def test_inspectors_drawn_reproducibly_and_at_least_two(inspectors):
    pool = User.objects.all()
    first = draw_inspectors(seed=SEED, task_key="T-1", candidates=pool)
    assert len(first.items) == 2
    assert first.usernames == draw_inspectors(seed=SEED, task_key="T-1", candidates=pool).usernames
    # Other tasks with the same seed do not keep drawing the same pair.
    others = {tuple(draw_inspectors(seed=SEED, task_key=f"T-{n}", candidates=pool).usernames) for n in range(2, 12)}
    assert len(others) > 1
    with pytest.raises(DrawError, match="至少需要两名"):
        draw_inspectors(seed=SEED, task_key="T-1", candidates=pool, count=1)


def test_inspector_conflicts_and_testers_are_excluded(inspectors):
    entity = make_entities(operating("220102", 1))[0]
    InspectorConflict.objects.create(user=inspectors[2], entity=entity, relation="配偶在该企业任职")
    result = draw_inspectors(seed=SEED, task_key="T-1", candidates=User.objects.all(), count=2,
                             exclude_same_region_as="220102", entity_ids=[entity.pk], testers={inspectors[3].pk})
    assert result.excluded == {"tester": ["insp3"], "same_region": ["insp0", "insp1"], "declared_conflict": ["insp2"]}
    assert sorted(result.usernames) == ["insp4", "insp5"]
    # City-level rule: 220104 is in the same city as 220102, so insp3 is out on that ground too.
    city = draw_inspectors(seed=SEED, task_key="T-1", candidates=User.objects.all(), count=2,
                           exclude_same_region_as="220102", region_level="city", entity_ids=[entity.pk])
    assert city.excluded["same_region"] == ["insp0", "insp1", "insp2", "insp3"]
    assert sorted(city.usernames) == ["insp4", "insp5"]


def test_too_few_inspectors_is_refused_in_chinese(inspectors):
    with pytest.raises(DrawError) as info:
        draw_inspectors(seed=SEED, task_key="T-1", candidates=User.objects.all(), count=2,
                        exclude_same_region_as="220102", region_level="province")
    assert "可抽取的检查人员不足 2 名" in str(info.value)
    assert "仅余 0 名" in str(info.value)


def test_non_inspectors_are_not_candidates(inspectors):
    User.objects.create_user(username="officer", password="x", role=Role.CITY_OFFICER, region_id="220100")
    result = draw_inspectors(seed=SEED, task_key="T-9", candidates=User.objects.all(), count=6)
    assert result.candidate_count == 6 and "officer" not in result.usernames


# --- stored records ------------------------------------------------------------------------------

def test_run_draw_stores_record_and_rerun_is_identical(users):
    make_entities(operating("220102", 80) + operating("222401", 20))
    record, result = run_draw("entities", region=Region.objects.get(pk="220100"), drawn_by=users["changchun"],
                              seed=SEED, count=12, region_prefix="2201", title="2025 年第一季度 汽车零部件")
    record.refresh_from_db()
    assert record.kind == RandomDraw.Kind.ENTITIES and record.seed == SEED
    assert record.inputs["count"] == 12 and record.inputs["region_prefix"] == "2201"
    assert record.inputs["candidate_count"] == 80 == record.candidate_count
    assert record.inputs["candidate_digest"] == result.candidate_digest == record.candidate_digest
    assert [item["uscc"] for item in record.outputs["items"]] == result.usccs
    assert record.outputs["items"][0]["risk_class"] == "B"
    assert not record.published
    again, identical, differences = rerun_draw(record)
    assert identical, differences
    assert again.usccs == result.usccs
    # Scoped to the drawing unit's region: the 延吉 county officer does not see 长春's draw.
    assert RandomDraw.objects.restrict(users["changchun"]).filter(pk=record.pk).exists()
    assert not RandomDraw.objects.restrict(users["yanji"]).filter(pk=record.pk).exists()


def test_rerun_reports_a_changed_candidate_set(users):
    make_entities(operating("220102", 30))
    record, result = run_draw("entities", region=Region.objects.get(pk="220000"), drawn_by=users["province"],
                              seed=SEED, count=30)
    assert len(result.items) == 30
    make_entities(operating("220104", 1), start=500)
    _again, identical, differences = rerun_draw(record)
    assert not identical
    text = "\n".join(differences)
    assert "候选数量由 30 变为 31" in text
    assert "候选集合已变化" in text
    assert "新抽中 1 个" in text and make_uscc("220104", 500) in text


def test_rerun_detects_an_altered_record(users):
    make_entities(operating("220102", 30))
    record, _result = run_draw("entities", region=Region.objects.get(pk="220000"), drawn_by=None, seed=SEED, count=5)
    outputs = record.outputs
    outputs["items"][0], outputs["items"][1] = outputs["items"][1], outputs["items"][0]
    RandomDraw.objects.filter(pk=record.pk).update(outputs=outputs)
    record.refresh_from_db()
    _again, identical, differences = rerun_draw(record)
    assert not identical
    assert any("顺序不同" in d for d in differences) and any("摘要不符" in d for d in differences)


def test_inspector_draw_record_reruns(users, inspectors):
    entity = make_entities(operating("220102", 1))[0]
    InspectorConflict.objects.create(user=inspectors[4], entity=entity, relation="曾在该企业任职")
    record, result = run_draw("inspectors", region=Region.objects.get(pk="220000"), drawn_by=users["province"],
                              seed=SEED, task_key="2025-Q1-0001", count=2, exclude_same_region_as="220102",
                              entity_ids=[entity.pk], testers=[inspectors[5].pk])
    # insp0/insp1 share the entity's county, insp4 declared a relation, insp5 tests in this task.
    assert set(result.usernames) <= {"insp2", "insp3", "inspector"} and len(result.usernames) == 2
    assert record.inputs["declared_conflicts"] == [[inspectors[4].pk, entity.pk]]
    _again, identical, differences = rerun_draw(record)
    assert identical, differences
    User.objects.filter(username__in=["insp3", "inspector"]).update(is_active=False)
    none, identical, differences = rerun_draw(record)
    assert none is None and not identical and "不足 2 名" in differences[-1]


def test_v1_inspector_records_rerun_identical_but_v1_entity_records_do_not(users, inspectors):
    """v2 changed only the entity draw: an inspector draw stored by v1 still re-runs as identical; an
    entity draw stored by v1 is reported as drawn by another algorithm."""
    make_entities(operating("220102", 30))
    inspector_record, _result = run_draw("inspectors", region=Region.objects.get(pk="220000"), drawn_by=None,
                                         seed=SEED, task_key="2025-Q1-0002", count=2)
    entity_record, _result = run_draw("entities", region=Region.objects.get(pk="220000"), drawn_by=None,
                                      seed=SEED, count=5)
    RandomDraw.objects.filter(pk__in=[inspector_record.pk, entity_record.pk]).update(algorithm="es-a-res/blake2b-64/v1")
    inspector_record.refresh_from_db()
    entity_record.refresh_from_db()
    assert rerun_draw(inspector_record)[1] is True
    _again, identical, differences = rerun_draw(entity_record)
    assert not identical and "算法版本不同" in differences[0]
