"""The quality credit ledger (信用档案): one record per fact about a market entity.

Every module hands its findings to this ledger through ``credit.services.record_fact``; nothing
else writes here. Scores, risk classes, lists and repair (issue 4) build on these records.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.models import BaseModel, RestrictedQuerySet
from qualitygov.core.roles import ADD, CHANGE, EXPORT, VIEW, Role


class Kind(models.TextChoices):
    """What the fact is (issue 4, item 1)."""

    SPOT_CHECK_UNQUALIFIED = "spot_check_unqualified", _("监督抽查不合格")
    SPOT_CHECK_SERIOUS = "spot_check_serious", _("监督抽查严重不合格")
    REFUSED_SAMPLING = "refused_sampling", _("拒绝监督抽查")
    ADMINISTRATIVE_PENALTY = "administrative_penalty", _("行政处罚")
    LICENCE_SUSPENSION = "licence_suspension", _("许可证件暂扣")
    LICENCE_REVOCATION = "licence_revocation", _("许可证件吊销")
    QUALITY_ACCIDENT = "quality_accident", _("质量事故")
    VERIFIED_COMPLAINT = "verified_complaint", _("投诉属实")
    VERIFIED_TIP_OFF = "verified_tip_off", _("举报属实")
    RECALL = "recall", _("缺陷产品召回")
    CERTIFICATION_OBTAINED = "certification_obtained", _("获得认证")
    CERTIFICATION_WITHDRAWN = "certification_withdrawn", _("认证撤销")
    AWARD = "award", _("质量奖励")
    ABNORMAL_OPERATION_LISTING = "abnormal_operation_listing", _("列入经营异常名录")
    SERIOUS_VIOLATION_LISTING = "serious_violation_listing", _("列入严重违法失信名单")


class Polarity(models.TextChoices):
    NEGATIVE = "negative", _("失信")
    POSITIVE = "positive", _("守信")


# Kinds that speak for an entity; every other kind speaks against it.
POSITIVE_KINDS = frozenset({Kind.CERTIFICATION_OBTAINED, Kind.AWARD})


def polarity_of(kind: str) -> str:
    """Whether a kind of fact counts for (positive) or against (negative) the entity."""
    return Polarity.POSITIVE if kind in POSITIVE_KINDS else Polarity.NEGATIVE


class CreditRecordQuerySet(RestrictedQuerySet):
    def publicly_visible(self, on: dt.date | None = None):
        """Records the public may see on ``on`` (default today): publishable, still in force, and
        inside their publication window. Revoked, repaired and expired records are withdrawn from
        publication (SAMR Order 45 Art. 11, 13, 14: ../shared/policy/laws/samr-penalty-info-disclosure.md)."""
        on = on or timezone.localdate()
        return self.filter(publishable=True, state=CreditRecord.State.ACTIVE, publish_from__lte=on,
                           publish_until__gte=on)


class CreditRecord(BaseModel):
    """One fact in an entity's quality credit file (信用档案), with its source and publication window.

    Idempotent on its source: (source_module, source_type, source_id, kind) names the record that
    produced the fact, so a module that reports the same finding twice gets the same record back.
    Records are never deleted: an overturned source is *revoked*, a repaired one *repaired*, and one
    past its publication window *expired*; all stay in the ledger with their history.
    """

    class State(models.TextChoices):
        ACTIVE = "active", _("有效")
        EXPIRED = "expired", _("公示期满")
        REPAIRED = "repaired", _("已信用修复")
        REVOKED = "revoked", _("已撤销")

    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.PROTECT, related_name="credit_records")
    kind = models.CharField(_("信用事项"), max_length=40, choices=Kind.choices)
    polarity = models.CharField(_("性质"), max_length=8, choices=Polarity.choices, editable=False)
    occurred_on = models.DateField(_("发生日期"), help_text=_("决定、结论或事实发生的日期。"))
    summary = models.TextField(_("摘要"))
    details = models.JSONField(_("详细信息"), default=dict, blank=True,
                               help_text=_("决定书文号、法律依据、罚没金额、不合格项目等。"))
    source_module = models.CharField(_("来源模块"), max_length=32)
    source_type = models.CharField(_("来源记录类型"), max_length=64)
    source_id = models.CharField(_("来源记录编号"), max_length=64)
    department = models.CharField(_("认定部门"), max_length=128, blank=True)
    publishable = models.BooleanField(_("可公示"), default=False)
    publish_from = models.DateField(_("公示起始日"), null=True, blank=True)
    # Publication may end early on repair once the minimum has passed, and ends by itself at the maximum.
    publish_min_until = models.DateField(_("最短公示期满日"), null=True, blank=True)
    publish_until = models.DateField(_("最长公示期满日"), null=True, blank=True)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.ACTIVE, db_index=True)
    state_reason = models.TextField(_("状态变更原因"), blank=True)
    state_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    objects = CreditRecordQuerySet.as_manager()
    scope_region_field = "entity__region__code"
    scope_entity_field = "entity"
    # Writes go only through credit.services, never through pages or the API, so every role reads at
    # most. The enterprise reads its own file; lab staff test samples and have no business with
    # credit files; data consumers read through the API only (and see only what is published, below).
    role_actions = {
        Role.PROVINCE_ADMIN: {VIEW, EXPORT},
        Role.PROVINCE_OFFICER: {VIEW, EXPORT},
        Role.CITY_OFFICER: {VIEW, EXPORT},
        Role.COUNTY_OFFICER: {VIEW, EXPORT},
        Role.INSPECTOR: {VIEW, EXPORT},
        Role.LAB_STAFF: set(),
        Role.ENTERPRISE: {VIEW, EXPORT},
        Role.DATA_CONSUMER: {VIEW},
    }

    class Meta:
        ordering = ["-occurred_on", "-id"]
        verbose_name = pgettext_lazy("model name", "信用记录")
        verbose_name_plural = _("信用档案")
        indexes = [
            models.Index(fields=["entity", "-occurred_on"], name="credit_entity_date_idx"),
            models.Index(fields=["kind", "state"], name="credit_kind_state_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["source_module", "source_type", "source_id", "kind"],
                                    name="credit_one_record_per_source_kind",
                                    violation_error_message=_("同一来源记录的同一信用事项只能记录一次。")),
            models.CheckConstraint(condition=models.Q(kind__in=Kind.values), name="credit_kind_known",
                                   violation_error_message=_("未知的信用事项类型。")),
            models.CheckConstraint(
                condition=models.Q(polarity=Polarity.POSITIVE, kind__in=sorted(POSITIVE_KINDS))
                | (models.Q(polarity=Polarity.NEGATIVE) & ~models.Q(kind__in=sorted(POSITIVE_KINDS))),
                name="credit_polarity_matches_kind",
                violation_error_message=_("信用记录的性质与信用事项不一致。")),
            models.CheckConstraint(
                condition=models.Q(publishable=False)
                | models.Q(publish_from__isnull=False, publish_min_until__isnull=False, publish_until__isnull=False),
                name="credit_publishable_has_window",
                violation_error_message=_("可公示的信用记录必须有公示起始日、最短和最长公示期满日。")),
            models.CheckConstraint(
                condition=models.Q(publish_from__isnull=True) | models.Q(publish_min_until__isnull=True)
                | models.Q(publish_min_until__gte=models.F("publish_from")),
                name="credit_window_min_after_start",
                violation_error_message=_("最短公示期满日不能早于公示起始日。")),
            models.CheckConstraint(
                condition=models.Q(publish_min_until__isnull=True) | models.Q(publish_until__isnull=True)
                | models.Q(publish_until__gte=models.F("publish_min_until")),
                name="credit_window_min_not_after_max",
                violation_error_message=_("最短公示期满日不能晚于最长公示期满日。")),
            models.CheckConstraint(condition=~models.Q(source_module="") & ~models.Q(source_id=""),
                                   name="credit_source_given",
                                   violation_error_message=_("信用记录必须注明来源模块和来源记录。")),
        ]

    def __str__(self) -> str:
        return f"{self.entity} · {self.get_kind_display()} · {self.occurred_on:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        # Polarity is a property of the kind, never typed in.
        self.polarity = polarity_of(self.kind)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("credit:creditrecord_detail", args=[self.pk])

    @property
    def source_label(self) -> str:
        return f"{self.source_module}.{self.source_type}#{self.source_id}"

    @classmethod
    def apply_scope(cls, queryset, user):
        queryset = super().apply_scope(queryset, user)
        if user.role == Role.DATA_CONSUMER:
            # Other departments receive what the law makes public, not internal findings or a
            # warning-only penalty (issue 4: "the public never sees ... a warning-only penalty").
            queryset = queryset.publicly_visible()
        return queryset


# --- scoring (issue 4, items 2 and 3) --------------------------------------------------------------

class Grade(models.TextChoices):
    """Public credit grade, best first."""

    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class RiskClass(models.TextChoices):
    """Internal credit-risk class (A low … D high); drives the spot-check draw, never shown to the
    public or the entity."""

    A = "A", _("A 类（低风险）")
    B = "B", _("B 类（一般风险）")
    C = "C", _("C 类（较高风险）")
    D = "D", _("D 类（高风险）")


class ScoreModel(BaseModel):
    """One version of the quality-credit scoring model; its parameters are data, immutable once used.

    ``points``: record kind → points (negative for dishonest facts, positive for honest ones);
    ``half_life_days``: record kind (or ``"*"`` for the rest) → days after which a record's points halve;
    ``grade_thresholds``: ``[["AAA", 95], ["AA", 90], …]`` — the first grade whose minimum the score
    reaches, else D; ``risk_thresholds``: the same for the internal risk class (``[["A", 95], …]``).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("草案")
        ACTIVE = "active", _("现行")
        RETIRED = "retired", _("已停用")

    version = models.CharField(_("模型版本"), max_length=32, unique=True)
    description = models.TextField(_("说明"), blank=True)
    base_score = models.DecimalField(_("基础分"), max_digits=7, decimal_places=2, default=100)
    points = models.JSONField(_("各类记录分值"))
    half_life_days = models.JSONField(_("分值半衰期（天）"))
    grade_thresholds = models.JSONField(_("公示等级分数线"))
    risk_thresholds = models.JSONField(_("风险分类分数线"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    used = models.BooleanField(_("已被评分使用"), default=False, editable=False)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = None
    scope_entity_field = None
    role_actions = {role: set() for role in Role.values} | {
        Role.PROVINCE_ADMIN: {VIEW}, Role.PROVINCE_OFFICER: {VIEW}, Role.CITY_OFFICER: {VIEW},
        Role.COUNTY_OFFICER: {VIEW}}

    class Meta:
        ordering = ["-created"]
        verbose_name = pgettext_lazy("model name", "信用评分模型")
        verbose_name_plural = _("信用评分模型")
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=models.Q(status="active"),
                                    name="score_model_one_active",
                                    violation_error_message=_("同一时间只能有一个现行评分模型。")),
        ]

    def __str__(self) -> str:
        return f"{self.version}（{self.get_status_display()}）"


