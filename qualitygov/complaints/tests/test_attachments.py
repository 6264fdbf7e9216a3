"""Attachments: type by content, size and count limits, private storage under a random name, sha256,
and streaming only to readers of the case (the agent's documents only to identity readers, logged)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.urls import reverse

from qualitygov.complaints import attachments, intake
from qualitygov.complaints.models import Attachment
from qualitygov.complaints.tests.test_intake_support import EXE, JPEG, PDF, PNG, complaint_kwargs, upload
from qualitygov.core.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name,content,kind", [("photo.JPG", JPEG, "jpg"), ("shot.jpeg", JPEG, "jpg"),
                                               ("screen.png", PNG, "png"), ("receipt.pdf", PDF, "pdf")])
def test_accepted_types(name, content, kind):
    [checked] = attachments.check([(upload(name, content), "photo")])
    assert checked.type == kind


@pytest.mark.parametrize("name,content,code", [
    ("virus.jpg", EXE, "file_disguised"),          # a program named as a photo
    ("photo.png", JPEG, "file_disguised"),         # a JPEG named .png: name and content disagree
    ("fake.pdf", b"<html><script>", "file_disguised"),
    ("notes.docx", PDF, "file_type"),              # type not allowed, whatever the content
    ("run.exe", EXE, "file_type"),
    ("empty.jpg", b"", "file_empty"),
])
def test_refused_files_say_why_in_chinese(name, content, code):
    with pytest.raises(attachments.AttachmentRefused) as refused:
        attachments.check([(upload(name, content), "photo")])
    assert refused.value.code == code
    assert name in refused.value.messages[0]


def test_size_and_count_limits(settings):
    settings.COMPLAINTS_ATTACHMENT_MAX_BYTES = 1024
    with pytest.raises(attachments.AttachmentRefused) as refused:
        attachments.check([(upload("big.jpg", JPEG + b"\x00" * 1024), "photo")])
    assert refused.value.code == "file_too_large"
    settings.COMPLAINTS_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    six = [(upload(f"p{i}.jpg", JPEG), "photo") for i in range(6)]
    with pytest.raises(attachments.AttachmentRefused) as refused:
        attachments.check(six)
    assert refused.value.code == "too_many_files" and "最多上传 5 个文件" in refused.value.messages[0]


def test_default_limit_is_ten_megabytes():
    just_over = JPEG + b"\x00" * (10 * 1024 * 1024 - len(JPEG) + 1)
    with pytest.raises(attachments.AttachmentRefused) as refused:
        attachments.check([(upload("large.jpg", just_over), "photo")])
    assert "10 MB" in refused.value.messages[0]


def test_stored_privately_under_a_random_name_with_its_digest():
    result = intake.submit(**complaint_kwargs(), attachments=[(upload("发票.pdf", PDF), "receipt")])
    attachment = result.submission.attachments.get()
    path = attachments.path_of(attachment)
    assert path.read_bytes() == PDF
    assert Path(settings.COMPLAINTS_PRIVATE_DIR) in path.parents
    assert "发票" not in attachment.storage_name and attachment.storage_name.endswith(".pdf")
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest() and attachment.size == len(PDF)
    assert attachment.original_name == "发票.pdf" and attachment.content_type == "application/pdf"
    static_root = Path(settings.BASE_DIR) / "qualitygov" / "static"
    assert static_root not in path.parents


@pytest.fixture
def filed(registry):
    """A complaint in 南关区 with a photo and the agent's documents."""
    result = intake.submit(**complaint_kwargs(registry["nanguan"]["entity"], via_agent=True, agent_name="李律师"),
                           attachments=[(upload("photo.jpg", JPEG), Attachment.Kind.PHOTO),
                                        (upload("auth.pdf", PDF), Attachment.Kind.AUTHORISATION),
                                        (upload("id.jpg", JPEG), Attachment.Kind.AGENT_ID)])
    return {a.kind: a for a in result.submission.attachments.all()}


@pytest.mark.parametrize("username,status", [
    ("nanguan", 200), ("changchun", 200), ("province", 200), ("admin", 200),
    ("yanji", 404), ("inspector", 404), ("lab", 404), ("enterprise", 404),
])
def test_photo_only_to_readers_of_the_case(client, users, filed, username, status):
    client.force_login(users[username])
    response = client.get(reverse("complaints:intake-attachment", args=[filed["photo"].pk]))
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == JPEG
        assert response["Content-Type"] == "image/jpeg" and response["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in response["Content-Disposition"]


def test_anonymous_visitor_is_sent_to_sign_in(client, filed):
    response = client.get(reverse("complaints:intake-attachment", args=[filed["photo"].pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_agent_documents_only_to_identity_readers_and_logged(client, users, filed):
    url = reverse("complaints:intake-attachment", args=[filed["agent_id"].pk])
    officer = users["nanguan"]
    client.force_login(officer)
    assert client.get(url).status_code == 404
    officer.user_permissions.add(Permission.objects.get(codename="view_reporter_identity"))
    client.force_login(officer)
    before = AuditLog.objects.filter(action=AuditLog.Action.ACCESS).count()
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == JPEG
    entry = AuditLog.objects.filter(action=AuditLog.Action.ACCESS).latest("id")
    assert AuditLog.objects.filter(action=AuditLog.Action.ACCESS).count() == before + 1
    assert entry.username == "nanguan" and entry.region == "220102"
