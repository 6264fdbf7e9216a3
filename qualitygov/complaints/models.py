"""Complaints (投诉) and tip-offs (举报): what the public sends the regulator, and how it is handled.

The rules are SAMR Order 20 (市场监督管理投诉举报处理暂行办法, ``shared/policy/laws``), the Consumer
Rights Law and the 2021 reward measures for tip-offs on major violations (``shared/policy/RULES.md``).

- A ``Submission`` is what arrived (one tracking number). It makes one ``Case`` per workflow: a
  complaint, a tip-off, or both — two linked cases handled separately (Art. 7).
- The identity and contacts of the person who submitted are in ``ReporterIdentity``, encrypted at
  rest and readable only with the ``view_reporter_identity`` permission (Art. 33); every read is in
  the audit log.
- Legal clocks are dates on the case, computed in working days (``core.workdays``) by the services;
  a date that cannot be computed yet because the holiday calendar does not cover its year is left
  empty with ``calendar_pending`` set — shown as such, never guessed.

Business rules live in the service modules (``intake``, ``routing``, ``clocks``, ``handling``,
``rewards``, ``similarity``, ``statistics``); the models only hold state.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.complaints.crypto import EncryptedTextField
from qualitygov.core.models import BaseModel, RestrictedQuerySet
from qualitygov.core.roles import ADD, CHANGE, EXPORT, VIEW, Role

# Officers handle cases in their region; nobody else sees them in the back office (the respondent
# sees only the notices addressed to it, the reporter follows a case by tracking number or code).
OFFICER_CASE_ACTIONS = {VIEW, ADD, CHANGE, EXPORT}
CASE_ROLE_ACTIONS = {
    Role.PROVINCE_ADMIN: OFFICER_CASE_ACTIONS, Role.PROVINCE_OFFICER: OFFICER_CASE_ACTIONS,
    Role.CITY_OFFICER: OFFICER_CASE_ACTIONS, Role.COUNTY_OFFICER: OFFICER_CASE_ACTIONS,
    Role.INSPECTOR: set(), Role.LAB_STAFF: set(), Role.ENTERPRISE: set(), Role.DATA_CONSUMER: set(),
}


class Channel(models.TextChoices):
    """How a submission reached the regulator (Art. 8)."""

    WEB = "web", _("网上投诉举报")
    API = "api", _("开放接口")
    PHONE = "phone", _("电话")
    LETTER = "letter", _("信函")
    COUNTER = "counter", _("窗口")
    FAX = "fax", _("传真")


class Category(models.TextChoices):
    """What the case is about, coded so that the risk module can count cases by subject."""

    PRODUCT_QUALITY = "product_quality", _("产品质量")
    FOOD_SAFETY = "food_safety", _("食品安全")
    SPECIAL_EQUIPMENT = "special_equipment", _("特种设备")
    METROLOGY = "metrology", _("计量")
    STANDARDS = "standards", _("标准")
    CERTIFICATION = "certification", _("认证认可")
    COUNTERFEIT = "counterfeit", _("假冒伪劣")
    ADVERTISING = "advertising", _("广告")
    PRICE = "price", _("价格")
    CONTRACT_SERVICE = "contract_service", _("合同与售后服务")
    ONLINE_TRADE = "online_trade", _("网络交易")
    OTHER = "other", _("其他")


class SalesChannel(models.TextChoices):
    """Where the respondent sold: decides the competent unit for online trade (Art. 12, 27)."""

    OFFLINE = "offline", _("线下经营")
    PLATFORM_MERCHANT = "platform_merchant", _("电商平台内经营者")
    PLATFORM_OPERATOR = "platform_operator", _("电子商务平台经营者")
    OWN_WEBSITE = "own_website", _("自建网站或其他网络服务")


class Submission(BaseModel):
    """One submission with its tracking number: a complaint, a tip-off, or both (Art. 7)."""

    tracking_number = models.CharField(_("登记编号"), max_length=24, unique=True)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices, default=Channel.WEB)
    received_at = models.DateTimeField(_("收到时间"), db_index=True)
    anonymous = models.BooleanField(_("匿名"), default=False)
    # An anonymous reporter follows the case with a query code and a password (only its hash is kept).
    query_code = models.CharField(_("查询码"), max_length=16, unique=True, null=True, blank=True)
    query_password_hash = models.CharField(_("查询密码摘要"), max_length=128, blank=True, editable=False)
    description = models.TextField(_("事实与理由"))
    request = models.TextField(_("投诉请求"), blank=True)
    via_agent = models.BooleanField(_("委托代理"), default=False)
    joint_complainants = models.PositiveSmallIntegerField(_("共同投诉人数"), default=1)
    # Digest of the client's address: rate limits and the similar-case check, never the address itself.
    client_digest = models.CharField(_("来源摘要"), max_length=64, blank=True, db_index=True, editable=False)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    objects = RestrictedQuerySet.as_manager()
    # Visible through its cases; callers add ``.distinct()`` when listing.
    scope_region_field = "cases__handling_unit__code"
    scope_entity_field = None
    role_actions = CASE_ROLE_ACTIONS
    audit_exclude = ("created", "updated", "query_code", "query_password_hash", "client_digest")

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = pgettext_lazy("model name", "投诉举报登记")
        verbose_name_plural = _("投诉举报登记")

    def __str__(self) -> str:
        return self.tracking_number


class ReporterIdentity(models.Model):
    """Who submitted, encrypted at rest (Art. 33). Read only through ``complaints.protection``, which
    checks the ``view_reporter_identity`` permission and writes the access to the audit log."""

    submission = models.OneToOneField(Submission, verbose_name=_("登记"), on_delete=models.CASCADE,
                                      related_name="identity")
    name = EncryptedTextField(_("姓名"), blank=True)
    phone = EncryptedTextField(_("电话号码"), blank=True)
    address = EncryptedTextField(_("通讯地址"), blank=True)
    id_number = EncryptedTextField(_("身份证件号码"), blank=True)
    email = EncryptedTextField(_("电子邮箱"), blank=True)
    agent_name = EncryptedTextField(_("受托人姓名"), blank=True)
    agent_id_number = EncryptedTextField(_("受托人身份证件号码"), blank=True)
    phone_digest = models.CharField(_("电话摘要"), max_length=64, blank=True, db_index=True, editable=False)
    id_digest = models.CharField(_("证件摘要"), max_length=64, blank=True, db_index=True, editable=False)

    class Meta:
        verbose_name = pgettext_lazy("model name", "投诉举报人信息")
        verbose_name_plural = _("投诉举报人信息")
        permissions = [("view_reporter_identity", _("查看投诉举报人身份和联系方式"))]

    def __str__(self) -> str:  # never the name: this string can reach logs and admin lists
        return f"#{self.submission_id}"


class Case(BaseModel):
    """A complaint or a tip-off, handled in its own workflow by the competent unit."""

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("投诉")
        TIP_OFF = "tip_off", _("举报")

    class Status(models.TextChoices):
        RECEIVED = "received", _("待受理")
        ACCEPTED = "accepted", _("已受理")
        REJECTED = "rejected", _("不予受理")
        MEDIATING = "mediating", _("调解中")
        MEDIATION_ENDED = "mediation_ended", _("调解终结")
        VERIFYING = "verifying", _("核查中")
        FILED = "filed", _("已立案")
        NOT_FILED = "not_filed", _("不予立案")
        CLOSED = "closed", _("已办结")
        MERGED = "merged", _("已合并")

    class RejectionGround(models.TextChoices):
        """Art. 15: grounds for not accepting a complaint."""

        NOT_COMPETENT = "not_competent", _("不属于市场监督管理部门职责或本机关无处理权限（第十五条第一项）")
        ALREADY_HANDLED = "already_handled", _("同一争议已由其他机关或组织受理或处理（第十五条第二项）")
        NOT_CONSUMER = "not_consumer", _("非生活消费需要或不能证明存在消费者权益争议（第十五条第三项）")
        TIME_BARRED = "time_barred", _("知道或应当知道权益受侵害之日起超过三年（第十五条第四项）")
        MISSING_MATERIALS = "missing_materials", _("未提供第九条第一款和第十条规定的材料（第十五条第五项）")
        OTHER_LAW = "other_law", _("法律、法规、规章规定不予受理的其他情形（第十五条第六项）")

    class MediationOutcome(models.TextChoices):
        """Art. 21 and 22: how mediation ended."""

        AGREEMENT = "agreement", _("达成调解协议")
        WITHDRAWN_OR_SETTLED = "withdrawn_or_settled", _("投诉人撤回投诉或双方自行和解")
        NO_AGREEMENT_ON_TESTING = "no_agreement_on_testing", _("对检测鉴定机构或费用无法协商一致")
        ABSENT_OR_REFUSED = "absent_or_refused", _("无正当理由不参加调解或被投诉人拒绝调解")
        NO_AGREEMENT = "no_agreement", _("明确表示无法达成调解协议")
        TIME_LIMIT = "time_limit", _("受理之日起四十五个工作日内未达成调解协议")
        INADMISSIBLE = "inadmissible", _("受理后发现第十五条规定情形")
        OTHER = "other", _("其他应当终止调解的情形")

    class FilingDecision(models.TextChoices):
        FILED = "filed", _("立案")
        NOT_FILED = "not_filed", _("不予立案")

    number = models.CharField(_("案件编号"), max_length=28, unique=True)
    submission = models.ForeignKey(Submission, verbose_name=_("登记"), on_delete=models.PROTECT,
                                   related_name="cases")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, db_index=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.RECEIVED,
                              db_index=True)
    linked_case = models.ForeignKey("self", verbose_name=_("关联案件"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    received_on = models.DateField(_("收到日期"), db_index=True)
    # The respondent (被投诉人 / 被举报人): a registry entity when known, else its name and address.
    respondent_entity = models.ForeignKey("registry.MarketEntity", verbose_name=_("被投诉举报主体"), null=True,
                                          blank=True, on_delete=models.PROTECT, related_name="complaint_cases")
    respondent_name = models.CharField(_("被投诉举报人名称"), max_length=200)
    respondent_address = models.CharField(_("被投诉举报人地址"), max_length=255, blank=True)
    respondent_region = models.ForeignKey("core.Region", verbose_name=_("被投诉举报人所在区划"), null=True,
                                          blank=True, on_delete=models.PROTECT, related_name="+")
    sales_channel = models.CharField(_("经营方式"), max_length=20, choices=SalesChannel.choices,
                                     default=SalesChannel.OFFLINE)
    platform_entity = models.ForeignKey("registry.MarketEntity", verbose_name=_("电商平台经营者"), null=True,
                                        blank=True, on_delete=models.PROTECT, related_name="platform_cases")
    platform_name = models.CharField(_("电商平台名称"), max_length=200, blank=True)
    # Where the reported conduct took place (Art. 25), when it differs from the respondent's region.
    occurred_region = models.ForeignKey("core.Region", verbose_name=_("行为发生地"), null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    handling_unit = models.ForeignKey("core.Region", verbose_name=_("承办单位"), on_delete=models.PROTECT,
                                      related_name="complaint_cases",
                                      help_text=_("有处理权限的市场监督管理部门所在区划（一般为县级）。"))
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("承办人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="complaint_cases")
    # What it is about, coded.
    category = models.CharField(_("问题类别"), max_length=24, choices=Category.choices, default=Category.OTHER,
                                db_index=True)
    product_category = models.ForeignKey("core.ProductCategory", verbose_name=_("产品类别"), null=True,
                                         blank=True, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("registry.Product", verbose_name=_("产品"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="complaint_cases")
    product_name = models.CharField(_("商品或服务名称"), max_length=200, blank=True)
    amount = models.DecimalField(_("涉及金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    facts = models.TextField(_("事实与理由"))
    request = models.TextField(_("投诉请求"), blank=True)
    # Complaint admissibility facts (Art. 15 (3) and (4)).
    aware_on = models.DateField(_("知道权益受侵害日期"), null=True, blank=True)
    for_personal_consumption = models.BooleanField(_("为生活消费需要"), null=True, blank=True)
    # Acceptance (Art. 14): decide within 7 working days of receipt.
    accept_due_on = models.DateField(_("受理期限"), null=True, blank=True, db_index=True)
    accepted_on = models.DateField(_("受理日期"), null=True, blank=True)
    rejected_on = models.DateField(_("不予受理日期"), null=True, blank=True)
    rejection_ground = models.CharField(_("不予受理理由"), max_length=24, choices=RejectionGround.choices,
                                        blank=True)
    rejection_note = models.TextField(_("不予受理说明"), blank=True)
    # Mediation (Art. 16–22): ends after 45 working days from acceptance, testing time excluded.
    mediation_due_on = models.DateField(_("调解期限"), null=True, blank=True, db_index=True)
    mediation_outcome = models.CharField(_("调解结果"), max_length=28, choices=MediationOutcome.choices,
                                         blank=True)
    mediation_ended_on = models.DateField(_("调解终结日期"), null=True, blank=True)
    mediation_record = models.TextField(_("调解记录"), blank=True)
    end_notice_due_on = models.DateField(_("终止调解告知期限"), null=True, blank=True, db_index=True)
    end_notified_on = models.DateField(_("终止调解告知日期"), null=True, blank=True)
    # A violation clue found in mediation is verified within 15 (+15) working days (Art. 23).
    clue_found_on = models.DateField(_("发现违法线索日期"), null=True, blank=True)
    verification_due_on = models.DateField(_("线索核查期限"), null=True, blank=True, db_index=True)
    verification_extended = models.BooleanField(_("核查期限已延长"), default=False)
    verified_on = models.DateField(_("核查完成日期"), null=True, blank=True)
    # Tip-off: the filing decision, and the real-name reporter told within 5 working days (Art. 31).
    filing_decision = models.CharField(_("立案决定"), max_length=12, choices=FilingDecision.choices, blank=True)
    filing_decided_on = models.DateField(_("立案决定日期"), null=True, blank=True)
    reporter_notice_due_on = models.DateField(_("告知举报人期限"), null=True, blank=True, db_index=True)
    reporter_notified_on = models.DateField(_("告知举报人日期"), null=True, blank=True)
    # The enforcement case opened from a tip-off, with its penalty.
    enforcement_case_number = models.CharField(_("立案编号"), max_length=64, blank=True)
    penalty_decision_number = models.CharField(_("处罚决定书文号"), max_length=64, blank=True)
    penalty_decided_on = models.DateField(_("处罚决定日期"), null=True, blank=True)
    fine_amount = models.DecimalField(_("罚款金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    confiscation_amount = models.DecimalField(_("没收金额（元）"), max_digits=14, decimal_places=2, null=True,
                                              blank=True)
    credit_record = models.ForeignKey("credit.CreditRecord", verbose_name=_("信用记录"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    # A deadline whose year the holiday calendar does not cover yet is left empty and flagged.
    calendar_pending = models.BooleanField(_("期限待节假日安排公布后计算"), default=False)
    closed_on = models.DateField(_("办结日期"), null=True, blank=True, db_index=True)
    outcome = models.TextField(_("处理结果"), blank=True)
    # Satisfaction of the complainant after closure (1–5).
    satisfaction = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    satisfaction_comment = models.TextField(_("满意度评价"), blank=True)
    merged_into = models.ForeignKey("self", verbose_name=_("合并至"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="merged_cases")
    # Segmented words of the case text, kept for the similar-case index (``complaints.similarity``).
    terms = models.TextField(_("分词"), blank=True, editable=False)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "handling_unit__code"
    scope_entity_field = None
    role_actions = CASE_ROLE_ACTIONS
    audit_exclude = ("created", "updated", "terms")

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = pgettext_lazy("model name", "投诉举报案件")
        verbose_name_plural = _("投诉举报案件")
        indexes = [
            models.Index(fields=["handling_unit", "status"], name="case_unit_status_idx"),
            models.Index(fields=["respondent_entity", "status"], name="case_respondent_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(satisfaction__isnull=True)
                                   | models.Q(satisfaction__gte=1, satisfaction__lte=5),
                                   name="case_satisfaction_1_to_5",
                                   violation_error_message=_("满意度应为 1 到 5。")),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("complaints:case_detail", args=[self.pk])


class CaseEvent(models.Model):
    """One step in a case's history: notes, assignments, transfers, decisions, notices, reminders."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("收到")
        NOTE = "note", _("备注")
        ASSIGNED = "assigned", _("分派")
        TRANSFERRED = "transferred", _("移送")
        DISPUTE = "dispute", _("管辖争议")
        ACCEPTED = "accepted", _("受理")
        REJECTED = "rejected", _("不予受理")
        MEDIATION_STARTED = "mediation_started", _("开始调解")
        PAUSE_STARTED = "pause_started", _("检测鉴定开始")
        PAUSE_ENDED = "pause_ended", _("检测鉴定结束")
        MEDIATION_ENDED = "mediation_ended", _("调解终结")
        NOTICE_SENT = "notice_sent", _("告知")
        CLUE_FOUND = "clue_found", _("发现违法线索")
        VERIFICATION_EXTENDED = "verification_extended", _("核查延期")
        FILING_DECIDED = "filing_decided", _("立案决定")
        PENALTY_LINKED = "penalty_linked", _("关联行政处罚")
        CLOSED = "closed", _("办结")
        MERGED = "merged", _("合并")
        REMINDER = "reminder", _("到期提醒")
        SATISFACTION = "satisfaction", _("满意度评价")
        REWARD = "reward", _("举报奖励")

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), db_index=True)
    kind = models.CharField(_("事项"), max_length=24, choices=Kind.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True, blank=True,
                           on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("内容"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = pgettext_lazy("model name", "办理记录")
        verbose_name_plural = _("办理记录")

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()}"


class MediationPause(models.Model):
    """Time spent on metrological verification, testing or appraisal, not counted in the mediation
    period (Art. 20); the mediation deadline moves by the working days it lasted."""

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="pauses")
    reason = models.CharField(_("事项"), max_length=200)
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        ordering = ["started_on", "id"]
        verbose_name = pgettext_lazy("model name", "检定检测鉴定期间")
        verbose_name_plural = _("检定检测鉴定期间")
        constraints = [
            models.CheckConstraint(condition=models.Q(ended_on__isnull=True)
                                   | models.Q(ended_on__gte=models.F("started_on")),
                                   name="pause_ends_after_start",
                                   violation_error_message=_("结束日期不能早于开始日期。")),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.started_on:%Y-%m-%d}–{self.ended_on or ''}"


