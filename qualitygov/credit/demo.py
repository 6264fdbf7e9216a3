"""Demo credit data for ``make run``: the default scoring model, a handful of penalties (one only a
warning, which is never published), awards and certifications, one entity on each list, a first
full scoring, and the cases a new user tries (a penalty of the enterprise demo user's entity whose
minimum publication period has passed, so it can apply for repair).

Idempotent: skipped when any penalty recorded by this demo exists. Uses the same service functions
as pages and API, so every fact is in the ledger, the change feed and the audit log.
"""

from __future__ import annotations

import datetime as dt
import random

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from qualitygov.core.audit import acting_as
from qualitygov.core.models import User
from qualitygov.credit import lists, scoring
from qualitygov.credit.models import Kind, ListEntry
from qualitygov.credit.services import SourceRef, record_fact
from qualitygov.registry.models import MarketEntity

__all__ = ["seed_credit_demo"]

DEMO_SOURCE = "demo"  # the source module of the demo's own facts (penalties have no module yet)
DEPARTMENTS = ("长春市市场监督管理局", "吉林市市场监督管理局", "延边朝鲜族自治州市场监督管理局", "四平市市场监督管理局")
PENALTY_GROUNDS = (
    ("生产销售不符合保障人体健康和人身、财产安全的国家标准的产品", "《中华人民共和国产品质量法》第四十九条"),
    ("在产品中掺杂、掺假，以次充好", "《中华人民共和国产品质量法》第五十条"),
    ("未取得工业产品生产许可证擅自生产列入目录的产品", "《中华人民共和国工业产品生产许可证管理条例》第四十五条"),
    ("伪造产品产地、冒用他人厂名厂址", "《中华人民共和国产品质量法》第五十三条"),
)


def _penalty(entity, number: str, occurred_on: dt.date, rng: random.Random, *, types=("fine",), amount=None,
             user=None):
    grounds, basis = rng.choice(PENALTY_GROUNDS)
    amount = amount if amount is not None else rng.choice((20000, 50000, 80000, 150000))
    details = {"penalty_types": list(types), "decision_number": number, "legal_basis": basis}
    if "fine" in types:
        details["amount"] = amount
    summary = f"{grounds}，" + ("予以警告" if set(types) == {"warning"} else f"罚款人民币{amount}元")
    return record_fact(entity=entity, kind=Kind.ADMINISTRATIVE_PENALTY, occurred_on=occurred_on,
                       source=SourceRef(DEMO_SOURCE, "penalty", number), summary=summary, details=details,
                       department=rng.choice(DEPARTMENTS), user=user).record


def seed_credit_demo(seed: int = 20121, today: dt.date | None = None) -> dict:
    """Make the demo credit data once; returns counts (or ``{"skipped": reason}``)."""
    from qualitygov.registry.demo import showcase_entity

    today = today or timezone.localdate()
    province = User.objects.filter(username="province").first()
    if province is None:
        return {"skipped": "no demo users"}
    from qualitygov.credit.models import CreditRecord

    if CreditRecord.objects.filter(source_module=DEMO_SOURCE).exists():
        return {"skipped": "credit demo exists"}
    rng = random.Random(seed)
    counts = {"penalties": 0, "positive": 0, "listed": 0}
    scoring.load_default_model()
    # Last month's scoring first (the spot-check findings are already in the ledger), so the facts
    # below move grades: each write rescores its entity, as it does in production, and the
    # dashboard's movements and the entities' grade histories have something to show.
    scoring.full_rescore(as_of=today - relativedelta(months=1), user=province)
    entities = list(MarketEntity.objects.filter(status=MarketEntity.Status.OPERATING).order_by("pk")
                    .values_list("pk", flat=True))
    if not entities:
        return {"skipped": "no entities"}
    showcase = showcase_entity()
    with acting_as(province), transaction.atomic():
        year = today.year
        # The showcase entity: a fine decided eight months ago (its three-month minimum has passed, so
        # the enterprise demo user can apply for repair) and a warning-only penalty (never published).
        if showcase is not None:
            _penalty(showcase, f"长南市监罚〔{year}〕{rng.randint(10, 99)}号", today - relativedelta(months=8), rng,
                     user=province)
            _penalty(showcase, f"长南市监罚〔{year}〕{rng.randint(100, 199)}号", today - relativedelta(months=2), rng,
                     types=("warning",), user=province)
            counts["penalties"] += 2
        picked = rng.sample(entities, min(len(entities), 60))
        for index, entity_id in enumerate(picked[:40]):
            entity = MarketEntity.objects.get(pk=entity_id)
            occurred = today - dt.timedelta(days=rng.randint(20, 900))
            types = rng.choice((("fine",), ("fine",), ("fine", "confiscation_of_income"), ("warning",)))
            _penalty(entity, f"吉市监罚〔{occurred.year}〕{1000 + index}号", occurred, rng, types=types, user=province)
            counts["penalties"] += 1
        for index, entity_id in enumerate(picked[40:]):
            kind = Kind.AWARD if index % 4 == 0 else Kind.CERTIFICATION_OBTAINED
            summary = "获吉林省质量奖提名奖" if kind == Kind.AWARD else "获得 ISO 9001 质量管理体系认证"
            record_fact(entity=entity_id, kind=kind, occurred_on=today - dt.timedelta(days=rng.randint(30, 700)),
                        source=SourceRef(DEMO_SOURCE, kind, str(entity_id)), summary=summary,
                        department="吉林省市场监督管理厅" if kind == Kind.AWARD else "中国质量认证中心", user=province)
            counts["positive"] += 1
        # One entity on each list; the serious-violation listing is older than a year, so its early
        # removal can be applied for.
        serious, abnormal = picked[0], picked[1]
        lists.list_entity(MarketEntity.objects.get(pk=serious), kind=ListEntry.Kind.SERIOUS_VIOLATION,
                          grounds="生产销售不合格儿童用品，拒不改正，情节严重",
                          legal_basis="《市场监督管理严重违法失信名单管理办法》第二条", department="吉林省市场监督管理厅",
                          decision_number=f"吉市监严列〔{year - 2}〕3号", listed_on=today - relativedelta(months=14),
                          user=province)
        lists.list_entity(MarketEntity.objects.get(pk=abnormal), kind=ListEntry.Kind.ABNORMAL_OPERATION,
                          grounds="未按规定期限公示年度报告", legal_basis="《企业信息公示暂行条例》第八条",
                          department="长春市市场监督管理局", decision_number=f"长市监异列〔{year}〕21号",
                          listed_on=today - relativedelta(months=3), user=province)
        counts["listed"] = 2
    run = scoring.full_rescore(as_of=today, user=province)
    counts["scored"] = run.entity_count
    return counts
