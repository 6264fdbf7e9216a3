"""``intake.submit``: the materials of Art. 7, 9–11 and 24, one transaction, routing, the first clock,
tracking numbers, anonymous credentials, the per-client limit, and following up."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.utils import timezone

from qualitygov.complaints import attachments, intake
from qualitygov.complaints.models import Attachment, Case, CaseEvent, ReporterIdentity, Submission
from qualitygov.complaints.tests.test_intake_support import (
    JPEG,
    PDF,
    PHONE,
    at,
    complaint_kwargs,
    tip_off_kwargs,
    upload,
)
from qualitygov.core.models import Region

pytestmark = pytest.mark.django_db


def _counts():
    return (Submission.objects.count(), Case.objects.count(), ReporterIdentity.objects.count(),
            CaseEvent.objects.count(), Attachment.objects.count())


def _files_on_disk():
    root = Path(settings.COMPLAINTS_PRIVATE_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_complaint_against_a_registry_entity_is_routed_with_its_deadline_across_national_day(registry):
    entity = registry["nanguan"]["entity"]
    result = intake.submit(**complaint_kwargs(entity), received_at=at(dt.date(2026, 9, 29)))
    [case] = result.cases
    assert case.kind == Case.Kind.COMPLAINT and case.status == Case.Status.RECEIVED
    assert case.handling_unit_id == "220102" and case.respondent_entity == entity
    assert case.respondent_name == entity.name and case.respondent_address == entity.address
    # 7 working days after 29 September 2026, National Day holiday (1–7 October) not counted (Art. 14).
    assert case.accept_due_on == dt.date(2026, 10, 14) and not case.calendar_pending
    assert result.submission.tracking_number.startswith("TJ20260929")
    assert case.number == "TS" + result.submission.tracking_number[2:]
    event = case.events.get()
    assert event.kind == CaseEvent.Kind.RECEIVED and "第十二条" in event.text
    assert result.query_code is None and result.submission.query_password_hash == ""


def test_deadline_beyond_the_holiday_calendar_is_left_pending():
    result = intake.submit(**complaint_kwargs(), received_at=at(dt.date(2026, 12, 28)))
    case = result.cases[0]
    # 7 working days after 28 December 2026 fall in 2027, which the calendar does not cover yet.
    assert case.accept_due_on is None and case.calendar_pending


def test_both_makes_two_linked_cases_handled_separately(registry):
    entity = registry["chaoyang"]["entity"]
    result = intake.submit(**complaint_kwargs(entity, kind="both",
                                              occurred_region=Region.objects.get(code="222401")),
                           received_at=at(dt.date(2026, 3, 2)))
    complaint, tip_off = result.cases
    assert (complaint.kind, tip_off.kind) == (Case.Kind.COMPLAINT, Case.Kind.TIP_OFF)
    assert complaint.linked_case == tip_off and tip_off.linked_case == complaint
    # The complaint goes to the respondent's county (Art. 12), the tip-off where the conduct was (Art. 25).
    assert complaint.handling_unit_id == "220104" and tip_off.handling_unit_id == "222401"
    assert complaint.accept_due_on == dt.date(2026, 3, 11) and tip_off.accept_due_on is None
    assert tip_off.request == "" and complaint.request
    assert Submission.objects.count() == 1 and ReporterIdentity.objects.count() == 1


def test_anonymous_tip_off_gets_a_query_code_and_password_stored_only_as_a_hash(registry):
    result = intake.submit(**tip_off_kwargs(registry["yanji"]["entity"], name="不该保存", phone="13900000000"))
    submission = result.submission
    assert submission.anonymous and submission.query_code == result.query_code
    assert result.query_password and result.query_password not in submission.query_password_hash
    assert check_password(result.query_password, submission.query_password_hash)
    # Anything identifying the anonymous reporter that the form carried is dropped.
    identity = submission.identity
    assert identity.name == "" and identity.phone == "" and identity.phone_digest == ""
    assert result.cases[0].handling_unit_id == "222401" and result.cases[0].accept_due_on is None
    assert intake.find_anonymous(result.query_code, result.query_password) == submission
    assert intake.find_anonymous(result.query_code, "WRONGPWD") is None


@pytest.mark.parametrize("missing,field", [
    ("name", "name"), ("phone", "phone"), ("address", "address"), ("request", "request"),
    ("description", "description"), ("respondent_address", "respondent_address"),
])
def test_complaint_missing_an_art_9_material_is_refused_naming_the_field(missing, field):
    before = _counts()
    with pytest.raises(intake.SubmissionRefused) as refused:
        intake.submit(**complaint_kwargs(**{missing: ""}))
    assert field in refused.value.message_dict
    assert "第九条" in refused.value.message_dict[field][0]
    assert refused.value.code == "missing_materials"
    assert _counts() == before


def test_only_tip_offs_may_be_anonymous():
    with pytest.raises(intake.SubmissionRefused) as refused:
        intake.submit(**complaint_kwargs(anonymous=True))
    assert "只有举报可以匿名" in refused.value.message_dict["anonymous"][0]
    with pytest.raises(intake.SubmissionRefused):
        intake.submit(**complaint_kwargs(kind="both", anonymous=True))
    assert Submission.objects.count() == 0


def test_tip_off_needs_specific_clues_and_a_named_reporter_needs_contacts():
    with pytest.raises(intake.SubmissionRefused) as refused:
        intake.submit(**tip_off_kwargs(description="他们卖假货"))
    assert "第二十四条" in refused.value.message_dict["description"][0]
    with pytest.raises(intake.SubmissionRefused) as refused:
        intake.submit(**tip_off_kwargs(anonymous=False))
    assert {"name", "phone"} <= set(refused.value.message_dict)
    assert Submission.objects.count() == 0


def test_agent_needs_the_authorisation_and_the_agents_id():
    with pytest.raises(intake.SubmissionRefused) as refused:
        intake.submit(**complaint_kwargs(via_agent=True, agent_name="李律师"),
                      attachments=[(upload("委托书.pdf", PDF), Attachment.Kind.AUTHORISATION)])
    assert set(refused.value.message_dict) == {"agent_id_file"}
    assert "第十条" in refused.value.message_dict["agent_id_file"][0]
    result = intake.submit(**complaint_kwargs(via_agent=True, agent_name="李律师", agent_id_number="11010519491231002X"),
                           attachments=[(upload("委托书.pdf", PDF), Attachment.Kind.AUTHORISATION),
                                        (upload("身份证.jpg", JPEG), Attachment.Kind.AGENT_ID)])
    assert result.submission.via_agent and result.submission.attachments.count() == 2
    assert result.submission.identity.agent_id_number == "11010519491231002X"


def test_bad_phone_and_id_number_are_refused():
    with pytest.raises(intake.SubmissionRefused) as refused:
        intake.submit(**complaint_kwargs(phone="abc", id_number="110105194912310021"))
    assert {"phone", "id_number"} <= set(refused.value.message_dict)


def test_every_submission_has_its_own_tracking_number():
    numbers = {intake.submit(**complaint_kwargs()).submission.tracking_number for _ in range(5)}
    assert len(numbers) == 5


def test_a_failure_after_files_were_written_keeps_nothing(monkeypatch):
    """The database rolls back and the files already written are removed."""
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    real_store = attachments.store

    def store_then_fail(submission, checked, written):
        real_store(submission, checked[:1], written)  # the first file reaches the disk
        assert _files_on_disk()
        broken()

    monkeypatch.setattr(attachments, "store", store_then_fail)
    before = _counts()
    with pytest.raises(RuntimeError):
        intake.submit(**complaint_kwargs(), attachments=[(upload("a.jpg", JPEG), "photo"), (upload("b.pdf", PDF), "document")])
    assert _counts() == before
    assert _files_on_disk() == []


def test_a_disguised_attachment_refuses_the_whole_submission():
    before = _counts()
    with pytest.raises(attachments.AttachmentRefused) as refused:
        intake.submit(**complaint_kwargs(), attachments=[(upload("photo.jpg", JPEG), "photo"),
                                                         (upload("receipt.jpg", b"MZ" + b"\x00" * 40), "photo")])
    assert refused.value.code == "file_disguised" and "receipt.jpg" in refused.value.messages[0]
    assert _counts() == before and _files_on_disk() == []


def test_public_submissions_are_limited_per_client_and_hour(settings):
    settings.COMPLAINTS_SUBMISSIONS_PER_HOUR = 3
    now = timezone.now()
    for minutes in (50, 20, 5):
        intake.submit(**complaint_kwargs(), client_address="203.0.113.9", received_at=now - dt.timedelta(minutes=minutes))
    with pytest.raises(intake.RateLimited) as limited:
        intake.submit(**complaint_kwargs(), client_address="203.0.113.9", received_at=now)
    # The oldest of the three leaves the hour 10 minutes from now.
    assert 9 * 60 <= limited.value.retry_after <= 10 * 60 + 1
    assert "每小时最多提交 3 件" in limited.value.message
    assert Submission.objects.count() == 3
    # Another client is not limited, and the address itself is not stored.
    intake.submit(**complaint_kwargs(), client_address="198.51.100.7", received_at=now)
    assert not Submission.objects.filter(client_digest__contains="203.0.113.9").exists()
    assert Submission.objects.exclude(client_digest="").values("client_digest").distinct().count() == 2
    # Officer entries are not public submissions: no limit.
    assert intake.PUBLIC_CHANNELS == ("web", "api")


def test_officer_channels_need_the_officer(users):
    with pytest.raises(intake.SubmissionRefused) as refused:
        intake.submit(**complaint_kwargs(), channel="phone")
    assert "channel" in refused.value.message_dict
    result = intake.submit(**complaint_kwargs(), channel="phone", entered_by=users["nanguan"])
    assert result.submission.entered_by == users["nanguan"] and result.submission.client_digest == ""
    assert result.cases[0].events.get().by == users["nanguan"]


def test_find_named_needs_the_phone_given_with_it():
    submission = intake.submit(**complaint_kwargs()).submission
    assert intake.find_named(submission.tracking_number, PHONE) == submission
    assert intake.find_named(submission.tracking_number, "138-1234-5678") == submission  # same number, written apart
    assert intake.find_named(submission.tracking_number, "13900000000") is None
    assert intake.find_named("TJ2026000000000000", PHONE) is None


def test_public_status_shows_labels_and_dates_never_notes():
    result = intake.submit(**complaint_kwargs(), received_at=at(dt.date(2026, 9, 29)))
    case = result.cases[0]
    CaseEvent.objects.create(case=case, at=timezone.now(), kind=CaseEvent.Kind.NOTE, text="内部备注：投诉人情绪激动")
    status = intake.public_status(result.submission)
    [row] = status["cases"]
    assert row["accept_due_on"] == dt.date(2026, 10, 14) and row["status_label"] == "待受理"
    assert [step["kind"] for step in row["steps"]] == ["received"]
    assert "内部备注" not in str(status) and "王小明" not in str(status)


def test_rating_only_a_closed_complaint_once():
    case = intake.submit(**complaint_kwargs()).cases[0]
    with pytest.raises(intake.SubmissionRefused) as refused:
        intake.rate(case, 5)
    assert "办结后" in refused.value.message_dict["satisfaction"][0]
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED, closed_on=dt.date(2026, 10, 20))
    case.refresh_from_db()
    with pytest.raises(intake.SubmissionRefused):
        intake.rate(case, 6)
    intake.rate(case, 4, "处理及时")
    case.refresh_from_db()
    assert case.satisfaction == 4 and case.satisfaction_comment == "处理及时"
    assert case.events.filter(kind=CaseEvent.Kind.SATISFACTION).count() == 1
    with pytest.raises(intake.SubmissionRefused) as refused:
        intake.rate(case, 5)
    assert "已经评价过" in refused.value.message_dict["satisfaction"][0]


def test_similar_cases_are_offered_and_terms_stored(monkeypatch, registry):
    """The similar-case lookup is asked with the new case (its text, names and respondent); its answer
    is returned for officers to merge, and the case's words are stored for the index."""
    calls = []
    first = intake.submit(**complaint_kwargs(registry["nanguan"]["entity"])).cases[0]

    def find_similar_to_case(case, *, user=None, exclude_case_ids=(), limit=5):
        calls.append((case, tuple(exclude_case_ids)))
        return [(first, 0.9, ["same respondent"])]

    monkeypatch.setattr(intake.similarity, "find_similar_to_case", find_similar_to_case)
    monkeypatch.setattr(intake.similarity, "terms_for", lambda case: "制动 软管")
    result = intake.submit(**complaint_kwargs(registry["nanguan"]["entity"]))
    assert result.similar == [(first, 0.9, ["same respondent"])]
    asked, excluded = calls[0]
    assert asked.pk == result.cases[0].pk and asked.respondent_entity_id == registry["nanguan"]["entity"].pk
    assert result.cases[0].pk in excluded
    assert result.cases[0].terms == "制动 软管"


def test_routing_reason_is_stored_in_chinese_whatever_the_submitters_language(registry):
    from django.utils import translation

    with translation.override("en"):
        case = intake.submit(**complaint_kwargs(registry["nanguan"]["entity"])).cases[0]
    event = case.events.get()
    assert "第十二条第一款" in event.text and "南关区" in event.text


def test_an_anonymous_complaint_is_refused_without_erasing_what_was_given():
    with pytest.raises(intake.SubmissionRefused) as refused:
        intake.submit(**complaint_kwargs(anonymous=True))
    # Only the anonymity is wrong: the name, phone and address given are not reported missing.
    assert set(refused.value.message_dict) == {"anonymous"}
