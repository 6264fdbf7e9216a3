"""The recall workflow (issue 5, item 6) on the ginseng chain of ``chain.py``: report deadline, plan with
scope from the forward trace, notices, order and credit ledger, progress, completion, publication and
the public lookup, with refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from qualitygov.core.workdays import is_working_day, working_days_between
from qualitygov.credit.models import CreditRecord
from qualitygov.trace import recalls, tracing
from qualitygov.trace.models import Recall, RecallNotice, RecallProgress
from qualitygov.trace.tests import chain

TODAY = dt.date(2026, 11, 30)
PLAN = {"quantity_made": 1000, "quantity_sold": 1000, "channels": "长春、延吉两地参茸店", "defect_cause": "二氧化硫残留超标",
        "remedy": "退货退款", "notification": "电话通知经销商并在门店张贴公告",
        "consumer_advice": "立即停止食用，凭购买凭证或包装到原购买门店退货退款", "timetable": "2026 年 12 月底前完成"}


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(recalls, "_today", lambda: TODAY)


@pytest.fixture
def ginseng(registry):
    return chain.build_chain(registry)


def _report(registry, users, **extra):
    values = {"producer": registry["nanguan"]["entity"], "product": registry["nanguan"]["product"],
              "hazard": "切片人参二氧化硫残留超标，可能危害健康", "aware_on": dt.date(2026, 6, 8),
              "reported_on": dt.date(2026, 6, 9), "batches": [chain.PRODUCT_CLASS], "user": users["enterprise"]}
    return recalls.report(**{**values, **extra})


def _planned(registry, users):
    recall = _report(registry, users)
    recalls.investigate(recall, users["nanguan"], "抽检确认缺陷", True)
    return recalls.file_plan(Recall.objects.get(pk=recall.pk), users["enterprise"], filed_on=dt.date(2026, 6, 20), **PLAN)


def holder_user(entity, username: str = "holder"):
    """An enterprise user acting for ``entity`` (a holder that received a notice)."""
    from qualitygov.conftest import PASSWORD
    from qualitygov.core.models import User
    from qualitygov.core.roles import Role
    from qualitygov.registry.models import EntityMembership

    user = User.objects.create_user(username=username, password=PASSWORD, role=Role.ENTERPRISE)
    EntityMembership.objects.create(user=user, entity=entity)
    return User.objects.get(pk=user.pk)


def expected_scope() -> dict[int | str, dict]:
    """Holders per entity, aggregated from what the forward trace itself says."""
    result = tracing.trace(chain.PRODUCT_CLASS, "forward")
    out: dict = {}
    for h in result["holders"]:
        key = h["entity_id"] if h["entity_id"] is not None else h["gln"]
        row = out.setdefault(key, {"quantity": 0, "glns": set()})
        row["quantity"] += h["quantity"]
        row["glns"].add(h["gln"])
    return out


def test_report_deadline_is_two_working_days_after_learning(db, registry, users):
    recall = _report(registry, users)
    # Monday 8 June 2026 (no holiday that week): due Wednesday 10 June.
    assert recall.report_due_on == dt.date(2026, 6, 10)
    assert recall.number.startswith("RC2026") and recall.status == Recall.Status.REPORTED
    assert recalls.is_report_late(recall) is False
    # Around National Day: the due date is the 2nd working day, whatever the holidays.
    late = _report(registry, users, aware_on=dt.date(2026, 9, 30), reported_on=dt.date(2026, 10, 20))
    assert working_days_between(late.aware_on, late.report_due_on) == 2 and is_working_day(late.report_due_on)
    assert late.report_due_on > dt.date(2026, 10, 2)  # the holiday days do not count
    assert recalls.is_report_late(late) is True  # accepted, flagged


def test_report_due_beyond_the_calendar_is_left_unknown(db, registry, users, monkeypatch):
    monkeypatch.setattr(recalls, "_today", lambda: dt.date(2026, 12, 31))
    recall = _report(registry, users, aware_on=dt.date(2026, 12, 30), reported_on=dt.date(2026, 12, 31))
    assert recall.report_due_on is None
    assert recalls.is_report_late(recall) is None


def test_report_refuses_serials_and_malformed_codes(db, registry, users):
    for bad, code in ((chain.SOLD_ITEM, "bad_batch"), ("01234", "bad_batch"), (chain.CASE, "bad_batch")):
        with pytest.raises(recalls.RecallRefused) as refused:
            _report(registry, users, batches=[bad])
        assert refused.value.code == code
        assert "第 1 行" in refused.value.message_dict["batches"][0]
    assert not Recall.objects.exists()
    # A GTIN alone means all its batches; other forms are made canonical.
    recall = _report(registry, users, batches=[chain.PRODUCT_GTIN, f"(01){chain.PRODUCT_GTIN}(10){chain.PRODUCT_BATCH}"])
    assert recall.batches == [f"https://id.gs1.org/01/{chain.PRODUCT_GTIN}", chain.PRODUCT_CLASS]


def test_report_only_for_own_entity_or_in_region(db, registry, users):
    with pytest.raises(recalls.RecallRefused) as refused:
        _report(registry, users, producer=registry["yanji"]["entity"], product=None)
    assert refused.value.code == "not_permitted"
    with pytest.raises(recalls.RecallRefused):
        _report(registry, users, user=users["yanji"])  # another county's officer
    assert not Recall.objects.exists()
    assert _report(registry, users, user=users["nanguan"]).handled_by == users["nanguan"]


def test_no_defect_closes_the_recall(db, registry, users):
    recall = _report(registry, users)
    with pytest.raises(recalls.RecallRefused) as refused:
        recalls.investigate(recall, users["enterprise"], "自查", False)
    assert refused.value.code == "not_permitted"
    recall = recalls.investigate(recall, users["nanguan"], "复检合格，未发现缺陷", False)
    assert recall.status == Recall.Status.CLOSED_NO_DEFECT
    with pytest.raises(recalls.RecallRefused) as refused:
        recalls.file_plan(recall, users["enterprise"], **PLAN)
    assert refused.value.code == "wrong_status"


def test_plan_requires_every_content_and_names_the_missing(db, registry, users):
    recall = _report(registry, users)
    with pytest.raises(recalls.RecallRefused) as refused:
        recalls.file_plan(recall, users["enterprise"], **{**PLAN, "remedy": "", "quantity_sold": None})
    assert refused.value.code == "plan_incomplete"
    assert set(refused.value.message_dict) >= {"remedy", "quantity_sold"}
    assert "补救措施" in refused.value.message_dict["__all__"][0] and "销售数量" in refused.value.message_dict["__all__"][0]
    assert Recall.objects.get(pk=recall.pk).status == Recall.Status.REPORTED
    assert not RecallNotice.objects.exists()


@pytest.mark.parametrize("advice", ["", "  \n "])
def test_plan_must_say_what_consumers_should_do(db, registry, users, ginseng, advice):
    """A plan without what consumers should do is incomplete: the refusal names it, nothing is filed."""
    recall = _report(registry, users)
    with pytest.raises(recalls.RecallRefused) as refused:
        recalls.file_plan(recall, users["enterprise"], **{**PLAN, "consumer_advice": advice})
    assert refused.value.code == "plan_incomplete"
    assert set(refused.value.message_dict) == {"consumer_advice", "__all__"}
    assert "消费者应采取的措施" in refused.value.message_dict["__all__"][0]
    stored = Recall.objects.get(pk=recall.pk)
    assert (stored.status, stored.plan_filed_on, stored.remedy, stored.consumer_advice) == (
        Recall.Status.REPORTED, None, "", "")
    assert not RecallNotice.objects.exists()
    filed = recalls.file_plan(recall, users["enterprise"], **{**PLAN, "consumer_advice": f"  {PLAN['consumer_advice']}\n"})
    assert Recall.objects.get(pk=filed.pk).consumer_advice == PLAN["consumer_advice"]


def test_plan_scope_equals_the_forward_trace_and_notices_go_to_holders(db, registry, users, ginseng):
    recall = _planned(registry, users)
    assert recall.status == Recall.Status.PLANNED
    expected = expected_scope()
    got = {(row["entity_id"] if row["entity_id"] is not None else row["location_gln"]): row for row in recall.scope}
    assert set(got) == set(expected)
    for key, row in expected.items():
        assert got[key]["quantity"] == row["quantity"]
        assert set(got[key]["locations"]) == row["glns"]
    # The chain: the distributor got every box, the shops 600 and 400.
    assert got[ginseng["distributor"].pk]["quantity"] == chain.PRODUCED_BOXES
    for shop, boxes in chain.RETAIL_BOXES.items():
        assert got[ginseng[shop].pk]["quantity"] == boxes
    notices = {n.entity_id: n for n in RecallNotice.objects.filter(recall=recall)}
    assert set(notices) == {key for key in expected if isinstance(key, int)} - {recall.producer_id}
    assert notices[ginseng["shop_yanji"].pk].quantity == chain.RETAIL_BOXES["shop_yanji"]
    assert notices[ginseng["shop_yanji"].pk].location_gln == chain.gln("shop_yanji")
    assert all(n.sent_on == dt.date(2026, 6, 20) for n in notices.values())


def test_gtin_alone_covers_every_batch_in_the_store(db, registry, users, ginseng):
    recall = _report(registry, users, batches=[chain.PRODUCT_GTIN])
    recalls.investigate(recall, users["nanguan"], "确认缺陷", True)
    recall = recalls.file_plan(Recall.objects.get(pk=recall.pk), users["nanguan"], **PLAN)
    by_entity = {row["entity_id"]: row for row in recall.scope}
    assert by_entity[ginseng["shop_kuancheng"].pk]["batches"] == [chain.PRODUCT_CLASS]


def test_ordered_recall_is_recorded_once_in_the_credit_ledger(db, registry, users, ginseng):
    recall = _planned(registry, users)
    with pytest.raises(recalls.RecallRefused):
        recalls.order_recall(recall, users["yanji"])  # not the producer's region
    recall = recalls.order_recall(recall, users["nanguan"], on=dt.date(2026, 6, 22))
    recalls.order_recall(recall, users["changchun"], on=dt.date(2026, 6, 23))  # again: nothing new
    records = CreditRecord.objects.filter(kind="recall", entity=recall.producer)
    assert records.count() == 1
    record = records.get()
    assert recall.kind == Recall.Kind.ORDERED and record.occurred_on == dt.date(2026, 6, 22)
    assert recall.number in record.summary


def test_voluntary_recall_is_not_in_the_ledger(db, registry, users, ginseng):
    recall = _planned(registry, users)
    recall = recalls.start(recall, users["enterprise"], dt.date(2026, 6, 25))
    recall = recalls.complete(recall, users["enterprise"], "全部召回完毕", dt.date(2026, 8, 1), quantity_recovered=900)
    assert recall.kind == Recall.Kind.VOLUNTARY
    assert not CreditRecord.objects.filter(kind="recall").exists()


def test_progress_due_dates_overdue_and_effectiveness(db, registry, users, ginseng):
    recall = _planned(registry, users)
    assert recalls.progress_due_on(recall) is None  # not started
    recall = recalls.start(recall, users["enterprise"], dt.date(2026, 6, 25))
    assert recalls.progress_due_on(recall) == dt.date(2026, 9, 25)
    assert list(recalls.overdue_progress(on=dt.date(2026, 9, 25))) == []
    assert list(recalls.overdue_progress(on=dt.date(2026, 9, 26))) == [recall]
    recalls.report_progress(recall, users["enterprise"], dt.date(2026, 9, 20), 300, "已回收 300 盒")
    recall.refresh_from_db()
    assert recalls.progress_due_on(recall) == dt.date(2026, 12, 20)
    assert list(recalls.overdue_progress(on=dt.date(2026, 9, 26))) == []
    with pytest.raises(recalls.RecallRefused) as refused:
        recalls.report_progress(recall, users["enterprise"], dt.date(2026, 10, 20), 200, "数量倒退")
    assert refused.value.code == "bad_number"
    with pytest.raises(recalls.RecallRefused) as refused:
        recalls.report_progress(recall, users["yanji"], dt.date(2026, 10, 20), 400, "他区")
    assert refused.value.code == "not_permitted"
    recall = recalls.complete(recall, users["enterprise"], "召回完成", dt.date(2026, 11, 2), quantity_recovered=850)
    assert recall.status == Recall.Status.COMPLETED and recalls.progress_due_on(recall) is None
    final = RecallProgress.objects.get(recall=recall, final=True)
    assert final.quantity_recovered == 850 and final.period_end == dt.date(2026, 11, 2)
    assert recalls.effectiveness(recall) == Decimal(850) / Decimal(PLAN["quantity_sold"])
    assert working_days_between(recall.completed_on, recalls.summary_due_on(recall)) == 15


def test_holder_acknowledges_its_own_notice_only(db, registry, users, ginseng):
    recall = _planned(registry, users)
    notice = RecallNotice.objects.get(recall=recall, entity=registry["chaoyang"]["entity"])
    with pytest.raises(recalls.RecallRefused) as refused:
        recalls.acknowledge_notice(notice, users["enterprise"], 10)  # the producer, not the holder
    assert refused.value.code == "not_permitted"
    holder = holder_user(registry["chaoyang"]["entity"])
    with pytest.raises(recalls.RecallRefused) as refused:
        recalls.acknowledge_notice(notice, holder, notice.quantity + 1)
    assert refused.value.code == "bad_number"
    notice = recalls.acknowledge_notice(notice, holder, 120)
    assert notice.acknowledged_on == TODAY and notice.quantity_returned == 120


def test_publish_and_public_lookup(db, registry, users, ginseng):
    recall = _planned(registry, users)
    assert recalls.recall_status_for(chain.PRODUCT_GTIN, chain.PRODUCT_BATCH) == []  # not yet published
    with pytest.raises(recalls.RecallRefused):
        recalls.publish(recall, users["enterprise"])
    recall = recalls.publish(recall, users["nanguan"])
    assert list(recalls.public_recalls()) == [recall]
    assert recalls.recall_status_for(chain.PRODUCT_GTIN, chain.PRODUCT_BATCH) == [recall]
    assert recalls.recall_status_for(chain.PRODUCT_GTIN[1:], chain.PRODUCT_BATCH) == [recall]  # GTIN-13
    assert recalls.recall_status_for(chain.PRODUCT_GTIN, "OTHER1") == []
    assert recalls.recall_status_for(chain.PRODUCT_GTIN) == []  # a batch recall does not cover all batches
    assert recalls.recall_status_for(chain.RAW_GTIN, chain.RAW_BATCH) == []
    payload = recalls.public_payload(recall)
    assert payload["number"] == recall.number and "scope" not in payload and "investigation" not in payload
    with pytest.raises(recalls.RecallRefused) as refused:
        recalls.publish(recall, users["nanguan"])
    assert refused.value.code == "already_published"


def test_whole_gtin_recall_covers_every_batch_in_the_lookup(db, registry, users, ginseng):
    recall = _report(registry, users, batches=[chain.PRODUCT_GTIN])
    recalls.investigate(recall, users["nanguan"], "确认缺陷", True)
    recall = recalls.file_plan(Recall.objects.get(pk=recall.pk), users["nanguan"], **PLAN)
    recalls.publish(recall, users["province"])
    assert recalls.recall_status_for(chain.PRODUCT_GTIN, "ANY9") == [recall]
    assert recalls.recall_status_for(chain.PRODUCT_GTIN) == [recall]


def test_steps_only_in_their_status(db, registry, users, ginseng):
    recall = _report(registry, users)
    for step in (lambda: recalls.start(recall, users["enterprise"]),
                 lambda: recalls.complete(recall, users["enterprise"], "x", TODAY),
                 lambda: recalls.report_progress(recall, users["enterprise"], TODAY, 1, "x")):
        with pytest.raises(recalls.RecallRefused) as refused:
            step()
        assert refused.value.code == "wrong_status"
    with pytest.raises(recalls.RecallRefused) as refused:
        recalls.order_recall(recall, users["nanguan"])
    assert refused.value.code == "wrong_status"


def _with_gtin(registry):
    """Give the processor's product the chain's product GTIN (it is registered with the platform)."""
    product = registry["nanguan"]["product"]
    product.gtin = chain.PRODUCT_GTIN
    product.save()
    return product


def test_quantity_in_scope_counts_the_end_holders_once(db, registry, users, ginseng):
    """The distributor passed every box on to the shops: the share recovered is measured against what
    reached the shops (600 + 400), not the distributor's boxes counted again, nor the plan's figure."""
    recall = _report(registry, users)
    recalls.investigate(recall, users["nanguan"], "抽检确认缺陷", True)
    recall = recalls.file_plan(Recall.objects.get(pk=recall.pk), users["enterprise"], filed_on=dt.date(2026, 6, 20),
                               **{**PLAN, "quantity_made": 1500, "quantity_sold": 1200})
    every_row = sum(row["quantity"] for row in recall.scope if row["entity_id"] != recall.producer_id)
    assert every_row == chain.PRODUCED_BOXES + sum(chain.RETAIL_BOXES.values())  # the distributor counts twice
    assert recalls.quantity_in_scope(recall) == sum(chain.RETAIL_BOXES.values())
    recall = recalls.start(recall, users["enterprise"], dt.date(2026, 6, 25))
    recalls.report_progress(recall, users["enterprise"], dt.date(2026, 9, 20), 500, "已回收 500 盒")
    recall.refresh_from_db()
    assert recalls.effectiveness(recall) == Decimal("0.5")
    # A recall whose batches were never captured: the plan's quantity sold is the measure.
    recall.scope = []
    assert recalls.quantity_in_scope(recall) == Decimal(1200)
    assert recalls.effectiveness(recall) == (Decimal(500) / Decimal(1200)).quantize(Decimal("0.0001"))


def test_plan_names_the_registered_product_of_the_batches(db, registry, users, ginseng):
    product = _with_gtin(registry)
    recall = _report(registry, users, product=None)
    assert recall.product is None
    recalls.investigate(recall, users["nanguan"], "确认", True)
    recall = recalls.file_plan(Recall.objects.get(pk=recall.pk), users["enterprise"], **PLAN)
    assert recall.product == product


def test_batch_defaults_from_a_traced_batch(db, registry, users, ginseng):
    product = _with_gtin(registry)
    found = recalls.batch_defaults(f"{chain.PRODUCT_GTIN[1:]} {chain.PRODUCT_BATCH}", users["nanguan"])
    assert found["batches"] == [chain.PRODUCT_CLASS]
    assert found["product"] == product and found["producer"] == registry["nanguan"]["entity"]
    assert found["sample"] is None and found["hazard"] == ""
    # Another county's officer does not see this producer's product: refused, in Chinese.
    with pytest.raises(recalls.RecallRefused) as refused:
        recalls.batch_defaults(chain.PRODUCT_CLASS, users["yanji"])
    assert refused.value.code == "unknown_product" and "未在本平台登记" in refused.value.message_dict["batches"][0]
    with pytest.raises(recalls.RecallRefused) as refused:
        recalls.batch_defaults(chain.SOLD_ITEM, users["nanguan"])
    assert refused.value.code == "bad_batch"


def test_officer_report_lists_due_overdue_late_and_completed(db, registry, users, ginseng, monkeypatch):
    late = _report(registry, users, aware_on=dt.date(2026, 6, 1), reported_on=dt.date(2026, 6, 12))
    running = _planned(registry, users)
    running = recalls.start(running, users["enterprise"], dt.date(2026, 6, 25))
    done = _planned(registry, users)
    done = recalls.start(done, users["enterprise"], dt.date(2026, 6, 25))
    done = recalls.complete(done, users["enterprise"], "召回完成", dt.date(2026, 8, 3), quantity_recovered=900)
    report = recalls.officer_report(Recall.objects.restrict(users["nanguan"]), on=dt.date(2026, 9, 30))
    assert [r.number for r in report["late_reports"]] == [late.number]
    assert [row["recall"].number for row in report["open_reports"]] == [late.number]
    (row,) = report["progress"]
    assert row["recall"] == running and row["due_on"] == dt.date(2026, 9, 25) and row["overdue"]
    assert row["days_overdue"] == 5
    (finished,) = report["completed"]
    assert finished["recall"] == done and finished["quantity_in_scope"] == sum(chain.RETAIL_BOXES.values())
    assert finished["effectiveness"] == Decimal("0.9")
    assert working_days_between(done.completed_on, finished["summary_due_on"]) == 15
    counts = {value: n for value, _label, n in report["counts"]["by_status"]}
    assert counts["reported"] == 1 and counts["in_progress"] == 1 and counts["completed"] == 1
    # Before the due date the report is due soon, not overdue; another county's officer sees nothing.
    soon = recalls.officer_report(Recall.objects.restrict(users["nanguan"]), on=dt.date(2026, 9, 10))
    assert soon["progress"][0]["due_soon"] and not soon["progress"][0]["overdue"]
    other = recalls.officer_report(Recall.objects.restrict(users["yanji"]), on=dt.date(2026, 9, 30))
    assert other["counts"]["total"] == 0 and not other["progress"] and not other["late_reports"]


def test_public_search_and_payload(db, registry, users, ginseng):
    product = _with_gtin(registry)
    recall = _planned(registry, users)
    recalls.publish(recall, users["nanguan"], on=dt.date(2026, 6, 21))
    hidden = _planned(registry, users)  # filed, not published
    for term in ("", product.name, registry["nanguan"]["entity"].name[:6], chain.PRODUCT_BATCH,
                 f"{chain.PRODUCT_GTIN} {chain.PRODUCT_BATCH}", chain.PRODUCT_GTIN[1:], recall.number):
        assert list(recalls.public_recalls(term)) == [recall], term
    for term in ("OTHER9", f"{chain.RAW_GTIN} {chain.RAW_BATCH}", "不存在的产品", hidden.number):
        assert list(recalls.public_recalls(term)) == [], term
    payload = recalls.public_payload(recall)
    assert payload["product"] == product.name and payload["batch_rows"] == [
        {"identifier": chain.PRODUCT_CLASS, "gtin": chain.PRODUCT_GTIN, "batch": chain.PRODUCT_BATCH,
         "all_batches": False, "path": f"/01/{chain.PRODUCT_GTIN}/10/{chain.PRODUCT_BATCH}"}]
    # What consumers should do: the plan's own words.
    assert payload["consumer_advice"] == PLAN["consumer_advice"] and payload["remedy"] == PLAN["remedy"]
    text = str(payload)
    for internal in ("scope", "investigation", "channels", "notification", PLAN["channels"], "抽检确认缺陷",
                     ginseng["shop_yanji"].name, ginseng["distributor"].name):
        assert internal not in text, internal


def test_a_recall_filed_before_the_advice_field_falls_back_to_the_remedy(db, registry, users, ginseng):
    """A published recall whose plan has no advice (filed before the plan asked for it) still tells the
    consumer to stop using the product and how it is remedied; one with advice shows only its advice."""
    recall = _planned(registry, users)
    recalls.publish(recall, users["nanguan"], on=dt.date(2026, 6, 21))
    Recall.objects.filter(pk=recall.pk).update(consumer_advice="")  # as the migration leaves older plans
    legacy = recalls.public_payload(Recall.objects.get(pk=recall.pk))["consumer_advice"]
    assert PLAN["remedy"] in legacy and "停止使用" in legacy and PLAN["consumer_advice"] not in legacy
    Recall.objects.filter(pk=recall.pk).update(consumer_advice="", remedy="")
    assert "停止使用" in recalls.public_payload(Recall.objects.get(pk=recall.pk))["consumer_advice"]
    Recall.objects.filter(pk=recall.pk).update(consumer_advice="停止使用并联系厂家", remedy="退货退款")
    assert recalls.public_payload(Recall.objects.get(pk=recall.pk))["consumer_advice"] == "停止使用并联系厂家"
