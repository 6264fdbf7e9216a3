"""Market entities, their quality responsible persons, products, and licences and certificates."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.identifiers import IdentifierError, validate_gtin, validate_uscc
from qualitygov.core.models import BaseModel, Industry, ProductCategory, Region, RestrictedQuerySet
from qualitygov.core.roles import ADD, CHANGE, EXPORT, VIEW, Role


def uscc_validator(value: str) -> None:
    try:
        validate_uscc(value)
    except IdentifierError as exc:
        raise ValidationError(exc.reason, code=exc.code) from exc


def gtin_validator(value: str) -> None:
    try:
        validate_gtin(value)
    except IdentifierError as exc:
        raise ValidationError(exc.reason, code=exc.code) from exc


class MarketEntity(BaseModel):
    """A market entity (市场主体), keyed by its unified social credit code (GB 32100)."""

    class SizeClass(models.TextChoices):
        LARGE = "large", _("大型")
        MEDIUM = "medium", _("中型")
        SMALL = "small", _("小型")
        MICRO = "micro", _("微型")

    class Status(models.TextChoices):
        OPERATING = "operating", _("存续（在营）")
        SUSPENDED = "suspended", _("停业")
        REVOKED = "revoked", _("吊销")
        CANCELLED = "cancelled", _("注销")

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, validators=[uscc_validator])
    name = models.CharField(_("名称"), max_length=200, db_index=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=64)
    region = models.ForeignKey(Region, verbose_name=_("所在区划"), on_delete=models.PROTECT,
                               related_name="entities")
    industry = models.ForeignKey(Industry, verbose_name=_("所属行业"), on_delete=models.PROTECT,
                                 related_name="entities", limit_choices_to={"level": "division"})
    address = models.CharField(_("住所"), max_length=255)
    size_class = models.CharField(_("企业规模"), max_length=16, choices=SizeClass.choices, default=SizeClass.SMALL)
    registration_date = models.DateField(_("成立日期"))
    status = models.CharField(_("登记状态"), max_length=16, choices=Status.choices, default=Status.OPERATING,
                              db_index=True)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "region__code"
    scope_entity_field = "pk"
    # An enterprise user reads its own entity's file and keeps its contact details current; its
    # registered facts (name, USCC, region, status…) come from registration and stay with officers.
    role_actions = {Role.ENTERPRISE: {VIEW, CHANGE, EXPORT}}
    enterprise_editable_fields = ("phone", "address")

    class Meta:
        ordering = ["name", "id"]
        # Chinese has one word for singular and plural; the context lets English tell them apart.
        verbose_name = pgettext_lazy("model name", "市场主体")
        verbose_name_plural = _("市场主体")
        indexes = [models.Index(fields=["region", "status"], name="entity_region_status_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(uscc__regex=r"^[0-9A-Z]{18}$"), name="entity_uscc_format",
                                   violation_error_message=_("统一社会信用代码应为 18 位数字或大写字母。")),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self):
        return reverse("registry:marketentity_detail", args=[self.pk])

    def clean(self):
        super().clean()
        if self.uscc:
            self.uscc = self.uscc.strip().upper()


class QualityPerson(BaseModel):
    """A person responsible for quality in an entity, the chief quality officer (首席质量官) among them."""

    class Position(models.TextChoices):
        CHIEF_QUALITY_OFFICER = "cqo", _("首席质量官")
        QUALITY_DIRECTOR = "quality_director", pgettext_lazy("position", "质量负责人")
        QUALITY_MANAGER = "quality_manager", _("质量管理人员")
        SAFETY_OFFICER = "safety_officer", _("质量安全员")

    entity = models.ForeignKey(MarketEntity, verbose_name=pgettext_lazy("field", "市场主体"), on_delete=models.CASCADE,
                               related_name="quality_persons")
    name = models.CharField(_("姓名"), max_length=64)
    position = models.CharField(_("职务"), max_length=32, choices=Position.choices)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    appointed_on = models.DateField(_("任职日期"), null=True, blank=True)
    certificate_no = models.CharField(_("培训证书编号"), max_length=64, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "entity__region__code"
    scope_entity_field = "entity"
    role_actions = {Role.ENTERPRISE: {VIEW, ADD, CHANGE, EXPORT}}

    class Meta:
        ordering = ["entity", "position", "name"]
        verbose_name = pgettext_lazy("model name", "质量负责人")
        verbose_name_plural = _("质量负责人")
        constraints = [
            models.UniqueConstraint(fields=["entity"], condition=models.Q(position="cqo"), name="one_cqo_per_entity",
                                    violation_error_message=_("每个市场主体只能有一名首席质量官。")),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_position_display()}）"

    def get_absolute_url(self):
        return reverse("registry:qualityperson_detail", args=[self.pk])


class Product(BaseModel):
    """A product made by an entity, identified by its GTIN where it has one."""

    producer = models.ForeignKey(MarketEntity, verbose_name=_("生产者"), on_delete=models.PROTECT,
                                 related_name="products")
    name = models.CharField(_("产品名称"), max_length=200, db_index=True)
    brand = models.CharField(_("商标品牌"), max_length=100, blank=True)
    model = models.CharField(_("规格型号"), max_length=100, blank=True)
    category = models.ForeignKey(ProductCategory, verbose_name=_("产品类别"), on_delete=models.PROTECT,
                                 related_name="products")
    gtin = models.CharField(_("商品条码（GTIN）"), max_length=14, unique=True, null=True, blank=True,
                            validators=[gtin_validator],
                            help_text=_("8、12、13 或 14 位，保存为 14 位 GTIN。"))
    is_key = models.BooleanField(_("重点监管产品"), default=False)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "producer__region__code"
    scope_entity_field = "producer"
    role_actions = {Role.ENTERPRISE: {VIEW, ADD, CHANGE, EXPORT}}

    class Meta:
        ordering = ["name", "id"]
        verbose_name = pgettext_lazy("model name", "产品")
        verbose_name_plural = _("产品")

    def __str__(self) -> str:
        return f"{self.name} {self.model}".strip()

    def get_absolute_url(self):
        return reverse("registry:product_detail", args=[self.pk])

    @property
    def gtin_display(self) -> str:
        """The GTIN as printed under the barcode: 13 digits for an EAN-13, else the stored 14."""
        if not self.gtin:
            return ""
        return self.gtin[1:] if self.gtin.startswith("0") else self.gtin

    def clean(self):
        super().clean()
        if self.gtin:
            try:
                self.gtin = validate_gtin(self.gtin)
            except IdentifierError as exc:
                raise ValidationError({"gtin": exc.reason}) from exc
        else:
            self.gtin = None


class LicenceQuerySet(RestrictedQuerySet):
    def expiring_within(self, days: int, today: dt.date | None = None):
        """Valid licences whose validity ends in the next ``days`` days (today included)."""
        today = today or timezone.localdate()
        return self.filter(status=Licence.Status.VALID, valid_until__gte=today,
                           valid_until__lte=today + dt.timedelta(days=days))


class Licence(BaseModel):
    """A licence or certificate held by an entity: production licence, CCC, management-system certificates."""

    class Kind(models.TextChoices):
        PRODUCTION_LICENCE = "production_licence", _("工业产品生产许可证")
        FOOD_PRODUCTION = "food_production", _("食品生产许可证")
        CCC = "ccc", _("强制性产品认证（CCC）")
        ISO9001 = "iso9001", _("质量管理体系认证（ISO 9001）")
        ISO14001 = "iso14001", _("环境管理体系认证（ISO 14001）")
        ISO45001 = "iso45001", _("职业健康安全管理体系认证（ISO 45001）")
        IATF16949 = "iatf16949", _("汽车质量管理体系认证（IATF 16949）")
        SPECIAL_EQUIPMENT = "special_equipment", _("特种设备生产许可证")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        VALID = "valid", _("有效")
        SUSPENDED = "suspended", _("暂停")
        REVOKED = "revoked", _("撤销")
        EXPIRED = "expired", _("过期")
        CANCELLED = "cancelled", _("注销")

    entity = models.ForeignKey(MarketEntity, verbose_name=_("持证主体"), on_delete=models.PROTECT,
                               related_name="licences")
    kind = models.CharField(_("证书类型"), max_length=32, choices=Kind.choices)
    number = models.CharField(_("证书编号"), max_length=64)
    issuer = models.CharField(_("发证机关"), max_length=128)
    scope = models.TextField(_("许可/认证范围"), blank=True)
    issued_on = models.DateField(_("发证日期"))
    valid_until = models.DateField(_("有效期至"), db_index=True)
    status = models.CharField(_("证书状态"), max_length=16, choices=Status.choices, default=Status.VALID,
                              db_index=True)

    objects = LicenceQuerySet.as_manager()
    scope_region_field = "entity__region__code"
    scope_entity_field = "entity"
    role_actions = {Role.ENTERPRISE: {VIEW, EXPORT}}

    class Meta:
        ordering = ["valid_until", "id"]
        verbose_name = pgettext_lazy("model name", "许可证与认证证书")
        verbose_name_plural = _("许可证与认证证书")
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="licence_kind_number_unique",
                                    violation_error_message=_("同类证书的编号不能重复。")),
            models.CheckConstraint(condition=models.Q(valid_until__gte=models.F("issued_on")),
                                   name="licence_valid_after_issue",
                                   violation_error_message=_("有效期截止日不能早于发证日期。")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    def get_absolute_url(self):
        return reverse("registry:licence_detail", args=[self.pk])

    @property
    def days_left(self) -> int:
        return (self.valid_until - timezone.localdate()).days


class EntityMembership(models.Model):
    """Links an enterprise user account to the one entity it acts for."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE,
                                related_name="entity_membership")
    entity = models.ForeignKey(MarketEntity, verbose_name=pgettext_lazy("field", "市场主体"), on_delete=models.CASCADE,
                               related_name="memberships")

    class Meta:
        ordering = ["entity", "user"]
        verbose_name = pgettext_lazy("model name", "企业账号")
        verbose_name_plural = _("企业账号")

    def __str__(self) -> str:
        return f"{self.user} → {self.entity}"
