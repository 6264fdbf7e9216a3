"""Files sent with a submission: photos, receipts, documents, the agent's authorisation and ID.

- Only JPEG, PNG and PDF, at most ``MAX_BYTES`` each and ``MAX_FILES`` per submission (settings
  ``COMPLAINTS_ATTACHMENT_MAX_BYTES`` / ``COMPLAINTS_ATTACHMENT_MAX_FILES`` may change the limits).
- The type is read from the file's first bytes (its signature: JPEG ``FF D8 FF``, PNG ``89 50 4E 47 0D 0A
  1A 0A`` followed by an ``IHDR`` chunk, PDF ``%PDF-``), never trusted from the name or the browser: a
  file whose name says ``.jpg`` but whose content is something else is refused, and so is one whose
  content and name disagree.
- Files are written under ``settings.COMPLAINTS_PRIVATE_DIR`` (outside the web root) under a random
  name; the original name is kept only as a label, with the SHA-256 of the content.
- A file is served only to users who may read a case of its submission (``readable_by``); the agent's
  authorisation and ID documents carry the complainant's and agent's identity, so they are served only
  to users who may see the identity, and each such read is in the audit log (``complaints.protection``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from qualitygov.complaints.models import Attachment

__all__ = ["AttachmentRefused", "CheckedFile", "IDENTITY_KINDS", "MAX_BYTES", "MAX_FILES", "check", "path_of",
           "readable_by", "remove_files", "store"]

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
# (extension, content type, names accepted for it)
TYPES = {
    "jpg": ("image/jpeg", (".jpg", ".jpeg")),
    "png": ("image/png", (".png",)),
    "pdf": ("application/pdf", (".pdf",)),
}
CHUNK = 64 * 1024


# Attachment kinds that carry someone's identity (the Art. 10 documents).
IDENTITY_KINDS = frozenset({Attachment.Kind.AUTHORISATION, Attachment.Kind.AGENT_ID})


class AttachmentRefused(ValidationError):
    """A file refused, with a Chinese message naming it and a stable ``code``."""

    def __init__(self, message, code="attachment_refused"):
        super().__init__(message, code=code)
        self.code = code


@dataclass
class CheckedFile:
    """An uploaded file that passed the checks, with what was read from it."""

    upload: object
    kind: str
    type: str          # "jpg", "png" or "pdf"
    content_type: str
    name: str
    size: int


def max_bytes() -> int:
    return int(getattr(settings, "COMPLAINTS_ATTACHMENT_MAX_BYTES", MAX_BYTES))


def max_files() -> int:
    return int(getattr(settings, "COMPLAINTS_ATTACHMENT_MAX_FILES", MAX_FILES))


def sniff(head: bytes) -> str | None:
    """The type a file's first bytes say it is ("jpg", "png", "pdf"), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        return "png"
    if head.startswith(b"%PDF-"):
        return "pdf"
    return None


def _head(upload, size: int = 32) -> bytes:
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return head


def _size(upload) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, os.SEEK_END)
        size = upload.tell()
        upload.seek(0)
    return int(size)


def check(files) -> list[CheckedFile]:
    """Check ``files`` — (upload, kind) pairs — against the type, size and count limits.

    Raises ``AttachmentRefused`` naming the first file refused and why; nothing is written.
    """
    files = [(upload, kind) for upload, kind in files if upload is not None]
    limit_files, limit_bytes = max_files(), max_bytes()
    if len(files) > limit_files:
        raise AttachmentRefused(_("最多上传 %(count)s 个文件，本次上传了 %(given)s 个。") % {
            "count": limit_files, "given": len(files)}, code="too_many_files")
    checked = []
    for upload, kind in files:
        name = os.path.basename(getattr(upload, "name", "") or "")[:200] or _("未命名文件")
        extension = os.path.splitext(name)[1].lower()
        by_name = next((key for key, (_ct, names) in TYPES.items() if extension in names), None)
        if by_name is None:
            raise AttachmentRefused(_("文件“%(name)s”的类型不允许：只接受 JPG、PNG 图片和 PDF 文件。") % {"name": name},
                                    code="file_type")
        size = _size(upload)
        if size == 0:
            raise AttachmentRefused(_("文件“%(name)s”是空文件。") % {"name": name}, code="file_empty")
        if size > limit_bytes:
            raise AttachmentRefused(_("文件“%(name)s”超过 %(mb)s MB 的大小限制。") % {
                "name": name, "mb": limit_bytes // (1024 * 1024)}, code="file_too_large")
        by_content = sniff(_head(upload))
        if by_content != by_name:
            # The name says one thing and the content another (e.g. a program renamed to .jpg).
            raise AttachmentRefused(_("文件“%(name)s”的内容与其文件类型不符（可能是改了扩展名的其他文件），已拒收。请上传真实的 "
                                      "JPG、PNG 图片或 PDF 文件。") % {"name": name}, code="file_disguised")
        checked.append(CheckedFile(upload, kind, by_name, TYPES[by_name][0], name, size))
    return checked


def private_dir() -> Path:
    return Path(settings.COMPLAINTS_PRIVATE_DIR)


def path_of(attachment) -> Path:
    """Where an attachment's content is on disk."""
    return private_dir() / attachment.storage_name[:2] / attachment.storage_name


def _chunks(upload):
    if hasattr(upload, "chunks"):
        yield from upload.chunks(CHUNK)
        return
    while chunk := upload.read(CHUNK):
        yield chunk


def store(submission, checked: list[CheckedFile], written: list[Path]) -> list:
    """Write each checked file under a random name and create its ``Attachment`` row.

    Each path is appended to ``written`` as soon as the file exists, so that the caller can remove
    every file of a submission that fails later (``remove_files``).
    """
    rows = []
    for item in checked:
        storage_name = f"{secrets.token_hex(16)}.{item.type}"
        target = private_dir() / storage_name[:2] / storage_name
        target.parent.mkdir(parents=True, exist_ok=True)
        sha = hashlib.sha256()
        upload = item.upload
        upload.seek(0)
        written.append(target)
        with open(target, "xb") as out:
            for chunk in _chunks(upload):
                sha.update(chunk)
                out.write(chunk)
        os.chmod(target, 0o600)
        rows.append(Attachment(submission=submission, kind=item.kind, original_name=item.name,
                               content_type=item.content_type, size=item.size, sha256=sha.hexdigest(),
                               storage_name=storage_name))
    return Attachment.objects.bulk_create(rows)


def remove_files(paths) -> None:
    """Remove files written for a submission that was not stored."""
    for path in paths:
        try:
            Path(path).unlink()
        except FileNotFoundError:
            pass


def readable_by(user, attachment) -> bool:
    """May ``user`` read ``attachment``: a case of its submission is in the user's scope, and for the
    agent's authorisation and ID, the user may also see reporters' identities."""
    from qualitygov.complaints import protection
    from qualitygov.complaints.models import Case
    from qualitygov.core.roles import VIEW

    cases = Case.objects.restrict(user, VIEW).filter(submission_id=attachment.submission_id)
    case = cases.first()
    if case is None:
        return False
    if attachment.kind in IDENTITY_KINDS:
        return protection.can_view_identity(user, case)
    return True
