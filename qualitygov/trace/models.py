"""Traceability (issue 5): locations keyed by GLN, the EPCIS 2.0 event repository, capture jobs and
the keys enterprises capture with.

The event store is append-only. ``EpcisEvent`` holds one row per captured event with the columns the
standard queries filter on and the event itself as captured (``document``); ``EventIdentifier``
indexes every identifier an event names (EPCs, parents, children, inputs, outputs, class-level
identifiers with quantities, sources and destinations) in canonical form (``trace.identifiers``),
which is what the queries' MATCH_ parameters and the trace graph read. ``EventIdentity`` makes event
IDs unique across the whole store (the event table is partitioned by event time on PostgreSQL, where
a unique index must include the partition key).

On PostgreSQL ``EpcisEvent`` is range-partitioned by ``event_time`` (yearly partitions and a default
one; migration 0002), so its primary key is (id, event_time) in the database and other tables refer
to events without a database-level foreign key (``db_constraint=False``); rows are only ever written
by ``trace.capture``, which writes the event and its index rows in one transaction.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.models import BaseModel, RestrictedQuerySet
from qualitygov.core.roles import ADD, CHANGE, EXPORT, VIEW, Role


class Location(BaseModel):
    """A place in a supply chain identified by its GLN (全球位置码): a plant, warehouse, processing
    site or shop of a registry entity. Events name locations (readPoint, bizLocation, source and
    destination); through this table they are tied to an entity and its region, so region scope
    applies to events."""

    class Kind(models.TextChoices):
        PRODUCTION = "production", _("生产基地")
        PROCESSING = "processing", _("加工厂")
        WAREHOUSE = "warehouse", _("仓储物流")
        DISTRIBUTION = "distribution", _("批发配送")
        RETAIL = "retail", _("零售门店")
        OTHER = "other", _("其他")

    gln = models.CharField(_("全球位置码（GLN）"), max_length=13, unique=True)
    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.PROTECT, related_name="locations")
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.OTHER)
    region = models.ForeignKey("core.Region", verbose_name=_("所在区划"), on_delete=models.PROTECT,
                               related_name="+")
    address = models.CharField(_("地址"), max_length=255, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "region__code"
    scope_entity_field = "entity_id"

    class Meta:
        ordering = ["gln"]
        verbose_name = pgettext_lazy("model name", "追溯位置")
        verbose_name_plural = _("追溯位置")

    def __str__(self) -> str:
        return f"{self.name}（{self.gln}）"


class CaptureKey(BaseModel):
    """An enterprise's key for the EPCIS capture interface: events it captures are attributed to its
    entity. Only a SHA-256 digest of the secret is kept; the secret is shown once."""

    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.PROTECT, related_name="capture_keys")
    name = models.CharField(_("名称"), max_length=128)
    prefix = models.CharField(_("密钥前缀"), max_length=16, unique=True)
    secret_hash = models.CharField(_("密钥摘要"), max_length=64, editable=False)
    active = models.BooleanField(_("有效"), default=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("签发人"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "entity__region__code"
    scope_entity_field = "entity_id"
    audit_exclude = ("created", "updated", "secret_hash", "last_used_at")
    # The enterprise issues keys for its own systems; officers see them.
    role_actions = {
        Role.PROVINCE_ADMIN: {VIEW, CHANGE}, Role.PROVINCE_OFFICER: {VIEW}, Role.CITY_OFFICER: {VIEW},
        Role.COUNTY_OFFICER: {VIEW}, Role.INSPECTOR: set(), Role.LAB_STAFF: set(),
        Role.ENTERPRISE: {VIEW, ADD, CHANGE}, Role.DATA_CONSUMER: set(),
    }

    class Meta:
        ordering = ["entity", "name"]
        verbose_name = pgettext_lazy("model name", "追溯数据上报密钥")
        verbose_name_plural = _("追溯数据上报密钥")

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}）"


class CaptureJob(models.Model):
    """One capture request (EPCIS 2.0 REST bindings: ``POST /capture`` answers 202 with the job's
    location, ``GET /capture/{captureID}`` reports it)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("处理中")
        SUCCEEDED = "succeeded", _("全部成功")
        PARTIAL = "partial", _("部分成功")
        FAILED = "failed", _("失败")

    class ErrorBehaviour(models.TextChoices):
        ROLLBACK = "rollback", _("全部回滚")
        PROCEED = "proceed", _("跳过错误继续")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.RUNNING)
    error_behaviour = models.CharField(_("出错处理方式"), max_length=16, choices=ErrorBehaviour.choices,
                                       default=ErrorBehaviour.ROLLBACK)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    event_count = models.PositiveIntegerField(_("事件数"), default=0)
    captured_count = models.PositiveIntegerField(_("入库事件数"), default=0)
    duplicate_count = models.PositiveIntegerField(_("重复事件数"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    key = models.ForeignKey(CaptureKey, verbose_name=_("上报密钥"), null=True, blank=True, on_delete=models.PROTECT,
                            related_name="jobs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上报用户"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"), null=True,
                               blank=True, on_delete=models.PROTECT, related_name="capture_jobs")

    class Meta:
        ordering = ["-received_at"]
        verbose_name = pgettext_lazy("model name", "追溯数据上报任务")
        verbose_name_plural = _("追溯数据上报任务")

    def __str__(self) -> str:
        return str(self.id)


class EventType(models.TextChoices):
    OBJECT = "ObjectEvent", "ObjectEvent"
    AGGREGATION = "AggregationEvent", "AggregationEvent"
    TRANSACTION = "TransactionEvent", "TransactionEvent"
    TRANSFORMATION = "TransformationEvent", "TransformationEvent"
    ASSOCIATION = "AssociationEvent", "AssociationEvent"


class EpcisEvent(models.Model):
    """One captured EPCIS 2.0 event (append-only; see the module docstring on partitioning)."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.CharField(_("事件标识"), max_length=255)
    event_hash = models.CharField(_("事件哈希"), max_length=100)
    event_type = models.CharField(_("事件类型"), max_length=24, choices=EventType.choices)
    action = models.CharField(_("动作"), max_length=8, blank=True)
    event_time = models.DateTimeField(_("事件时间"))
    event_time_zone_offset = models.CharField(_("时区"), max_length=6)
    record_time = models.DateTimeField(_("入库时间"))
    biz_step = models.CharField(_("业务步骤"), max_length=255, blank=True)
    disposition = models.CharField(_("状态"), max_length=255, blank=True)
    read_point = models.CharField(_("读取点"), max_length=255, blank=True)
    biz_location = models.CharField(_("业务地点"), max_length=255, blank=True)
    # The registry entity and region the event belongs to (from its bizLocation/readPoint GLN, else the
    # capturing entity), for region scope.
    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"), null=True,
                               blank=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    region_code = models.CharField(_("区划代码"), max_length=6, blank=True)
    has_error_declaration = models.BooleanField(_("有错误声明"), default=False)
    error_declaration = models.JSONField(_("错误声明"), null=True, blank=True)
    document = models.JSONField(_("事件内容"))
    job = models.ForeignKey(CaptureJob, verbose_name=_("上报任务"), null=True, blank=True, on_delete=models.DO_NOTHING,
                            related_name="+", db_constraint=False)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "region_code"
    scope_entity_field = "entity_id"
    role_actions = {role: {VIEW} for role in Role.values} | {
        Role.PROVINCE_ADMIN: {VIEW, EXPORT}, Role.PROVINCE_OFFICER: {VIEW, EXPORT}, Role.CITY_OFFICER: {VIEW, EXPORT},
        Role.COUNTY_OFFICER: {VIEW, EXPORT}, Role.LAB_STAFF: set()}

    class Meta:
        ordering = ["event_time", "id"]
        verbose_name = pgettext_lazy("model name", "追溯事件")
        verbose_name_plural = _("追溯事件")
        indexes = [
            models.Index(fields=["event_time"], name="trace_event_time_idx"),
            models.Index(fields=["record_time"], name="trace_record_time_idx"),
            models.Index(fields=["event_id"], name="trace_event_id_idx"),
            models.Index(fields=["biz_step", "event_time"], name="trace_bizstep_idx"),
            models.Index(fields=["disposition"], name="trace_disposition_idx"),
            models.Index(fields=["read_point"], name="trace_readpoint_idx"),
            models.Index(fields=["biz_location"], name="trace_bizlocation_idx"),
            models.Index(fields=["region_code", "event_time"], name="trace_region_idx"),
            # Error declarations are rare: every read of events asks which of them are declared, and this
            # small index answers within a time range without visiting the events themselves.
            models.Index(fields=["event_time", "event_id"], name="trace_declared_idx",
                         condition=models.Q(has_error_declaration=True)),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_time:%Y-%m-%d %H:%M}"

    @classmethod
    def apply_scope(cls, queryset, user):
        # An event whose locations are not registered and that no entity captured has no region; the
        # province (which runs the store) still sees it, regional users do not.
        if user.role in (Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER):
            return queryset
        return BaseModel.apply_scope.__func__(cls, queryset, user)


class EventIdentity(models.Model):
    """Event IDs are unique across the store: a repeated capture of the same event is recognised here
    (one row per stored event)."""

    event_id = models.CharField(_("事件标识"), max_length=255, unique=True)
    stored_event = models.ForeignKey(EpcisEvent, on_delete=models.DO_NOTHING, related_name="+",
                                     db_constraint=False)
    event_time = models.DateTimeField(_("事件时间"))

    class Meta:
        verbose_name = pgettext_lazy("model name", "事件标识")
        verbose_name_plural = _("事件标识")

    def __str__(self) -> str:
        return self.event_id


class EventIdentifier(models.Model):
    """One identifier an event names, in canonical form, with its role (and quantity for class-level
    identifiers): what MATCH_ queries and traces read."""

    class Role(models.TextChoices):
        EPC = "epc", _("对象")
        PARENT = "parent", _("上级容器")
        CHILD = "child", _("下级对象")
        INPUT = "input", _("投入")
        OUTPUT = "output", _("产出")
        QUANTITY = "quantity", _("对象（批次数量）")
        CHILD_QUANTITY = "child_quantity", _("下级对象（批次数量）")
        INPUT_QUANTITY = "input_quantity", _("投入（批次数量）")
        OUTPUT_QUANTITY = "output_quantity", _("产出（批次数量）")
        SOURCE = "source", _("来源方")
        DESTINATION = "destination", _("去向方")

    event = models.ForeignKey(EpcisEvent, on_delete=models.DO_NOTHING, related_name="identifiers",
                              db_constraint=False)
    event_time = models.DateTimeField(_("事件时间"))
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    identifier = models.CharField(_("标识"), max_length=255)
    # GTIN + batch in canonical class form for instance and class identifiers when known, so that a
    # batch-level trace finds its serialised items too.
    class_key = models.CharField(_("批次标识"), max_length=255, blank=True)
    quantity = models.DecimalField(_("数量"), max_digits=18, decimal_places=6, null=True, blank=True)
    uom = models.CharField(_("计量单位"), max_length=8, blank=True)
    # For sources and destinations: the CBV type (owning_party, possessing_party, location).
    kind = models.CharField(_("类型"), max_length=32, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("model name", "事件标识索引")
        verbose_name_plural = _("事件标识索引")
        indexes = [
            models.Index(fields=["identifier", "role"], name="trace_ident_idx"),
            models.Index(fields=["class_key", "role"], name="trace_ident_class_idx"),
            models.Index(fields=["event"], name="trace_ident_event_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.identifier}"


# --- recalls (issue 5, item 6; SAMR Order 19, ../shared/policy/RULES.md) ----------------------------

class Recall(BaseModel):
    """A consumer-product recall (召回) from the defect or incident report to its completion: the
    producer's report (due within 2 working days of learning of the harm), the regulator's defect
    investigation, the recall plan with the contents Order 19 requires, the scope computed from the
    forward trace, notices, quarterly progress and the completion summary. Ordered recalls are recorded
    in the credit ledger; published recalls appear on the portal. Business rules live in
    ``trace.recalls``."""

    class Status(models.TextChoices):
        REPORTED = "reported", _("已报告")
        INVESTIGATING = "investigating", _("缺陷调查中")
        PLANNED = "planned", _("召回计划已备案")
        IN_PROGRESS = "in_progress", _("召回实施中")
        COMPLETED = "completed", _("已完成")
        CLOSED_NO_DEFECT = "closed_no_defect", _("调查未发现缺陷")

    class Kind(models.TextChoices):
        VOLUNTARY = "voluntary", _("主动召回")
        ORDERED = "ordered", _("责令召回")

    number = models.CharField(_("召回编号"), max_length=32, unique=True)
    producer = models.ForeignKey("registry.MarketEntity", verbose_name=_("生产者"), on_delete=models.PROTECT,
                                 related_name="recalls")
    product = models.ForeignKey("registry.Product", verbose_name=_("产品"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="recalls")
    kind = models.CharField(_("召回类型"), max_length=16, choices=Kind.choices, default=Kind.VOLUNTARY)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.REPORTED,
                              db_index=True)
    # The report (缺陷或事故报告).
    hazard = models.TextField(_("缺陷或伤害情况"))
    aware_on = models.DateField(_("获知日期"))
    reported_on = models.DateField(_("报告日期"))
    report_due_on = models.DateField(_("报告期限"), null=True, blank=True)
    # The investigation.
    investigation = models.TextField(_("缺陷调查情况"), blank=True)
    defect_confirmed = models.BooleanField(_("确认存在缺陷"), null=True, blank=True)
    # The plan (召回计划), Order 19's contents.
    batches = models.JSONField(_("涉及批次"), default=list, blank=True,
                               help_text=_("GS1 标识（GTIN + 批号），规范化后的 Digital Link 形式。"))
    quantity_made = models.DecimalField(_("生产数量"), max_digits=18, decimal_places=3, null=True, blank=True)
    quantity_sold = models.DecimalField(_("销售数量"), max_digits=18, decimal_places=3, null=True, blank=True)
    channels = models.TextField(_("销售渠道与地区"), blank=True)
    defect_cause = models.TextField(_("缺陷及原因"), blank=True)
    remedy = models.TextField(_("补救措施"), blank=True)
    notification = models.TextField(_("通知方式"), blank=True)
    consumer_advice = models.TextField(_("消费者应采取的措施"), blank=True,
                                       help_text=_("公告中告诉消费者如何停止使用、退货或获得补救。"))
    timetable = models.TextField(_("进度安排"), blank=True)
    plan_filed_on = models.DateField(_("计划备案日期"), null=True, blank=True)
    started_on = models.DateField(_("开始实施日期"), null=True, blank=True)
    # The scope: the forward trace of the batches when the plan was filed (holders and quantities).
    scope = models.JSONField(_("召回范围"), default=list, blank=True)
    scope_computed_at = models.DateTimeField(_("范围计算时间"), null=True, blank=True)
    quantity_recovered = models.DecimalField(_("已召回数量"), max_digits=18, decimal_places=3, default=0)
    completed_on = models.DateField(_("完成日期"), null=True, blank=True)
    summary = models.TextField(_("总结报告"), blank=True)
    published = models.BooleanField(_("已公告"), default=False)
    published_on = models.DateField(_("公告日期"), null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "producer__region__code"
    scope_entity_field = "producer_id"
    # The producer reports and files its plan and progress (ADD/CHANGE on its own recalls); officers
    # investigate, order, publish and close.
    role_actions = {
        Role.PROVINCE_ADMIN: {VIEW, ADD, CHANGE, EXPORT}, Role.PROVINCE_OFFICER: {VIEW, ADD, CHANGE, EXPORT},
        Role.CITY_OFFICER: {VIEW, ADD, CHANGE, EXPORT}, Role.COUNTY_OFFICER: {VIEW, ADD, CHANGE, EXPORT},
        Role.INSPECTOR: {VIEW}, Role.LAB_STAFF: set(), Role.ENTERPRISE: {VIEW, ADD, CHANGE},
        Role.DATA_CONSUMER: set(),
    }

    class Meta:
        ordering = ["-reported_on", "-id"]
        verbose_name = pgettext_lazy("model name", "缺陷产品召回")
        verbose_name_plural = _("缺陷产品召回")

    def __str__(self) -> str:
        return f"{self.number} {self.producer}"


class RecallNotice(BaseModel):
    """A notice of a recall to one entity that holds affected goods (from the scope), and its answer."""

    recall = models.ForeignKey(Recall, verbose_name=_("召回"), on_delete=models.CASCADE, related_name="notices")
    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.PROTECT, related_name="recall_notices")
    location_gln = models.CharField(_("位置 GLN"), max_length=13, blank=True)
    quantity = models.DecimalField(_("涉及数量"), max_digits=18, decimal_places=3, null=True, blank=True)
    sent_on = models.DateField(_("通知日期"))
    acknowledged_on = models.DateField(_("确认收到日期"), null=True, blank=True)
    quantity_returned = models.DecimalField(_("已退回数量"), max_digits=18, decimal_places=3, default=0)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "entity__region__code"
    scope_entity_field = "entity_id"
    # The holder's users confirm their notice (through ``trace.recalls``); officers follow them up.
    role_actions = {
        Role.PROVINCE_ADMIN: {VIEW}, Role.PROVINCE_OFFICER: {VIEW}, Role.CITY_OFFICER: {VIEW},
        Role.COUNTY_OFFICER: {VIEW}, Role.INSPECTOR: {VIEW}, Role.LAB_STAFF: set(), Role.ENTERPRISE: {VIEW},
        Role.DATA_CONSUMER: set(),
    }

    class Meta:
        ordering = ["recall", "entity"]
        verbose_name = pgettext_lazy("model name", "召回通知")
        verbose_name_plural = _("召回通知")

    def __str__(self) -> str:
        return f"{self.recall.number} → {self.entity}"


class RecallProgress(BaseModel):
    """A progress report of a recall (every three months while it runs) or its completion summary."""

    recall = models.ForeignKey(Recall, verbose_name=_("召回"), on_delete=models.CASCADE, related_name="progress")
    period_end = models.DateField(_("报告期截止日"))
    quantity_recovered = models.DecimalField(_("累计召回数量"), max_digits=18, decimal_places=3)
    text = models.TextField(_("进展情况"))
    final = models.BooleanField(_("完成总结"), default=False)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提交人"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "recall__producer__region__code"
    scope_entity_field = "recall__producer_id"

    class Meta:
        ordering = ["recall", "period_end"]
        verbose_name = pgettext_lazy("model name", "召回进展报告")
        verbose_name_plural = _("召回进展报告")

    def __str__(self) -> str:
        return f"{self.recall.number} {self.period_end}"


class NamedQuery(models.Model):
    """A named query of the EPCIS 2.0 REST bindings (``POST /queries``, ``GET /queries/{name}/events``):
    a set of standard query parameters kept under a name, run again whenever it is read. The owner is
    the signed-in user or the capture key that created it; a query runs within its reader's scope."""

    name = models.CharField(_("查询名称"), max_length=128, unique=True)
    parameters = models.JSONField(_("查询参数"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_by_key = models.ForeignKey(CaptureKey, verbose_name=_("创建密钥"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="named_queries")
    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = pgettext_lazy("model name", "命名查询")
        verbose_name_plural = _("命名查询")

    def __str__(self) -> str:
        return self.name
