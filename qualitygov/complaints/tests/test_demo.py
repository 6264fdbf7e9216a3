"""The complaints demo (``qualitygov seed-complaints-demo``): cases through the real services, the
identity group and user, published months, and idempotence."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from qualitygov.complaints import protection
from qualitygov.complaints.demo import IDENTITY_GROUP, IDENTITY_USER, seed_complaints_demo
from qualitygov.complaints.models import Case, CaseEvent, MonthlySummary, Submission
from qualitygov.core.models import User

pytestmark = [pytest.mark.django_db]


def test_demo_makes_handled_cases_once(registry, users):
    summary = seed_complaints_demo(seed=7)
    cases = Case.objects.all()
    assert summary["submissions"] == Submission.objects.count() >= 40
    assert cases.filter(kind=Case.Kind.COMPLAINT).count() == summary["complaints"]
    assert cases.filter(kind=Case.Kind.TIP_OFF).count() == summary["tip_offs"]
    # Every stage a new user tries is there, with the events the services write.
    statuses = set(cases.values_list("status", flat=True))
    assert {Case.Status.RECEIVED, Case.Status.CLOSED, Case.Status.MEDIATING} <= statuses
    assert cases.filter(satisfaction__isnull=False).count() == summary["rated"] > 0
    assert cases.filter(penalty_decision_number__gt="", credit_record__isnull=False).count() == summary["penalties"] == 1
    assert set(Submission.objects.values_list("channel", flat=True)) >= {"web", "phone", "letter", "counter"}
    assert cases.values("handling_unit").distinct().count() == 3  # the registry fixture's three counties
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.ACCEPTED).exists()
    assert cases.filter(linked_case__isnull=False).count() == 2  # the complaint-and-tip-off submission
    # Ended months published: only months before the current one.
    months = list(MonthlySummary.objects.values_list("month", flat=True))
    assert months and max(months) < timezone.localdate().replace(day=1)
    assert summary["published_months"] == sorted(m.strftime("%Y-%m") for m in months)
    # Running again adds nothing.
    again = seed_complaints_demo(seed=7)
    assert again["skipped"] == "complaint cases exist"
    assert Submission.objects.count() == summary["submissions"] and MonthlySummary.objects.count() == len(months)


def test_identity_user_may_reveal_and_others_may_not(registry, users):
    seed_complaints_demo(seed=7)
    officer = User.objects.get(username=IDENTITY_USER)
    assert officer.groups.filter(name=IDENTITY_GROUP).exists()
    assert officer.has_perm("complaints.view_reporter_identity")
    case = Case.objects.filter(handling_unit_id="220102", submission__anonymous=False).first()
    assert protection.can_view_identity(officer, case)
    assert not protection.can_view_identity(users["nanguan"], case)
    seed_complaints_demo(seed=7)  # idempotent: still one group, one user
    assert User.objects.filter(username=IDENTITY_USER).count() == 1 and officer.groups.count() == 1


def test_command_prints_json_and_refuses_a_future_day(registry, users):
    out = StringIO()
    call_command("seed_complaints_demo", "--seed", "3", stdout=out)
    assert json.loads(out.getvalue())["submissions"] >= 40
    with pytest.raises(CommandError, match="晚于今天"):
        call_command("seed_complaints_demo", "--today", (timezone.localdate() + dt.timedelta(days=2)).isoformat())


def test_demo_without_users_is_skipped(db):
    assert seed_complaints_demo()["skipped"].startswith("no demo users")
