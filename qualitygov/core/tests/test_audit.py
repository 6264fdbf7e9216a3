"""The audit log records who changed what with before/after values, is append-only, and shows tampering."""

from __future__ import annotations

import pytest
from django.db import connection

from qualitygov.core import audit
from qualitygov.core.models import AuditLog


@pytest.mark.django_db
def test_change_is_recorded_with_before_and_after(registry, users):
    entity = registry["nanguan"]["entity"]
    with audit.acting_as(users["nanguan"], "10.1.2.3"):
        entity.phone = "0431-88888888"
        entity.save()
    entry = audit.history_for(entity).first()
    assert entry.action == "update"
    assert entry.username == "nanguan" and entry.ip_address == "10.1.2.3"
    assert entry.before == {"phone": ""} and entry.after == {"phone": "0431-88888888"}
    assert entry.region == "220102"


@pytest.mark.django_db
def test_create_and_delete_are_recorded(registry, users):
    person = registry["yanji"]["person"]
    pk = person.pk
    with audit.acting_as(users["admin"]):
        person.delete()
    kinds = list(AuditLog.objects.filter(object_id=str(pk), content_type__model="qualityperson")
                 .values_list("action", flat=True))
    assert kinds == ["delete", "create"]


@pytest.mark.django_db
def test_saving_without_change_writes_nothing(registry):
    entity = registry["nanguan"]["entity"]
    before = AuditLog.objects.count()
    entity.save()
    assert AuditLog.objects.count() == before


@pytest.mark.django_db
def test_log_is_append_only(registry):
    entry = AuditLog.objects.first()
    entry.message = "edited"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.update(message="x")


@pytest.mark.django_db
def test_chain_detects_tampering_in_the_database(registry):
    assert AuditLog.objects.count() >= 12
    assert audit.verify_chain() == []
    target = AuditLog.objects.order_by("id")[3]
    with connection.cursor() as cursor:  # what an intruder with database access would do
        cursor.execute(f"UPDATE {AuditLog._meta.db_table} SET username = %s WHERE id = %s", ["intruder", target.pk])
    assert audit.verify_chain() == [target.pk]


@pytest.mark.django_db
def test_chain_detects_deleted_entry(registry):
    ids = list(AuditLog.objects.order_by("id").values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditLog._meta.db_table} WHERE id = %s", [ids[2]])
    assert audit.verify_chain() == [ids[3]]


@pytest.mark.django_db
def test_history_page_shows_translated_fields(registry, users, login):
    entity = registry["nanguan"]["entity"]
    with audit.acting_as(users["nanguan"]):
        entity.status = "suspended"
        entity.save()
    page = login("nanguan").get(f"/registry/entities/{entity.pk}/history/").content.decode()
    assert "登记状态" in page and "存续（在营）" in page and "停业" in page and "nanguan" in page


@pytest.mark.django_db
def test_web_edit_is_attributed_to_the_user_and_address(registry, login):
    entity = registry["nanguan"]["entity"]
    client = login("nanguan")
    data = {"uscc": entity.uscc, "name": entity.name, "legal_representative": "王五", "region": entity.region_id,
            "industry": entity.industry_id, "address": entity.address, "size_class": entity.size_class,
            "registration_date": entity.registration_date.isoformat(), "status": entity.status, "phone": ""}
    response = client.post(f"/registry/entities/{entity.pk}/edit/", data, REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 302
    entry = audit.history_for(entity).first()
    assert (entry.username, entry.ip_address, entry.after) == ("nanguan", "192.0.2.7", {"legal_representative": "王五"})
