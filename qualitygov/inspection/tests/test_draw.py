"""The random draw (issue 3, item 3): reproducible, stratified by credit class, exclusions, region and
category filters, inspectors with conflicts of interest, stored records that re-run to the same list."""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq

import pytest

from qualitygov.conftest import make_uscc
from qualitygov.core.models import Region, User
from qualitygov.core.roles import Role
from qualitygov.inspection.draw import (
    DrawError,
    draw_entities,
    draw_inspectors,
    rerun_draw,
    run_draw,
    uniform_key,
)
from qualitygov.inspection.models import InspectorConflict, RandomDraw
from qualitygov.registry.models import MarketEntity, Product

pytestmark = pytest.mark.django_db

SEED = 20240601


def make_entities(specs, start: int = 1) -> list[MarketEntity]:
    """Bulk-create entities from (region, status) pairs with serials from ``start``; returns them."""
    rows = [MarketEntity(uscc=make_uscc(region, serial), name=f"抽样测试企业{serial}", legal_representative="王五",
                         region_id=region, industry_id="36", address=f"测试路{serial}号",
                         registration_date=dt.date(2010, 1, 1), status=status)
            for serial, (region, status) in enumerate(specs, start=start)]
    MarketEntity.objects.bulk_create(rows)
    return list(MarketEntity.objects.filter(uscc__in=[row.uscc for row in rows]).order_by("uscc"))


def operating(region: str, n: int) -> list[tuple[str, str]]:
    return [(region, MarketEntity.Status.OPERATING)] * n


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


def test_result_is_top_keys_of_the_published_formula():
    """Anyone can check a draw: u = BLAKE2b-64(key = seed digits, data = USCC), top 53 bits; the drawn
    list is the candidates with the largest keys, largest first — whatever the chunking."""
    entities = make_entities(operating("220102", 250))

    def by_hand(uscc: str) -> float:
        digest = hashlib.blake2b(uscc.encode(), key=str(SEED).encode(), digest_size=8).digest()
        return ((int.from_bytes(digest, "big") >> 11) + 0.5) / 2**53

    expected = heapq.nlargest(30, (entity.uscc for entity in entities), key=by_hand)
    result = draw_entities(seed=SEED, count=30, chunk_size=7)  # many chunks: the heap crosses them
    assert result.usccs == expected
    assert [item.key for item in result.items] == [by_hand(uscc) for uscc in expected]
    assert uniform_key(SEED, expected[0]) == by_hand(expected[0])
    assert [item.rank for item in result.items] == list(range(1, 31))
    assert result.items[0].name == MarketEntity.objects.get(uscc=expected[0]).name


def test_candidate_digest_is_sha256_of_sorted_usccs():
    entities = make_entities(operating("220102", 40))
    result = draw_entities(seed=SEED, count=5, chunk_size=9)
    expected = hashlib.sha256("".join(f"{e.uscc}\n" for e in sorted(entities, key=lambda e: e.uscc)).encode())
    assert result.candidate_digest == expected.hexdigest()


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


def test_stratification_draws_risky_classes_more_often():
    entities = make_entities(operating("220102", 4000))
    classes = {entity.pk: "ABCD"[i % 4] for i, entity in enumerate(entities)}
    result = draw_entities(seed=SEED, count=400, risk_classes=lambda ids: {pk: classes[pk] for pk in ids})
    drawn = result.drawn_classes
    assert result.candidate_classes == {"A": 1000, "B": 1000, "C": 1000, "D": 1000}
    assert sum(drawn.values()) == 400
    rates = {cls: drawn.get(cls, 0) / 1000 for cls in "ABCD"}
    assert rates["A"] < rates["B"] < rates["C"] < rates["D"]
    # Weights 0.5 : 4 make D eight times as likely per draw; without replacement the inclusion
    # ratio is a little lower (about 7.3 for 400 of 4000: p_i ≈ 1 − exp(−λ·w_i) with Σp = 400).
    # Expected counts are about 14 (A) and 104 (D); the bounds are many standard deviations wide and
    # the seed is fixed, so the test cannot flake.
    assert 4 <= rates["D"] / rates["A"] <= 14
    assert 1.4 <= rates["B"] / rates["A"] <= 2.8


def test_class_with_weight_zero_is_never_drawn():
    entities = make_entities(operating("220102", 60))
    classes = {entity.pk: ("A" if i % 2 else "D") for i, entity in enumerate(entities)}
    result = draw_entities(seed=SEED, count=50, class_ratios={"A": 0, "B": 1, "D": 4},
                           risk_classes=lambda ids: {pk: classes[pk] for pk in ids})
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
