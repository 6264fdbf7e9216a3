"""Reporter identities are encrypted at rest and keys can be rotated (SAMR Order 20, Art. 33)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from qualitygov.complaints import crypto
from qualitygov.complaints.models import ReporterIdentity, Submission


def _submission() -> Submission:
    from django.utils import timezone

    return Submission.objects.create(tracking_number="TS-CRYPTO-1", received_at=timezone.now(),
                                     description="在超市购买的饮料变质")


def test_round_trip_and_fresh_ciphertext_each_time():
    first, second = crypto.encrypt("王小明"), crypto.encrypt("王小明")
    assert first != second  # Fernet uses a fresh IV: equal names do not give equal ciphertexts
    assert crypto.decrypt(first) == crypto.decrypt(second) == "王小明"
    assert crypto.encrypt("") == "" and crypto.decrypt("") == ""


@pytest.mark.django_db
def test_database_holds_ciphertext_only():
    identity = ReporterIdentity.objects.create(submission=_submission(), name="王小明", phone="13912345678",
                                               address="长春市南关区人民大街 1 号")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, phone, address FROM complaints_reporteridentity WHERE id = %s", [identity.pk])
        stored = cursor.fetchone()
    assert all(value and "王小明" not in value and "13912345678" not in value and "人民大街" not in value
               for value in stored)
    again = ReporterIdentity.objects.get(pk=identity.pk)
    assert (again.name, again.phone, again.address) == ("王小明", "13912345678", "长春市南关区人民大街 1 号")


@pytest.mark.django_db
def test_rotated_key_still_reads_old_values_and_a_foreign_key_is_refused(settings):
    old_key = Fernet.generate_key().decode()
    settings.COMPLAINTS_ENCRYPTION_KEYS = [old_key]
    identity = ReporterIdentity.objects.create(submission=_submission(), name="李四")
    new_key = Fernet.generate_key().decode()
    settings.COMPLAINTS_ENCRYPTION_KEYS = [new_key, old_key]  # newest first: old values still decrypt
    assert ReporterIdentity.objects.get(pk=identity.pk).name == "李四"
    settings.COMPLAINTS_ENCRYPTION_KEYS = [new_key]
    with pytest.raises(ValueError, match="无法解密"):
        ReporterIdentity.objects.get(pk=identity.pk)


def test_digest_matches_the_same_number_written_differently_and_is_keyed(settings):
    assert crypto.digest("139-1234 5678") == crypto.digest("13912345678")
    assert crypto.digest("13912345678") != crypto.digest("13912345679")
    assert crypto.digest("") == ""
    before = crypto.digest("13912345678")
    settings.SECRET_KEY = "another-secret-key-of-at-least-32-characters"
    assert crypto.digest("13912345678") != before  # without the key nobody can test guesses offline
