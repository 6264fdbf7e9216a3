"""The daily job forgets the client digest of anonymous submissions once the rate-limit window is long past."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from qualitygov.complaints import handling
from qualitygov.complaints.models import Submission

pytestmark = pytest.mark.django_db


def _submission(number: str, *, anonymous: bool, days_ago: int) -> Submission:
    received = timezone.now() - dt.timedelta(days=days_ago)
    return Submission.objects.create(tracking_number=number, received_at=received, anonymous=anonymous,
                                     description="举报某超市销售过期食品", client_digest="ab" * 32)


def test_old_anonymous_digests_are_cleared_and_nothing_else():
    old_anonymous = _submission("TJ-1", anonymous=True, days_ago=5)
    fresh_anonymous = _submission("TJ-2", anonymous=True, days_ago=0)
    old_named = _submission("TJ-3", anonymous=False, days_ago=5)
    summary = handling.daily(timezone.localdate())
    assert summary["client_digests_cleared"] == 1
    digests = dict(Submission.objects.values_list("tracking_number", "client_digest"))
    assert digests[old_anonymous.tracking_number] == ""
    # Still inside the rate-limit window; a named submitter's digest is no secret about him.
    assert digests[fresh_anonymous.tracking_number] == "ab" * 32
    assert digests[old_named.tracking_number] == "ab" * 32
    assert handling.daily(timezone.localdate())["client_digests_cleared"] == 0
