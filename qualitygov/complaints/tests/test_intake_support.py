"""Shared helpers of the intake tests: valid materials and small real files (no tests here)."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + b"\x00" * 32
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# A Windows program renamed to look like a photo.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64

NAME, PHONE, ADDRESS = "王小明", "13812345678", "吉林省长春市南关区幸福街8号"


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """A Beijing time on ``day``."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def complaint_kwargs(entity=None, **overrides) -> dict:
    """Everything Art. 9 asks of a complaint (against ``entity`` when given)."""
    data = {"kind": "complaint", "name": NAME, "phone": PHONE, "address": ADDRESS,
            "respondent_entity": entity, "respondent_name": "" if entity else "长春某商店",
            "respondent_address": "" if entity else "长春市朝阳区西安大路100号",
            "request": "退货并退还货款 899 元", "description": "购买的制动软管使用一周即开裂漏油，商家拒绝退货。",
            "product_name": "制动软管", "category": "product_quality"}
    data.update(overrides)
    return data


def tip_off_kwargs(entity=None, **overrides) -> dict:
    data = {"kind": "tip_off", "anonymous": True, "respondent_entity": entity,
            "respondent_name": "" if entity else "延吉某加工点", "respondent_address": "" if entity else "延吉市河南街",
            "description": "该加工点使用回收旧料翻新制动软管并贴用其他厂家商标出售，每周二晚上装车发货。"}
    data.update(overrides)
    return data
