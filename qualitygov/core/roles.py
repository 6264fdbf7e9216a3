"""Roles and what each may do.

One table answers "may this role do this action on this kind of record"; region and entity scope
are applied on top of it by ``RestrictedQuerySet.restrict``. Keeping the table in one place is
what lets the tests enumerate roles × pages × endpoints.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PROVINCE_ADMIN = "province_admin", _("省级管理员")
    PROVINCE_OFFICER = "province_officer", _("省级监管人员")
    CITY_OFFICER = "city_officer", _("市级监管人员")
    COUNTY_OFFICER = "county_officer", _("县级监管人员")
    INSPECTOR = "inspector", _("执法检查人员")
    LAB_STAFF = "lab_staff", _("检验机构人员")
    ENTERPRISE = "enterprise", _("企业用户")
    DATA_CONSUMER = "data_consumer", _("部门数据用户")


VIEW, ADD, CHANGE, DELETE, IMPORT, EXPORT = "view", "add", "change", "delete", "import", "export"
ALL_ACTIONS = frozenset({VIEW, ADD, CHANGE, DELETE, IMPORT, EXPORT})
OFFICER_ACTIONS = frozenset({VIEW, ADD, CHANGE, IMPORT, EXPORT})
READ_ACTIONS = frozenset({VIEW, EXPORT})

OFFICER_ROLES = frozenset({Role.PROVINCE_OFFICER, Role.CITY_OFFICER, Role.COUNTY_OFFICER})

# Per role: the actions allowed on regional records by default. A model may narrow this with
# ``role_actions`` (see ``actions_for``); enterprise users act only on their own entity's records.
DEFAULT_ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.PROVINCE_ADMIN: ALL_ACTIONS,
    Role.PROVINCE_OFFICER: OFFICER_ACTIONS,
    Role.CITY_OFFICER: OFFICER_ACTIONS,
    Role.COUNTY_OFFICER: OFFICER_ACTIONS,
    Role.INSPECTOR: READ_ACTIONS,
    Role.LAB_STAFF: frozenset({VIEW}),
    Role.ENTERPRISE: frozenset({VIEW}),
    Role.DATA_CONSUMER: frozenset({VIEW}),
}

# Roles that may use the back-office pages; the data consumer works through the API only.
PAGE_ROLES = frozenset(DEFAULT_ROLE_ACTIONS) - {Role.DATA_CONSUMER}
# Roles whose scope is a region (the others are the whole province or a single entity).
REGIONAL_ROLES = frozenset({Role.CITY_OFFICER, Role.COUNTY_OFFICER, Role.INSPECTOR, Role.LAB_STAFF,
                            Role.PROVINCE_OFFICER, Role.DATA_CONSUMER})


def actions_for(role: str | None, model: type[models.Model]) -> frozenset[str]:
    """Actions ``role`` may take on ``model``: the model's own table if it has one, else the default."""
    if not role:
        return frozenset()
    table = getattr(model, "role_actions", None)
    if table is not None and role in table:
        return frozenset(table[role])
    return DEFAULT_ROLE_ACTIONS.get(role, frozenset())
