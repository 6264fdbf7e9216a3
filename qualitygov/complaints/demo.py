"""Demo complaints and tip-offs for ``make run`` (``qualitygov seed-complaints-demo``), after the registry,
spot-check, credit and trace demos.

About forty submissions over the last six months against demo registry entities in different counties,
through every channel and many categories, each taken as far through its workflow as its dates allow:
some only received, some accepted and in mediation, some closed with the complainant's satisfaction,
some rejected (Art. 15), tip-offs verified and filed or not, one filed tip-off linked to its penalty
(which goes to the respondent's credit file), one complaint whose violation clue was verified. Every
step goes through the same service functions as the pages and the API (``intake.submit``,
``handling.*``, ``intake.rate``), so the deadlines, events, notices, credit records and audit entries
are those a real case gets. The ended months are then published as monthly summaries
(``statistics.publish_month``), so the public portal has something to show.

The demo also makes the login of the designated role for reporter identities (Art. 33): the user
``complaints`` (南关区), member of the group "投诉举报信息管理" that holds
``complaints.view_reporter_identity``.

Idempotent: the user and group are made or updated on every run; the cases only when no complaint
case exists yet (so the demo never mixes into real data and running it twice adds nothing).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from qualitygov.complaints import handling, intake, statistics
from qualitygov.complaints.models import Case, Category, Channel, MonthlySummary, RespondentNotice
from qualitygov.core.models import Region, User
from qualitygov.core.roles import Role
from qualitygov.registry.models import MarketEntity

__all__ = ["IDENTITY_GROUP", "IDENTITY_USER", "ensure_identity_user", "seed_complaints_demo"]

IDENTITY_GROUP = "投诉举报信息管理"
IDENTITY_USER = "complaints"
SPAN_DAYS = 170  # received dates spread over the last six months or so

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林高罗郑梁谢宋唐"
GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
         "秀兰", "霞", "平", "刚", "桂英", "玉兰", "海燕", "春梅")
STREETS = ("人民大街", "解放大路", "自由大路", "长白山路", "延边大学路", "光明街", "建设街", "新华路", "胜利街", "文化路")

# (category, facts, request) of complaints; {product} and {respondent} are filled in.
COMPLAINTS = (
    (Category.PRODUCT_QUALITY, "在{respondent}购买的{product}使用不到一个月即出现故障，多次联系商家，商家拒绝按三包规定退换。",
     "按三包规定更换或退货退款"),
    (Category.PRODUCT_QUALITY, "购买的{product}到货后发现外观破损、部件缺失，与合同约定不符。", "更换合格产品"),
    (Category.FOOD_SAFETY, "在{respondent}购买的食品已超过保质期仍在销售，食用后出现腹泻。", "退还货款并依法赔偿"),
    (Category.CONTRACT_SERVICE, "在{respondent}办理的预付费会员卡尚有余额，商家以装修为由停业后拒不退还。", "退还剩余预付款"),
    (Category.PRICE, "{respondent}的商品标价与结算价格不一致，收银时多收了费用。", "退还多收的差价"),
    (Category.METROLOGY, "在{respondent}按重量购买的商品，回家复称发现短斤少两。", "补足分量或退还差价"),
    (Category.ONLINE_TRADE, "网购的{product}与商品页面描述严重不符，商家拒绝七日无理由退货。", "退货退款"),
    (Category.ADVERTISING, "{respondent}宣传其{product}具有治疗功效，购买使用后毫无效果。", "退还货款"),
)
# (category, clues) of tip-offs.
TIP_OFFS = (
    (Category.COUNTERFEIT, "{respondent}在售的{product}疑似假冒他人注册商标，包装印刷粗糙，价格明显低于市场价，"
                           "店内仓库还存放有大量同类商品。"),
    (Category.SPECIAL_EQUIPMENT, "{respondent}使用的电梯未张贴有效的定期检验合格标志，近一个月内已发生两次困人。"),
    (Category.FOOD_SAFETY, "{respondent}在居民楼内无证生产加工熟食，卫生条件很差，原料来源不明，每天上午向周边饭店供货。"),
    (Category.PRODUCT_QUALITY, "{respondent}生产的{product}未按标准进行出厂检验即发货，车间内有贴好合格证的未检产品。"),
    (Category.CERTIFICATION, "{respondent}销售的{product}属于强制性产品认证目录内的产品，但没有 CCC 认证标志。"),
)
SATISFACTION = (5, 5, 5, 4, 4, 4, 3, 2, 1)


@dataclass
class _Plan:
    """How far one demo case goes (its stage) and whether its deadlines are missed (``late``)."""

    stage: str
    late: bool = False


def ensure_identity_user(password: str | None = None) -> dict:
    """The group holding ``complaints.view_reporter_identity`` and the demo user in it (南关区 officer).
    Created or updated on every run; returns a row like the other demo logins."""
    from qualitygov.registry.demo import DEMO_PASSWORD

    password = password or DEMO_PASSWORD
    permission = Permission.objects.get(content_type__app_label="complaints", codename="view_reporter_identity")
    group, _created = Group.objects.get_or_create(name=IDENTITY_GROUP)
    group.permissions.add(permission)
    region = Region.objects.filter(code="220102").first()
    user, _created = User.objects.update_or_create(username=IDENTITY_USER, defaults={
        "role": Role.COUNTY_OFFICER, "region": region, "last_name": "周", "first_name": "静",
        "organisation": "长春市南关区市场监督管理局（投诉举报处理）", "is_active": True,
        "password": make_password(password)})
    user.groups.add(group)
    return {"username": IDENTITY_USER, "password": password, "role": str(Role.COUNTY_OFFICER.label),
            "group": IDENTITY_GROUP, "scope": region.name if region else ""}


def _officer_for(unit: Region, officers: dict, fallback: User) -> User:
    """The demo officer of the unit, else of its city, else the province officer."""
    return officers.get(unit.code) or (officers.get(unit.parent_id) if unit.parent_id else None) or fallback


def _pick_entities(rng: random.Random, count: int) -> list[MarketEntity]:
    """Operating entities with products, one per county as far as possible, the showcase entity first."""
    from qualitygov.registry.demo import showcase_entity

    rows = list(MarketEntity.objects.filter(status=MarketEntity.Status.OPERATING, region__level=Region.Level.COUNTY,
                                            products__isnull=False).distinct().order_by("pk")
                .values_list("pk", "region_id"))
    by_region: dict[str, list[int]] = {}
    for pk, region in rows:
        by_region.setdefault(region, []).append(pk)
    picked = [rng.choice(pks) for _region, pks in sorted(by_region.items())]
    rng.shuffle(picked)
    showcase = showcase_entity()
    ids = ([showcase.pk] if showcase else []) + [pk for pk in picked if not showcase or pk != showcase.pk]
    entities = {e.pk: e for e in MarketEntity.objects.filter(pk__in=ids[:count]).select_related("region")}
    return [entities[pk] for pk in ids[:count] if pk in entities]


def _person(rng: random.Random, entity: MarketEntity) -> dict:
    return {"name": rng.choice(SURNAMES) + rng.choice(GIVEN), "phone": f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}",
            "address": f"吉林省{entity.region.full_name.replace('吉林省', '').replace(' ', '')}"
                       f"{rng.choice(STREETS)}{rng.randint(1, 999)}号"}


class _Runner:
    """Takes demo cases through their workflow; a step whose date would be after today is not taken."""

    def __init__(self, rng: random.Random, today: dt.date, officers: dict, province: User):
        self.rng, self.today, self.officers, self.province = rng, today, officers, province
        self.counts = {"submissions": 0, "complaints": 0, "tip_offs": 0, "closed": 0, "rated": 0, "penalties": 0}

    def day(self, base: dt.date, low: int, high: int) -> dt.date | None:
        on = base + dt.timedelta(days=self.rng.randint(low, high))
        return on if on <= self.today else None

    def submit(self, kind: str, entity: MarketEntity, received_on: dt.date, *, anonymous=False, channel=Channel.WEB,
               template=None) -> list[Case]:
        rng = self.rng
        product = entity.products.order_by("pk").first()
        product_name = product.name if product else "商品"
        officer = _officer_for(entity.region, self.officers, self.province)
        complaint = template if kind != Case.Kind.TIP_OFF else rng.choice(COMPLAINTS)
        clue = template if kind == Case.Kind.TIP_OFF else rng.choice(TIP_OFFS)
        category, facts = (complaint[0], complaint[1]) if kind != Case.Kind.TIP_OFF else (clue[0], clue[1])
        if kind == intake.BOTH:
            facts = f"{complaint[1]} {clue[1]}"
        at = timezone.make_aware(dt.datetime.combine(received_on, dt.time(rng.randint(8, 20), rng.randint(0, 59))))
        person = {} if anonymous else _person(rng, entity)
        result = intake.submit(
            kind=kind, channel=channel, anonymous=anonymous, **person,
            description=facts.format(respondent=entity.name, product=product_name),
            request=complaint[2] if kind != Case.Kind.TIP_OFF else "",
            respondent_entity=entity, category=category, product=product,
            amount=Decimal(rng.choice((68, 199, 358, 1280, 2600, 4999))) if kind != Case.Kind.TIP_OFF else None,
            aware_on=received_on - dt.timedelta(days=rng.randint(0, 20)) if kind != Case.Kind.TIP_OFF else None,
            for_personal_consumption=True if kind != Case.Kind.TIP_OFF else None,
            entered_by=officer if channel not in intake.PUBLIC_CHANNELS else None, received_at=at)
        self.counts["submissions"] += 1
        return result.cases

    def complaint(self, case: Case, plan: _Plan) -> None:
        officer = _officer_for(case.handling_unit, self.officers, self.province)
        if plan.stage == "received":
            return
        if plan.stage == "rejected":
            on = self.day(case.received_on, 2, 6)
            if on:
                handling.reject(case, officer, ground=Case.RejectionGround.NOT_COMPETENT, on=on,
                                note="所涉纠纷属于劳动争议，不属于市场监督管理部门职责，已告知投诉人向劳动人事争议仲裁委员会申请。")
            return
        accepted = self.day(case.received_on, 12, 16) if plan.late else self.day(case.received_on, 1, 6)
        if accepted is None:
            return
        handling.accept(case, officer, on=accepted)
        if plan.stage == "accepted":
            return
        started = self.day(accepted, 1, 3)
        if started is None:
            return
        handling.start_mediation(case, officer, on=started, record="电话联系双方，双方同意调解。")
        handling.send_respondent_notice(case, officer, kind=RespondentNotice.Kind.MEDIATION, on=started,
                                        message="请于收到本通知后五个工作日内与承办人联系，参加调解。")
        if plan.stage == "mediating":
            return
        if plan.stage == "clue":
            found = self.day(started, 2, 6)
            if found is None:
                return
            handling.record_clue(case, officer, text="调解中发现被投诉人销售的同批次商品标签不符合国家标准。", on=found)
            verified = self.day(found, 5, 15)
            if verified is None:
                return
            handling.verify(case, officer, violation_found=True, on=verified,
                            findings="经现场核查，被投诉人销售的同批次商品标签缺少生产日期，违反《产品质量法》第二十七条。")
        agreement = plan.stage in ("agreement", "clue")
        ended = self.day(case.verified_on or started, 2, 25)  # a verified clue first, then the end of mediation
        if ended is None:
            return
        outcome = Case.MediationOutcome.AGREEMENT if agreement else self.rng.choice(
            (Case.MediationOutcome.NO_AGREEMENT, Case.MediationOutcome.ABSENT_OR_REFUSED))
        handling.end_mediation(case, officer, outcome=outcome, on=ended,
                               record="双方达成调解协议：被投诉人退还货款，投诉人退回商品。" if agreement else "")
        last = ended
        if not agreement:
            notified = self.day(ended, 9, 13) if plan.late else self.day(ended, 1, 5)
            if notified is None:
                return
            handling.notify_end(case, officer, on=notified)
            last = notified
        closed = self.day(last, 0, 3)
        if closed is None:
            return
        handling.close(case, officer, on=closed, outcome="调解成功，已履行协议。" if agreement
                       else "调解终止，已告知投诉人可依法向人民法院起诉或申请仲裁。")
        self.counts["closed"] += 1
        if self.rng.random() < 0.8:
            case.refresh_from_db()
            intake.rate(case, self.rng.choice(SATISFACTION), "处理及时，态度很好。")
            self.counts["rated"] += 1

    def tip_off(self, case: Case, plan: _Plan, penalty_number: str | None = None) -> None:
        officer = _officer_for(case.handling_unit, self.officers, self.province)
        if plan.stage == "received":
            return
        started = self.day(case.received_on, 1, 3)
        if started is None:
            return
        handling.start_verification(case, officer, on=started)
        if plan.stage == "verifying":
            return
        decided = self.day(started, 4, 14)
        if decided is None:
            return
        filed = plan.stage in ("filed", "penalty")
        year = decided.year
        handling.decide_filing(case, officer, decision=Case.FilingDecision.FILED if filed else Case.FilingDecision.NOT_FILED,
                               on=decided, enforcement_case_number=f"吉市监立〔{year}〕{case.pk:04d}号" if filed else "",
                               note="" if filed else "经现场核查，未发现举报所称违法行为。")
        last = decided
        if not case.submission.anonymous:
            notified = self.day(decided, 6, 9) if plan.late else self.day(decided, 1, 4)
            if notified is None:
                return
            handling.notify_reporter(case, officer, on=notified)
            last = notified
        if plan.stage == "penalty" and penalty_number:
            penalised = self.day(last, 10, 20)
            if penalised is None:
                return
            handling.link_penalty(case, officer, penalty_decision_number=penalty_number, decided_on=penalised,
                                  on=penalised, fine_amount=Decimal("30000"), confiscation_amount=Decimal("8600"))
            self.counts["penalties"] += 1
            last = penalised
        closed = self.day(last, 1, 5)
        if closed is None or plan.stage == "filed":
            return
        handling.close(case, officer, on=closed, outcome="已依法作出行政处罚并结案。" if plan.stage == "penalty"
                       else "经核查未发现违法行为，不予立案。")
        self.counts["closed"] += 1


COMPLAINT_STAGES = ("received", "rejected", "accepted", "mediating", "agreement", "agreement", "no_agreement",
                    "no_agreement", "agreement", "clue")
TIP_OFF_STAGES = ("received", "verifying", "filed", "not_filed", "not_filed")
CHANNELS = (Channel.WEB, Channel.WEB, Channel.WEB, Channel.WEB, Channel.PHONE, Channel.PHONE, Channel.LETTER,
            Channel.COUNTER, Channel.FAX, Channel.API)


def seed_complaints_demo(seed: int = 20121, today: dt.date | None = None, count: int = 40) -> dict:
    """Make the demo complaints once (see the module docstring); returns counts, or ``{"skipped": …}``
    with the identity user's login."""
    today = today or timezone.localdate()
    if today > timezone.localdate():
        # The handling steps refuse dates after today, as they do for officers.
        raise ValueError(f"参考日期 {today} 晚于今天，演示案件的办理日期不能晚于今天。")
    province = User.objects.filter(username="province").first()
    if province is None:
        return {"skipped": "no demo users (run qualitygov seed-demo first)"}
    login = ensure_identity_user()
    if Case.objects.exists():
        return {"skipped": "complaint cases exist", "identity_user": login}
    rng = random.Random(seed)
    entities = _pick_entities(rng, 24)
    if not entities:
        return {"skipped": "no registry entities with products", "identity_user": login}
    officers = {u.region_id: u for u in User.objects.filter(
        username__in=("nanguan", "yanji", "changchun"), is_active=True)}
    runner = _Runner(rng, today, officers, province)
    penalty_done = False
    with transaction.atomic():
        for index in range(count):
            entity = entities[index % len(entities)]
            # The most recent days hold the newest, not yet handled submissions.
            received_on = today - dt.timedelta(days=rng.randint(1, 5) if index % 10 == 0 else rng.randint(6, SPAN_DAYS))
            channel = CHANNELS[index % len(CHANNELS)]
            late = rng.random() < 0.15
            if index % 10 == 0:
                plan_kind, stage = (Case.Kind.COMPLAINT, "received")
            elif index % 4 == 3:
                plan_kind, stage = Case.Kind.TIP_OFF, rng.choice(TIP_OFF_STAGES[1:])
            else:
                plan_kind, stage = Case.Kind.COMPLAINT, rng.choice(COMPLAINT_STAGES[1:])
            if plan_kind == Case.Kind.TIP_OFF and not penalty_done and received_on < today - dt.timedelta(days=80):
                stage, penalty_done = "penalty", True
            if index == 0:  # the showcase entity (the enterprise demo user's): a complaint in mediation
                received_on, stage, plan_kind = today - dt.timedelta(days=20), "mediating", Case.Kind.COMPLAINT
            anonymous = plan_kind == Case.Kind.TIP_OFF and channel in intake.PUBLIC_CHANNELS and rng.random() < 0.5
            if plan_kind == Case.Kind.TIP_OFF:
                template = rng.choice(TIP_OFFS)
            else:
                template = rng.choice(COMPLAINTS)
            cases = runner.submit(plan_kind, entity, received_on, anonymous=anonymous, channel=channel,
                                  template=template)
            for case in cases:
                plan = _Plan(stage, late)
                if case.kind == Case.Kind.COMPLAINT:
                    runner.counts["complaints"] += 1
                    runner.complaint(case, plan)
                else:
                    # The decision number names the unit that decided (the case's handling unit).
                    runner.tip_off(case, plan,
                                   penalty_number=f"{case.handling_unit.name}市监罚〔{today.year}〕{30 + index}号")
                    runner.counts["tip_offs"] += 1
        # One submission that is both a complaint and a tip-off (Art. 7): two linked cases.
        entity = entities[1 % len(entities)]
        both = runner.submit(intake.BOTH, entity, today - dt.timedelta(days=30), template=COMPLAINTS[0])
        for case in both:
            runner.counts["complaints" if case.kind == Case.Kind.COMPLAINT else "tip_offs"] += 1
            if case.kind == Case.Kind.COMPLAINT:
                runner.complaint(case, _Plan("accepted"))
            else:
                runner.tip_off(case, _Plan("verifying"))
    published = []
    first = statistics.month_start(today - dt.timedelta(days=SPAN_DAYS))
    month = first
    while statistics.month_end(month) < today:
        if not MonthlySummary.objects.filter(month=month).exists():
            statistics.publish_month(province, month, today=today)
            published.append(month.strftime("%Y-%m"))
        month = statistics.month_start(statistics.month_end(month) + dt.timedelta(days=1))
    return {**runner.counts, "published_months": published, "identity_user": login}
