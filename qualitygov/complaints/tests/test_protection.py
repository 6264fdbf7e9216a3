"""Reporter protection (Art. 33): the identity is ciphertext in the database, masked for everybody
without the permission, revealed only to holders of it within their scope, and every reveal is in the
audit log — whose values, like the logs, never carry the identity."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse

from qualitygov.complaints import intake, protection
from qualitygov.complaints.tests.test_intake_support import (
    ADDRESS,
    NAME,
    PHONE,
    complaint_kwargs,
    tip_off_kwargs,
)
from qualitygov.core.models import AuditLog

pytestmark = pytest.mark.django_db
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def case(registry):
    return intake.submit(**complaint_kwargs(registry["nanguan"]["entity"], id_number=ID_NUMBER,
                                            email="wxm@example.cn")).cases[0]


def _grant(user):
    user.user_permissions.add(Permission.objects.get(codename="view_reporter_identity"))
    # The permission cache lives on the object: read it afresh.
    return type(user).objects.get(pk=user.pk)


def test_identity_is_ciphertext_in_the_database(case):
    table = "complaints_reporteridentity"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name, phone, address, id_number, email FROM {table} WHERE submission_id = %s",
                       [case.submission_id])
        row = cursor.fetchone()
    raw = " ".join(row)
    for plain in (NAME, PHONE, ADDRESS, ID_NUMBER, "wxm@example.cn", "5678"):
        assert plain not in raw
    assert all(value.startswith("gAAAA") for value in row)  # Fernet tokens
    # And the model reads them back.
    assert case.submission.identity.name == NAME


def test_a_user_without_the_permission_gets_masked_values_only(users, case):
    officer = users["nanguan"]
    assert not protection.can_view_identity(officer, case)
    with pytest.raises(PermissionDenied):
        protection.reveal(officer, case, purpose="好奇")
    masked = protection.masked(case)
    assert masked["name"] == "王**" and masked["phone"] == "138****5678"
    assert NAME not in json.dumps(masked, ensure_ascii=False) and PHONE not in json.dumps(masked)
    assert masked["id_number"].startswith("1") and ID_NUMBER not in masked["id_number"]
    assert masked["email"] == "w***@example.cn"
    assert AuditLog.objects.filter(action=AuditLog.Action.ACCESS).count() == 0


def test_permission_holders_see_it_only_within_their_scope(users, case):
    inside, outside = _grant(users["nanguan"]), _grant(users["yanji"])
    assert protection.can_view_identity(inside, case)
    assert not protection.can_view_identity(outside, case)
    with pytest.raises(PermissionDenied):
        protection.reveal(outside, case)
    # Enterprise users never, whatever permission they were given: cases are not theirs to read.
    assert not protection.can_view_identity(_grant(users["enterprise"]), case)


def test_every_reveal_is_audited_without_the_values(users, case):
    officer = _grant(users["nanguan"])
    for purpose in ("联系投诉人组织调解", "核对地址"):
        values = protection.reveal(officer, case, purpose=purpose)
        assert values["name"] == NAME and values["phone"] == PHONE and values["id_number"] == ID_NUMBER
    entries = list(AuditLog.objects.filter(action=AuditLog.Action.ACCESS).order_by("id"))
    assert len(entries) == 2
    assert [e.username for e in entries] == ["nanguan", "nanguan"]
    assert "联系投诉人组织调解" in entries[0].message and case.number in entries[0].message
    assert set(entries[0].after["fields"]) == {"name", "phone", "address", "id_number", "email"}
    assert entries[0].region == "220102" and entries[0].object_id == str(case.pk)
    for entry in entries:
        text = json.dumps([entry.after, entry.before, entry.message, entry.object_repr], ensure_ascii=False)
        assert NAME not in text and PHONE not in text and ID_NUMBER not in text


def test_the_audit_log_and_the_logs_never_carry_the_identity(caplog, registry):
    caplog.set_level(logging.DEBUG)
    intake.submit(**complaint_kwargs(registry["nanguan"]["entity"], id_number=ID_NUMBER, kind="both"))
    everything = json.dumps([[e.before, e.after, e.message, e.object_repr] for e in AuditLog.objects.all()],
                            ensure_ascii=False)
    assert AuditLog.objects.filter(action="create").exists()
    for plain in (NAME, PHONE, ADDRESS, ID_NUMBER):
        assert plain not in everything
        assert plain not in caplog.text


def test_anonymous_reporter_has_nothing_to_reveal(users, registry):
    case = intake.submit(**tip_off_kwargs(registry["nanguan"]["entity"])).cases[0]
    assert protection.masked(case)["anonymous"] and protection.masked(case)["name"] == ""
    values = protection.reveal(_grant(users["nanguan"]), case, purpose="核查")
    assert values["anonymous"] and values["name"] == "" and values["phone"] == ""


def test_identity_panel_masks_or_reveals_with_an_audit_entry(client, users, case):
    url = reverse("complaints:intake-identity", args=[case.pk])
    client.force_login(users["nanguan"])
    page = client.get(url).content.decode()
    assert "王**" in page and NAME not in page and "查看投诉人信息" not in page
    assert client.post(url, {"purpose": "调解"}).status_code == 403
    _grant(users["nanguan"])
    client.force_login(users["nanguan"])
    assert "查看投诉人信息" in client.get(url).content.decode()
    revealed = client.post(url, {"purpose": "调解"}).content.decode()
    assert NAME in revealed and PHONE in revealed and "审计日志" in revealed
    assert AuditLog.objects.filter(action=AuditLog.Action.ACCESS, username="nanguan").count() == 1
    client.force_login(users["yanji"])
    assert client.get(url).status_code == 404