class ScoringRun(models.Model):
    """One rescoring (full or incremental): its model, counts, grade distribution and duration."""

    class Kind(models.TextChoices):
        FULL = "full", _("全量评分")
        INCREMENTAL = "incremental", _("增量评分")

    class Status(models.TextChoices):
        RUNNING = "running", _("进行中")
        SUCCEEDED = "succeeded", _("成功")
        FAILED = "failed", _("失败")

    model = models.ForeignKey(ScoreModel, verbose_name=_("评分模型"), on_delete=models.PROTECT, related_name="runs")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    as_of = models.DateField(_("评分基准日"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), null=True, blank=True)
    entity_count = models.PositiveIntegerField(_("评分主体数"), default=0)
    record_count = models.PositiveIntegerField(_("计入记录数"), default=0)
    grade_distribution = models.JSONField(_("等级分布"), default=dict, blank=True)
    risk_distribution = models.JSONField(_("风险分类分布"), default=dict, blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    triggered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="scoring_runs")

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = pgettext_lazy("model name", "信用评分批次")
        verbose_name_plural = _("信用评分批次")

    def __str__(self) -> str:
        return f"{self.model.version} {self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"


class EntityScore(models.Model):
    """An entity's current quality-credit score, grade and internal risk class, with the model and
    run that produced them. The explanation (records and points) is recomputed from the model
    version and ``as_of`` date on demand, so it always matches the stored score."""

    # Rows are written only by the scoring statement, from existing entities and the locked model and
    # run, so the database keeps no foreign-key constraints here: on PostgreSQL their per-row checks
    # at commit took a third of a full rescoring (bench/bench_rescore.py). Django still applies
    # on_delete (cascade, protect) when entities, models or runs are deleted.
    entity = models.OneToOneField("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                                  on_delete=models.CASCADE, related_name="credit_score", db_constraint=False)
    model = models.ForeignKey(ScoreModel, verbose_name=_("评分模型"), on_delete=models.PROTECT, related_name="scores",
                              db_constraint=False, db_index=False)
    run = models.ForeignKey(ScoringRun, verbose_name=_("评分批次"), null=True, blank=True, on_delete=models.SET_NULL,
                            db_constraint=False,
                            related_name="scores")
    as_of = models.DateField(_("评分基准日"))
    score = models.DecimalField(_("信用分"), max_digits=7, decimal_places=2)
    # No indexes: the grade and class are read with their entity or counted over every row.
    grade = models.CharField(_("信用等级"), max_length=3, choices=Grade.choices)
    risk_class = models.CharField(_("风险分类"), max_length=1, choices=RiskClass.choices)
    record_count = models.PositiveIntegerField(_("计入记录数"), default=0)
    computed_at = models.DateTimeField(_("计算时间"), default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("model name", "信用评分")
        verbose_name_plural = _("信用评分")

    def __str__(self) -> str:
        return f"{self.entity_id} {self.score} {self.grade}"


# --- lists (issue 4, item 4) -------------------------------------------------------------------------

class ListEntry(BaseModel):
    """An entity's entry on the serious-violation list (严重违法失信名单, SAMR Order 44) or the
    abnormal-operation list (经营异常名录), from listing to removal. The listing is also a fact in the
    entity's credit file (``credit.services.record_fact`` with this entry as its source)."""

    class Kind(models.TextChoices):
        SERIOUS_VIOLATION = "serious_violation", _("严重违法失信名单")
        ABNORMAL_OPERATION = "abnormal_operation", _("经营异常名录")

    class Status(models.TextChoices):
        LISTED = "listed", _("在列")
        REMOVED = "removed", _("已移出")

    class RemovalReason(models.TextChoices):
        TERM_ENDED = "term_ended", _("期满移出")
        EARLY = "early", _("申请提前移出")
        CORRECTED = "corrected", _("改正后移出")
        DECISION_REVOKED = "decision_revoked", _("列入决定被撤销")

    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.PROTECT, related_name="list_entries")
    kind = models.CharField(_("名单类型"), max_length=24, choices=Kind.choices, db_index=True)
    grounds = models.TextField(_("列入事由"))
    legal_basis = models.CharField(_("列入依据"), max_length=255)
    decision_number = models.CharField(_("列入决定书文号"), max_length=64)
    department = models.CharField(_("作出决定的部门"), max_length=128)
    listed_on = models.DateField(_("列入日期"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.LISTED, db_index=True)
    removal_due_on = models.DateField(_("期满移出日期"), null=True, blank=True)
    early_removal_from = models.DateField(_("可申请提前移出日期"), null=True, blank=True)
    removed_on = models.DateField(_("移出日期"), null=True, blank=True)
    removal_reason = models.CharField(_("移出原因"), max_length=24, choices=RemovalReason.choices, blank=True)
    removal_note = models.TextField(_("移出说明"), blank=True)
    listed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("列入经办人"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="list_entries_made")
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("移出经办人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="list_entries_removed")

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "entity__region__code"
    scope_entity_field = "entity_id"
    # ADD = a listing decision, CHANGE = a removal or revocation; both only through ``credit.lists``
    # (the pages and the API have no generic edit or delete for entries).
    role_actions = {
        Role.PROVINCE_ADMIN: {VIEW, ADD, CHANGE, EXPORT}, Role.PROVINCE_OFFICER: {VIEW, ADD, CHANGE, EXPORT},
        Role.CITY_OFFICER: {VIEW, ADD, CHANGE, EXPORT}, Role.COUNTY_OFFICER: {VIEW, ADD, CHANGE, EXPORT},
        Role.INSPECTOR: {VIEW}, Role.LAB_STAFF: set(), Role.ENTERPRISE: {VIEW}, Role.DATA_CONSUMER: {VIEW},
    }

    class Meta:
        ordering = ["-listed_on", "-id"]
        verbose_name = pgettext_lazy("model name", "名单记录")
        verbose_name_plural = _("名单记录")
        constraints = [
            models.UniqueConstraint(fields=["entity", "kind"], condition=models.Q(status="listed"),
                                    name="list_entry_one_open_per_kind",
                                    violation_error_message=_("该市场主体已在此名单中。")),
            models.CheckConstraint(condition=models.Q(status="listed") | models.Q(removed_on__isnull=False),
                                   name="list_entry_removed_has_date",
                                   violation_error_message=_("已移出的记录须有移出日期。")),
        ]

    def __str__(self) -> str:
        return f"{self.entity} · {self.get_kind_display()}（{self.get_status_display()}）"


class ScoreHistory(models.Model):
    """A score that a later run replaced, kept as it was: its model version, run, ``as_of``, score,
    grade and risk class. Written by the rescoring in the same statement that removes it from
    ``EntityScore``, so a model change gives new scores under the new version while the old scores
    keep theirs (issue 4). Append-only."""

    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.CASCADE, related_name="score_history", db_constraint=False)
    # As for EntityScore: written only by the scoring statement, so no per-row constraint checks.
    model = models.ForeignKey(ScoreModel, verbose_name=_("评分模型"), on_delete=models.PROTECT, related_name="+",
                              db_constraint=False, db_index=False)
    run = models.ForeignKey(ScoringRun, verbose_name=_("评分批次"), null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+", db_constraint=False, db_index=False)
    superseded_by = models.ForeignKey(ScoringRun, verbose_name=_("被替代于评分批次"), on_delete=models.CASCADE,
                                      related_name="superseded_scores", db_constraint=False)
    as_of = models.DateField(_("评分基准日"))
    score = models.DecimalField(_("信用分"), max_digits=7, decimal_places=2)
    grade = models.CharField(_("信用等级"), max_length=3, choices=Grade.choices)
    risk_class = models.CharField(_("风险分类"), max_length=1, choices=RiskClass.choices)
    record_count = models.PositiveIntegerField(_("计入记录数"), default=0)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        ordering = ["-computed_at", "-id"]
        verbose_name = pgettext_lazy("model name", "历史信用评分")
        verbose_name_plural = _("历史信用评分")
        indexes = [models.Index(fields=["entity", "-computed_at"], name="credit_history_entity_idx")]

    def __str__(self) -> str:
        return f"{self.entity_id} {self.score} {self.grade} ({self.as_of})"


class GradeChange(models.Model):
    """A movement of an entity's public grade between two scorings (for the dashboards' movement
    matrix and the change feed). Written by the rescoring in SQL, one row per entity whose grade
    differs from the grade it had before the run; an entity scored for the first time has no row."""

    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.CASCADE, related_name="grade_changes", db_constraint=False)
    run = models.ForeignKey(ScoringRun, verbose_name=_("评分批次"), on_delete=models.CASCADE,
                            related_name="grade_changes", db_constraint=False)
    from_grade = models.CharField(_("原等级"), max_length=3, choices=Grade.choices)
    to_grade = models.CharField(_("新等级"), max_length=3, choices=Grade.choices)
    changed_at = models.DateTimeField(_("变动时间"), db_index=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = pgettext_lazy("model name", "信用等级变动")
        verbose_name_plural = _("信用等级变动")
        indexes = [models.Index(fields=["entity", "-changed_at"], name="credit_grade_change_entity_idx")]

    def __str__(self) -> str:
        return f"{self.entity_id} {self.from_grade}→{self.to_grade}"


# --- credit repair (issue 4, item 5) ----------------------------------------------------------------

class RepairApplication(BaseModel):
    """An enterprise's application for credit repair (信用修复) and its handling: received, accepted
    (受理) or refused at intake, verified, decided; the effect applies when approved (see
    ``credit.repair``). Deadlines are working days (China calendar) computed when each step starts."""

    class Target(models.TextChoices):
        PENALTY_PUBLICATION = "penalty_publication", _("提前停止公示行政处罚信息")
        SERIOUS_LIST = "serious_list", _("提前移出严重违法失信名单")
        ABNORMAL_LIST = "abnormal_list", _("移出经营异常名录")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已提交，待受理")
        ACCEPTED = "accepted", _("已受理，核实中")
        NOT_ACCEPTED = "not_accepted", _("不予受理")
        APPROVED = "approved", _("准予修复")
        DENIED = "denied", _("不予修复")
        WITHDRAWN = "withdrawn", _("已撤回")

    OPEN_STATUSES = ("submitted", "accepted")

    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.PROTECT, related_name="repair_applications")
    target = models.CharField(_("修复事项"), max_length=24, choices=Target.choices)
    record = models.ForeignKey(CreditRecord, verbose_name=_("信用记录"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="repair_applications")
    list_entry = models.ForeignKey(ListEntry, verbose_name=_("名单记录"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="repair_applications")
    reason = models.TextField(_("申请理由"))
    commitment = models.BooleanField(_("已作出信用承诺"), default=False)
    conditions = models.JSONField(_("申请人声明满足的条件"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED,
                              db_index=True)
    received_on = models.DateField(_("收到申请日期"))
    # Null while the deadline falls in a year whose holiday arrangement is not yet published (see
    # ``credit.repair._due``).
    accept_due_on = models.DateField(_("受理期限"), null=True, blank=True)
    accepted_on = models.DateField(_("受理日期"), null=True, blank=True)
    decide_due_on = models.DateField(_("决定期限"), null=True, blank=True)
    verification_note = models.TextField(_("核实情况"), blank=True)
    decided_on = models.DateField(_("决定日期"), null=True, blank=True)
    decision_note = models.TextField(_("决定理由"), blank=True)
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("申请人"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="repair_applications")
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="repair_applications_handled")

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "entity__region__code"
    scope_entity_field = "entity_id"
    # The enterprise applies (ADD) and withdraws; officers of the competent unit accept, verify and
    # decide (CHANGE). Every step goes through ``credit.repair``.
    role_actions = {
        Role.PROVINCE_ADMIN: {VIEW, CHANGE, EXPORT}, Role.PROVINCE_OFFICER: {VIEW, CHANGE, EXPORT},
        Role.CITY_OFFICER: {VIEW, CHANGE, EXPORT}, Role.COUNTY_OFFICER: {VIEW, CHANGE, EXPORT},
        Role.INSPECTOR: {VIEW}, Role.LAB_STAFF: set(), Role.ENTERPRISE: {VIEW, ADD, CHANGE},
        Role.DATA_CONSUMER: set(),
    }

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = pgettext_lazy("model name", "信用修复申请")
        verbose_name_plural = _("信用修复申请")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(target="penalty_publication", record__isnull=False, list_entry__isnull=True)
                           | (~models.Q(target="penalty_publication") & models.Q(list_entry__isnull=False))),
                name="repair_names_its_subject",
                violation_error_message=_("修复申请必须指向一条行政处罚信用记录或一条名单记录。")),
            models.UniqueConstraint(fields=["record"], condition=models.Q(status__in=["submitted", "accepted"]),
                                    name="repair_one_open_per_record",
                                    violation_error_message=_("该信用记录已有一份正在办理的修复申请。")),
            models.UniqueConstraint(fields=["list_entry"],
                                    condition=models.Q(status__in=["submitted", "accepted"]),
                                    name="repair_one_open_per_list_entry",
                                    violation_error_message=_("该名单记录已有一份正在办理的修复申请。")),
        ]

    def __str__(self) -> str:
        return f"{self.entity} · {self.get_target_display()}（{self.get_status_display()}）"

    def get_absolute_url(self):
        return reverse("credit:repairapplication_detail", args=[self.pk])


# --- public query: the entity's statement and objections (issue 4, item 6) ---------------------------

class EntityStatement(BaseModel):
    """The entity's right-to-reply statement (情况说明), shown on the public page beside the record it
    answers. One current statement per record; an officer may withdraw one that is unlawful or
    abusive (with a reason), which hides it."""

    record = models.OneToOneField(CreditRecord, verbose_name=_("信用记录"), on_delete=models.PROTECT,
                                  related_name="statement")
    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.PROTECT, related_name="credit_statements")
    text = models.TextField(_("情况说明"), max_length=2000)
    visible = models.BooleanField(_("公开显示"), default=True)
    hidden_reason = models.TextField(_("不予显示的理由"), blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提交人"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "entity__region__code"
    scope_entity_field = "entity_id"
    role_actions = {
        Role.PROVINCE_ADMIN: {VIEW, CHANGE}, Role.PROVINCE_OFFICER: {VIEW, CHANGE}, Role.CITY_OFFICER: {VIEW, CHANGE},
        Role.COUNTY_OFFICER: {VIEW, CHANGE}, Role.INSPECTOR: {VIEW}, Role.LAB_STAFF: set(),
        Role.ENTERPRISE: {VIEW, ADD, CHANGE}, Role.DATA_CONSUMER: set(),
    }

    class Meta:
        ordering = ["-updated"]
        verbose_name = pgettext_lazy("model name", "主体情况说明")
        verbose_name_plural = _("主体情况说明")

    def __str__(self) -> str:
        return f"{self.entity} · {self.record_id}"


class CreditObjection(BaseModel):
    """An objection (异议) to a published credit record: anyone with evidence may ask that inaccurate
    published information be corrected (Enterprise Information Disclosure Regulation Art. 12;
    SAMR Order 45 Art. 12). While it is under review the entity's public page says
    "re-evaluation pending"."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("已收到，核查中")
        UPHELD = "upheld", _("异议成立，已更正")
        REJECTED = "rejected", _("异议不成立")

    OPEN_STATUSES = ("received",)

    record = models.ForeignKey(CreditRecord, verbose_name=_("信用记录"), on_delete=models.PROTECT,
                               related_name="objections")
    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.PROTECT, related_name="credit_objections")
    tracking_number = models.CharField(_("受理编号"), max_length=32, unique=True)
    name = models.CharField(_("异议人"), max_length=100)
    contact = models.CharField(_("联系方式"), max_length=100)
    grounds = models.TextField(_("异议理由及证据"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.RECEIVED,
                              db_index=True)
    received_on = models.DateField(_("收到日期"))
    # Null while the deadline falls in a year whose holiday arrangement is not yet published.
    answer_due_on = models.DateField(_("答复期限"), null=True, blank=True)
    answered_on = models.DateField(_("答复日期"), null=True, blank=True)
    answer = models.TextField(_("答复"), blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提交账号"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "entity__region__code"
    scope_entity_field = "entity_id"
    # The objector's name and contact are personal data: officers only; the entity sees that an
    # objection exists through the public flag, not who made it. They stay out of the audit log,
    # which other roles can read.
    audit_exclude = ("created", "updated", "name", "contact")
    role_actions = {
        Role.PROVINCE_ADMIN: {VIEW, CHANGE, EXPORT}, Role.PROVINCE_OFFICER: {VIEW, CHANGE, EXPORT},
        Role.CITY_OFFICER: {VIEW, CHANGE, EXPORT}, Role.COUNTY_OFFICER: {VIEW, CHANGE, EXPORT},
        Role.INSPECTOR: set(), Role.LAB_STAFF: set(), Role.ENTERPRISE: set(), Role.DATA_CONSUMER: set(),
    }

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = pgettext_lazy("model name", "信用信息异议")
        verbose_name_plural = _("信用信息异议")

    def __str__(self) -> str:
        return self.tracking_number


# --- data sharing (issue 4, item 7) -----------------------------------------------------------------

class ChangeEvent(models.Model):
    """One entry of the change feed that sharing partners read with ``since=``: a public credit fact
    added, changed, withdrawn (revoked, expired, repaired), a listing or removal, a repair decision,
    a grade change. Append-only; the id is the cursor. ``payload`` holds only public fields."""

    class Kind(models.TextChoices):
        RECORD_PUBLISHED = "record_published", _("信用记录公示")
        RECORD_CHANGED = "record_changed", _("信用记录变更")
        RECORD_WITHDRAWN = "record_withdrawn", _("信用记录撤下公示")
        LISTED = "listed", _("列入名单")
        REMOVED = "removed", _("移出名单")
        REPAIR_DECIDED = "repair_decided", _("信用修复决定")
        GRADE_CHANGED = "grade_changed", _("信用等级变动")

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(_("发生时间"), default=timezone.now, db_index=True)
    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.PROTECT, related_name="credit_changes")
    kind = models.CharField(_("变动类型"), max_length=24, choices=Kind.choices, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象编号"), max_length=64)
    payload = models.JSONField(_("内容"), default=dict)

    class Meta:
        ordering = ["id"]
        verbose_name = pgettext_lazy("model name", "信用变动")
        verbose_name_plural = _("信用变动订阅")

    def __str__(self) -> str:
        return f"#{self.id} {self.kind} {self.entity_id}"


class SharingKey(BaseModel):
    """An API key of a partner department (finance, securities, public procurement, …) with the fields
    it may read and its rate limit. Only a SHA-256 digest of the secret is stored; the secret is
    shown once when the key is issued."""

    class Department(models.TextChoices):
        FINANCE = "finance", _("金融监管")
        SECURITIES = "securities", _("证券监管")
        PROCUREMENT = "procurement", _("公共资源交易与政府采购")
        TAX = "tax", _("税务")
        DEVELOPMENT_REFORM = "development_reform", _("发展改革（信用办）")
        INDUSTRY = "industry", _("工业和信息化")
        OTHER = "other", _("其他部门")

    name = models.CharField(_("名称"), max_length=128)
    department = models.CharField(_("部门类别"), max_length=24, choices=Department.choices)
    department_name = models.CharField(_("部门全称"), max_length=128)
    prefix = models.CharField(_("密钥前缀"), max_length=16, unique=True)
    secret_hash = models.CharField(_("密钥摘要"), max_length=64, editable=False)
    fields = models.JSONField(_("可读字段"), default=list)
    rate_limit_per_minute = models.PositiveIntegerField(_("每分钟请求上限"), default=60)
    active = models.BooleanField(_("有效"), default=True)
    expires_on = models.DateField(_("有效期至"), null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("签发人"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = None
    scope_entity_field = None
    # The digest stays out of the audit log; the last use changes on every request.
    audit_exclude = ("created", "updated", "secret_hash", "last_used_at")
    # Keys are issued by the province (the platform operator) only.
    role_actions = {role: set() for role in Role.values} | {
        Role.PROVINCE_ADMIN: {VIEW, ADD, CHANGE}, Role.PROVINCE_OFFICER: {VIEW}}

    class Meta:
        ordering = ["name"]
        verbose_name = pgettext_lazy("model name", "共享接口密钥")
        verbose_name_plural = _("共享接口密钥")
        constraints = [
            models.CheckConstraint(condition=models.Q(rate_limit_per_minute__gte=1),
                                   name="sharing_key_rate_positive",
                                   violation_error_message=_("每分钟请求上限至少为 1。")),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}）"


class CreditAccessLog(models.Model):
    """Who read an entity's credit file: a partner key or a signed-in user, which fields, when.
    The entity itself can see its entries (issue 4: "an access log that the entity itself can see")."""

    class Channel(models.TextChoices):
        SHARING_API = "sharing_api", _("数据共享接口")
        OFFICER = "officer", _("监管人员查阅")
        DATA_CONSUMER = "data_consumer", _("部门数据用户")

    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.CASCADE, related_name="credit_access_log")
    accessed_at = models.DateTimeField(_("查询时间"), default=timezone.now, db_index=True)
    channel = models.CharField(_("查询渠道"), max_length=16, choices=Channel.choices)
    key = models.ForeignKey(SharingKey, verbose_name=_("共享接口密钥"), null=True, blank=True,
                            on_delete=models.PROTECT, related_name="access_log")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("用户"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    accessor = models.CharField(_("查询方"), max_length=160)
    fields = models.JSONField(_("读取字段"), default=list)
    purpose = models.CharField(_("查询用途"), max_length=200, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "entity__region__code"
    scope_entity_field = "entity_id"
    role_actions = {
        Role.PROVINCE_ADMIN: {VIEW, EXPORT}, Role.PROVINCE_OFFICER: {VIEW, EXPORT}, Role.CITY_OFFICER: {VIEW},
        Role.COUNTY_OFFICER: {VIEW}, Role.INSPECTOR: set(), Role.LAB_STAFF: set(), Role.ENTERPRISE: {VIEW},
        Role.DATA_CONSUMER: set(),
    }
    # An append-only log, not a BaseModel (no audit of its own rows), scoped like one.
    apply_scope = classmethod(BaseModel.apply_scope.__func__)

    class Meta:
        ordering = ["-accessed_at", "-id"]
        verbose_name = pgettext_lazy("model name", "信用档案查询记录")
        verbose_name_plural = _("信用档案查询记录")
        indexes = [models.Index(fields=["entity", "-accessed_at"], name="credit_access_entity_idx")]

    def __str__(self) -> str:
        return f"{self.accessor} → {self.entity_id} {self.accessed_at:%Y-%m-%d %H:%M}"
