"""The spine's own records: regions, industries, product categories, users, and the audit log.

Also the small hierarchy of base models every module builds on (timestamps, change logging,
region scope through one restricting queryset).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.roles import DEFAULT_ROLE_ACTIONS, VIEW, Role, actions_for


def localized_name(name: str, name_en: str) -> str:
    """The English name on English pages where the reference data has one, else the Chinese name."""
    from django.utils.translation import get_language

    language = get_language() or ""
    return name_en if language.startswith("en") and name_en else name


def region_prefix(code: str) -> str:
    """Code prefix that every region inside ``code`` shares (GB/T 2260 is hierarchical).

    ``220000`` (province) → ``22``; ``220100`` (city) → ``2201``; ``220102`` (county) → ``220102``.
    """
    if code[2:] == "0000":
        return code[:2]
    if code[4:] == "00":
        return code[:4]
    return code


def region_q(field: str, prefix: str) -> models.Q:
    """Rows whose region code at ``field`` starts with ``prefix``, as an index-friendly range.

    ``LIKE 'prefix%'`` cannot use a plain B-tree index on PostgreSQL under a non-C collation, nor
    on SQLite, so a prefix of the all-digit GB/T 2260 codes becomes ``prefix <= code < next``
    (``2201`` → ``['2201', '2202')``); a full six-digit code is an equality.
    """
    if len(prefix) >= 6:
        return models.Q(**{field: prefix})
    if not prefix.isdigit():
        return models.Q(pk__in=[])  # no region: matches nothing
    upper = str(int(prefix) + 1).zfill(len(prefix))
    return models.Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})


class RestrictedQuerySet(models.QuerySet):
    """QuerySet with the one scoping method every page, export and API endpoint goes through."""

    def restrict(self, user, action: str = VIEW):
        """Rows of this queryset that ``user`` may see for ``action`` (role, region and entity scope)."""
        model = self.model
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        if action not in actions_for(user.role, model):
            return self.none()
        return model.apply_scope(self, user)


class BaseModel(models.Model):
    """Timestamps, change logging and the restricting manager.

    Subclasses say where their scope lives: ``scope_region_field`` (a path to a region *code*,
    e.g. ``entity__region__code``, or None for records every role may read) and ``scope_entity_field`` (a path to the
    market entity's primary key, used for enterprise users; None means enterprise users see none).
    """

    created = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    scope_region_field: str | None = None
    scope_entity_field: str | None = None
    # Fields that change on every save and say nothing to a reader of the history.
    audit_exclude: tuple[str, ...] = ("created", "updated")

    class Meta:
        abstract = True

    @classmethod
    def apply_scope(cls, queryset, user):
        """Filter ``queryset`` to the user's region or entity."""
        if user.role == Role.ENTERPRISE:
            entity_id = user.entity_id
            if cls.scope_entity_field is None or entity_id is None:
                return queryset.none()
            return queryset.filter(**{cls.scope_entity_field: entity_id})
        if cls.scope_region_field is None:
            return queryset
        prefix = user.region_prefix
        if prefix is None:
            return queryset
        return queryset.filter(region_q(cls.scope_region_field, prefix))

    def region_code_for_audit(self) -> str:
        """Region code the audit entry is filed under, so region officers see their own history."""
        field = self.scope_region_field
        if not field:
            return ""
        value = self
        for part in field.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return ""
        return getattr(value, "pk", value) or ""


class Region(models.Model):
    """An administrative division (行政区划) with its GB/T 2260 six-digit code."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("省级")
        CITY = "city", _("地级")
        COUNTY = "county", _("县级")

    code = models.CharField(_("区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=128, blank=True)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("类型"), max_length=32)
    parent = models.ForeignKey("self", verbose_name=_("上级区划"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    is_development_zone = models.BooleanField(_("开发区"), default=False)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "code"
    scope_entity_field = None

    class Meta:
        ordering = ["code"]
        # Chinese has one word for singular and plural; the context lets English tell them apart.
        verbose_name = pgettext_lazy("model name", "行政区划")
        verbose_name_plural = _("行政区划")
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[0-9]{6}$"), name="region_code_six_digits",
                                   violation_error_message=_("区划代码必须为 6 位数字。")),
        ]

    def __str__(self) -> str:
        return localized_name(self.name, self.name_en)

    @property
    def prefix(self) -> str:
        return region_prefix(self.code)

    @property
    def full_name(self) -> str:
        """Name with its parents, for example 吉林省 长春市 南关区."""
        names, node = [], self
        while node is not None:
            names.append(str(node))
            node = node.parent
        return " ".join(reversed(names))

    @classmethod
    def apply_scope(cls, queryset, user):
        # Everybody may read the list of divisions: it is public reference data.
        return queryset


class Industry(models.Model):
    """A GB/T 4754-2017 industry (国民经济行业分类): a section letter or a two-digit division."""

    class Level(models.TextChoices):
        SECTION = "section", _("门类")
        DIVISION = "division", _("大类")

    code = models.CharField(_("行业代码"), max_length=4, primary_key=True)
    name = models.CharField(_("名称"), max_length=128)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey("self", verbose_name=_("所属门类"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = None

    class Meta:
        ordering = ["code"]
        verbose_name = pgettext_lazy("model name", "国民经济行业")
        verbose_name_plural = _("国民经济行业")

    def __str__(self) -> str:
        return f"{self.code} {localized_name(self.name, self.name_en)}"

    @classmethod
    def apply_scope(cls, queryset, user):
        return queryset


class ProductCategory(models.Model):
    """A category of the key supervised product catalogue (重点监管产品目录), two levels deep."""

    code = models.CharField(_("类别代码"), max_length=8, primary_key=True)
    name = models.CharField(_("名称"), max_length=128)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    parent = models.ForeignKey("self", verbose_name=_("上级类别"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    industry = models.ForeignKey(Industry, verbose_name=_("所属行业"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="product_categories")
    is_key = models.BooleanField(_("重点监管"), default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = pgettext_lazy("model name", "产品类别")
        verbose_name_plural = pgettext_lazy("model name plural", "产品类别")

    def __str__(self) -> str:
        return f"{self.code} {localized_name(self.name, self.name_en)}"

    @classmethod
    def apply_scope(cls, queryset, user):
        return queryset


class User(AbstractUser):
    """A person who signs in: a role and the region (or, for enterprise users, the entity) it covers."""

    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, blank=True)
    region = models.ForeignKey(Region, verbose_name=_("辖区"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="users")
    organisation = models.CharField(_("所在单位"), max_length=128, blank=True)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)

    objects = UserManager()

    class Meta:
        ordering = ["username"]
        verbose_name = pgettext_lazy("model name", "用户")
        verbose_name_plural = pgettext_lazy("model name plural", "用户")

    def __str__(self) -> str:
        full = f"{self.last_name}{self.first_name}".strip()
        return f"{full} ({self.username})" if full else self.username

    def clean(self):
        super().clean()
        if not self.role:
            return
        level_needed = {
            Role.CITY_OFFICER: Region.Level.CITY,
            Role.COUNTY_OFFICER: Region.Level.COUNTY,
            Role.PROVINCE_OFFICER: Region.Level.PROVINCE,
            Role.PROVINCE_ADMIN: Region.Level.PROVINCE,
        }.get(self.role)
        if self.role not in (Role.ENTERPRISE,) and self.region_id is None:
            raise ValidationError({"region": _("该角色必须指定辖区。")})
        if level_needed and self.region is not None and self.region.level != level_needed:
            raise ValidationError({"region": _("%(role)s 的辖区必须是%(level)s区划。") % {
                "role": self.get_role_display(), "level": Region.Level(level_needed).label}})

    @property
    def display_name(self) -> str:
        """Name in Chinese order (family name first), or the username."""
        return f"{self.last_name}{self.first_name}".strip() or self.username

    @property
    def region_prefix(self) -> str | None:
        """Region-code prefix this user sees, or None for the whole database."""
        if self.is_superuser or self.role == Role.PROVINCE_ADMIN:
            return None
        if self.region_id is None:
            return "-"  # matches no code: a regional role without a region sees nothing
        return region_prefix(self.region_id)

    @property
    def entity_id(self):
        """Primary key of the market entity an enterprise user acts for, or None."""
        membership = getattr(self, "entity_membership", None)
        return membership.entity_id if membership is not None else None

    @property
    def can_use_pages(self) -> bool:
        return self.is_superuser or self.role in DEFAULT_ROLE_ACTIONS and self.role != Role.DATA_CONSUMER


class AuditQuerySet(RestrictedQuerySet):
    """The audit log is append-only: bulk updates and deletes are refused."""

    def update(self, **kwargs):
        raise PermissionError("审计日志只能追加，不能修改。")

    def delete(self):
        raise PermissionError("审计日志只能追加，不能删除。")


class AuditLog(models.Model):
    """Who changed what, when and from where, with before and after values (append-only, hash-chained)."""

    class Action(models.TextChoices):
        CREATE = "create", _("新建")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")
        IMPORT = "import", _("批量导入")
        ACCESS = "access", _("敏感信息访问")

    time = models.DateTimeField(_("时间"), db_index=True)
    user = models.ForeignKey(User, verbose_name=_("操作人"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    username = models.CharField(_("用户名"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=36, blank=True)
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices)
    content_type = models.ForeignKey("contenttypes.ContentType", verbose_name=_("对象类型"), null=True,
                                     on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("对象"), max_length=255, blank=True)
    region = models.CharField(_("区划代码"), max_length=6, blank=True, db_index=True)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)
    message = models.TextField(_("说明"), blank=True)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, blank=True)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()
    scope_region_field = "region"
    scope_entity_field = None
    # Officers read the history of their region; nobody edits it. Enterprise users never read the
    # log (it holds other companies' changes and officers' addresses); they see their own records'
    # history on those records' pages.
    role_actions = {role: ({VIEW} if role != Role.ENTERPRISE else set()) for role in DEFAULT_ROLE_ACTIONS}

    class Meta:
        ordering = ["-time", "-id"]
        verbose_name = pgettext_lazy("model name", "审计日志")
        verbose_name_plural = _("审计日志")
        indexes = [models.Index(fields=["content_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.username} {self.get_action_display()} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("审计日志只能追加，不能修改。")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("core:auditlog_detail", args=[self.pk])

    def delete(self, *args, **kwargs):
        raise PermissionError("审计日志只能追加，不能删除。")

    @classmethod
    def apply_scope(cls, queryset, user):
        if user.role == Role.ENTERPRISE:
            return queryset.none()
        prefix = user.region_prefix
        if prefix is None:
            return queryset
        return queryset.filter(region_q("region", prefix))