class JurisdictionDispute(BaseModel):
    """Two units disagree over who is competent (Art. 30): they have 7 working days to agree, then the
    common superior unit designates one."""

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="disputes")
    raised_by_unit = models.ForeignKey("core.Region", verbose_name=_("提出单位"), on_delete=models.PROTECT,
                                       related_name="+")
    other_unit = models.ForeignKey("core.Region", verbose_name=_("争议单位"), on_delete=models.PROTECT,
                                   related_name="+")
    reason = models.TextField(_("争议理由"))
    raised_on = models.DateField(_("发生争议日期"))
    escalate_due_on = models.DateField(_("协商期限"), null=True, blank=True)
    escalated_to = models.ForeignKey("core.Region", verbose_name=_("报请指定单位"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    escalated_on = models.DateField(_("报请日期"), null=True, blank=True)
    resolved_on = models.DateField(_("解决日期"), null=True, blank=True)
    decided_unit = models.ForeignKey("core.Region", verbose_name=_("确定的承办单位"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "case__handling_unit__code"
    role_actions = CASE_ROLE_ACTIONS

    class Meta:
        ordering = ["-raised_on", "-id"]
        verbose_name = pgettext_lazy("model name", "管辖争议")
        verbose_name_plural = _("管辖争议")


class Attachment(models.Model):
    """A file sent with a submission, stored outside the web root (``COMPLAINTS_PRIVATE_DIR``) under a
    name of our own; served only to readers of the case."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("照片")
        RECEIPT = "receipt", _("购物凭证")
        DOCUMENT = "document", _("其他文件")
        AUTHORISATION = "authorisation", _("授权委托书")
        AGENT_ID = "agent_id", _("受托人身份证明")

    submission = models.ForeignKey(Submission, verbose_name=_("登记"), on_delete=models.CASCADE,
                                   related_name="attachments")
    kind = models.CharField(_("材料类型"), max_length=16, choices=Kind.choices, default=Kind.DOCUMENT)
    original_name = models.CharField(_("原文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    storage_name = models.CharField(_("存储名"), max_length=100, unique=True, editable=False)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = pgettext_lazy("model name", "投诉举报材料")
        verbose_name_plural = _("投诉举报材料")

    def __str__(self) -> str:
        return self.original_name


class RespondentNotice(BaseModel):
    """A notice to the respondent (mediation, termination of mediation, decisions). Its text is built
    from the case without any reporter data (Art. 33); the respondent's enterprise users read it."""

    class Kind(models.TextChoices):
        MEDIATION = "mediation", _("调解通知")
        MEDIATION_ENDED = "mediation_ended", _("终止调解告知")
        INQUIRY = "inquiry", _("核查通知")

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE,
                             related_name="respondent_notices")
    entity = models.ForeignKey("registry.MarketEntity", verbose_name=_("被投诉举报主体"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="complaint_notices")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    text = models.TextField(_("内容"))
    sent_on = models.DateField(_("发出日期"))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发出人"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "case__handling_unit__code"
    scope_entity_field = "entity_id"
    role_actions = {**CASE_ROLE_ACTIONS, Role.ENTERPRISE: {VIEW}}

    class Meta:
        ordering = ["-sent_on", "-id"]
        verbose_name = pgettext_lazy("model name", "被投诉举报人通知")
        verbose_name_plural = _("被投诉举报人通知")

    def __str__(self) -> str:
        return f"{self.case.number} {self.get_kind_display()}"


class Reward(BaseModel):
    """The reward for a tip-off on a major violation (国市监稽规〔2021〕4号): level 1–3, a share of the
    fines and confiscations with a floor, a cap per case, joint approval with the finance department
    from 500,000 CNY; first reporter only; claimed within 30 working days of notice."""

    class Level(models.IntegerChoices):
        FIRST = 1, _("一级")
        SECOND = 2, _("二级")
        THIRD = 3, _("三级")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("拟奖励")
        APPROVED = "approved", _("已批准")
        NOTIFIED = "notified", _("已告知")
        CLAIMED = "claimed", _("已申领")
        PAID = "paid", _("已发放")
        EXPIRED = "expired", _("逾期未申领")
        REFUSED = "refused", _("不予奖励")

    case = models.OneToOneField(Case, verbose_name=_("举报案件"), on_delete=models.PROTECT, related_name="reward")
    level = models.PositiveSmallIntegerField(_("奖励等级"), choices=Level.choices)
    fines = models.DecimalField(_("罚款金额（元）"), max_digits=14, decimal_places=2, default=0)
    confiscations = models.DecimalField(_("没收金额（元）"), max_digits=14, decimal_places=2, default=0)
    amount = models.DecimalField(_("奖励金额（元）"), max_digits=12, decimal_places=2)
    floor_applied = models.BooleanField(_("适用最低奖励"), default=False)
    capped = models.BooleanField(_("适用最高限额"), default=False)
    joint_approval_required = models.BooleanField(_("需会同财政部门决定"), default=False)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PROPOSED)
    first_reporter_confirmed = models.BooleanField(_("已核实为最先举报人"), default=False)
    approved_on = models.DateField(_("批准日期"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("批准人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    finance_approved_on = models.DateField(_("财政部门会签日期"), null=True, blank=True)
    notified_on = models.DateField(_("告知日期"), null=True, blank=True)
    claim_due_on = models.DateField(_("申领期限"), null=True, blank=True)
    claimed_on = models.DateField(_("申领日期"), null=True, blank=True)
    paid_on = models.DateField(_("发放日期"), null=True, blank=True)
    payment_reference = models.CharField(_("发放凭证号"), max_length=64, blank=True)
    note = models.TextField(_("说明"), blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "case__handling_unit__code"
    role_actions = CASE_ROLE_ACTIONS

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = pgettext_lazy("model name", "举报奖励")
        verbose_name_plural = _("举报奖励")

    def __str__(self) -> str:
        return f"{self.case.number} {self.get_level_display()} {self.amount}"


class Reminder(models.Model):
    """A reminder to the officer (or the unit, when unassigned) that a legal deadline is near or past."""

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="reminders")
    deadline = models.CharField(_("期限"), max_length=32)
    due_on = models.DateField(_("到期日期"))
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提醒对象"), null=True, blank=True,
                                  on_delete=models.CASCADE, related_name="complaint_reminders")
    overdue = models.BooleanField(_("已逾期"), default=False)
    created = models.DateTimeField(_("提醒时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = pgettext_lazy("model name", "期限提醒")
        verbose_name_plural = _("期限提醒")
        constraints = [
            models.UniqueConstraint(fields=["case", "deadline", "due_on", "overdue"], name="reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.deadline} {self.due_on:%Y-%m-%d}"


class MonthlySummary(models.Model):
    """The public monthly summary of complaints and tip-offs (Art. 34), frozen when published."""

    month = models.DateField(_("月份"), unique=True, help_text=_("该月第一天。"))
    data = models.JSONField(_("统计数据"), default=dict)
    published_at = models.DateTimeField(_("发布时间"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发布人"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-month"]
        verbose_name = pgettext_lazy("model name", "投诉举报月度统计")
        verbose_name_plural = _("投诉举报月度统计")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"
