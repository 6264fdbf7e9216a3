"""What a walk through the module as a new user showed (issue 6 "Done when"): how the acceptance
deadline is explained across a public holiday, deadlines not computable yet in the queue, the public
monthly summary in English, the registry search on the officers' entry page, links between the case,
similar-case and reward pages, the phone layout of the public pages and the API docs grouping."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from qualitygov.complaints import clocks, intake, statistics
from qualitygov.complaints.models import Case
from qualitygov.complaints.tests import test_rewards, test_similarity
from qualitygov.complaints.tests.factories import make_case
from qualitygov.complaints.tests.test_intake_support import PHONE, complaint_kwargs

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


# --- the acceptance deadline across a public holiday ------------------------------------------------

def test_deadline_note_names_the_holidays_skipped_and_the_make_up_day_counted():
    # 2026 National Day: 1–7 October off, Saturday 10 October a working day (State Council notice).
    received = D(2026, 9, 29)
    due = clocks.accept_due_on(received)
    assert due == D(2026, 10, 14)
    runs, added = clocks.skipped_and_added(received, due)
    assert runs == [(D(2026, 10, 1), D(2026, 10, 7))] and added == [D(2026, 10, 10)]
    with translation.override("zh-hans"):
        note = clocks.deadline_note(received, due, clocks.ACCEPT_DAYS)
    assert note == "收到后第 7 个工作日；节假日 10-01 至 10-07 不计；调休上班日 10-10 计入"
    # Received during the holiday: only the rest of it is skipped.
    assert clocks.skipped_and_added(D(2026, 10, 5), D(2026, 10, 15)) == ([(D(2026, 10, 6), D(2026, 10, 7))],
                                                                        [D(2026, 10, 10)])


def test_deadline_note_of_an_ordinary_week_and_without_dates():
    received = D(2026, 12, 2)
    due = clocks.accept_due_on(received)
    assert clocks.skipped_and_added(received, due) == ([], [])  # plain weekends are not listed
    with translation.override("zh-hans"):
        assert clocks.deadline_note(received, due, clocks.ACCEPT_DAYS) == "收到后第 7 个工作日"
    assert clocks.deadline_note(None, due, 7) == "" and clocks.deadline_note(received, None, 7) == ""


def test_case_page_explains_the_acceptance_deadline(registry, login):
    case = make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 9, 29))
    assert case.accept_due_on == D(2026, 10, 14)
    html = login("nanguan").get(reverse("complaints:case_detail", args=[case.pk])).content.decode()
    assert "2026-10-14" in html and "节假日 10-01 至 10-07 不计" in html and "调休上班日 10-10 计入" in html


def test_submitter_sees_how_the_deadline_was_counted(client, registry):
    received = intake.timezone.make_aware(dt.datetime(2026, 9, 29, 10, 0))
    submission = intake.submit(**complaint_kwargs(registry["nanguan"]["entity"]), received_at=received).submission
    response = client.post(reverse("complaints-public:intake-follow-up"),
                           {"tracking_number": submission.tracking_number, "phone": PHONE})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "2026-10-14" in html and "节假日 10-01 至 10-07 不计" in html


def test_officer_receipt_explains_the_deadline(registry, users, client):
    entity = registry["nanguan"]["entity"]
    client.force_login(users["nanguan"])
    real_localdate = intake.timezone.localdate

    def today_is_20_october(value=None, timezone=None):  # "today" only; a given moment keeps its own date
        return D(2026, 10, 20) if value is None else real_localdate(value, timezone)

    with mock.patch("django.utils.timezone.localdate", side_effect=today_is_20_october):
        response = client.post(reverse("complaints:intake-entry"), {
            "channel": "phone", "received_on": "2026-10-05", "kind": "complaint", "name": "李华",
            "phone": "13900001111", "address": "长春市南关区自由大路5号", "respondent_uscc": entity.uscc,
            "sales_channel": "offline", "category": "product_quality", "request": "更换商品",
            "description": "电热水壶底座漏电，要求更换。", "joint_complainants": "1",
            "for_personal_consumption": "on"})
    assert response.status_code == 302, response.content.decode()[:500]
    html = client.get(response["Location"]).content.decode()
    assert "2026-10-15" in html and "节假日 10-06 至 10-07 不计" in html


# --- the queue ---------------------------------------------------------------------------------------

def test_queue_says_when_a_deadline_waits_for_the_holiday_calendar(registry, login):
    pending = make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 11, 16),
                        status=Case.Status.MEDIATING, accepted_on=D(2026, 11, 17))
    Case.objects.filter(pk=pending.pk).update(mediation_due_on=None, calendar_pending=True)
    closed = make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 11, 16),
                       status=Case.Status.CLOSED, closed_on=D(2026, 11, 30))
    Case.objects.filter(pk=closed.pk).update(calendar_pending=True)
    html = login("nanguan").get(reverse("complaints:case_list")).content.decode()
    rows = {number: html.split(f'data-case="{number}"', 1)[1].split("</tr>", 1)[0]
            for number in (pending.number, closed.number)}
    assert "期限待节假日安排公布后计算" in rows[pending.number]
    assert "期限待节假日安排公布后计算" not in rows[closed.number]  # nothing is open on a closed case


# --- the public monthly summary in English ------------------------------------------------------------

def test_published_summary_is_labelled_in_the_readers_language(users, client):
    make_case(received_on=D(2026, 5, 6), category="product_quality")
    with mock.patch("django.utils.timezone.localdate", return_value=D(2026, 6, 15)):
        statistics.publish_month(users["province"], D(2026, 5, 1), today=D(2026, 6, 15))
    url = reverse("complaints-public:stats-summary-detail", args=[2026, 5])
    chinese = client.get(url).content.decode()
    assert "产品质量" in chinese and "受理或不予受理决定" in chinese
    client.cookies["django_language"] = "en"
    english = client.get(url).content.decode()
    with translation.override("en"):
        expected = [str(statistics.DEADLINES[0].label), str(Case._meta.get_field("category").choices[0][1])]
    assert expected[0] != "受理或不予受理决定"  # the English catalogue has the label
    assert all(label in english for label in expected)
    assert "受理或不予受理决定" not in english
    # The stored figures are not changed by reading them in another language.
    from qualitygov.complaints.models import MonthlySummary

    stored = MonthlySummary.objects.get(month=D(2026, 5, 1)).data
    assert stored["timeliness"][0]["label"] == "受理或不予受理决定"


def test_localise_keeps_unknown_keys_and_the_figures():
    data = {"by_category": [{"key": "gone", "label": "旧类别", "count": 3}],
            "timeliness": [{"key": "accept", "label": "x", "limit": "y", "basis": "z", "handled": 2}],
            "by_city": [{"key": "999999", "label": "某市", "count": 1}], "map": []}
    with translation.override("zh-hans"):
        out = statistics.localise_summary(data)
    assert out["by_category"] == data["by_category"]
    assert out["timeliness"][0]["label"] == "受理或不予受理决定" and out["timeliness"][0]["handled"] == 2
    assert out["by_city"][0]["label"] == "某市"


# --- the officers' entry page, links between pages ------------------------------------------------------

def test_officer_entry_searches_the_register(users, client):
    client.force_login(users["nanguan"])
    html = client.get(reverse("complaints:intake-entry")).content.decode()
    assert 'id="qg-respondent-q"' in html
    assert f'hx-get="{reverse("complaints-public:intake-respondent-search")}"' in html


def test_similar_panel_links_each_candidate(registry, users, client, fresh_similarity_index):
    case = test_rewards.make_case(registry, facts=test_similarity.SMOKE_AGAIN, received_on=D(2026, 3, 4))
    earlier = test_rewards.make_case(registry, facts=test_similarity.SMOKE, received_on=D(2026, 3, 2))
    client.force_login(users["nanguan"])
    html = client.get(reverse("complaints:case-similar", args=[case.pk])).content.decode()
    assert f'href="{reverse("complaints:case_detail", args=[earlier.pk])}"' in html


def test_reward_proposal_links_its_case(registry, users, client):
    case = test_rewards.filed_tip_off(registry, fine="20000.00")
    client.force_login(users["nanguan"])
    html = client.get(reverse("complaints:reward_propose", args=[case.pk])).content.decode()
    assert f'href="{reverse("complaints:case_detail", args=[case.pk])}"' in html


# --- phone layout, API docs ----------------------------------------------------------------------------

def test_public_pages_use_bootstrap_check_layout_and_the_phone_stylesheet(client):
    from django.contrib.staticfiles import finders

    html = client.get(reverse("complaints-public:intake-form")).content.decode()
    assert 'type="radio" name="kind" value="complaint" class="form-check-input"' in html
    assert 'name="anonymous" class="form-check-input"' in html
    # Every portal section (not only complaints) gets the phone rules: the menu on its own line.
    for url in (reverse("complaints-public:intake-form"), reverse("complaints-public:stats-summary-list"),
                reverse("public-trace:lookup"), reverse("public-credit:search"),
                reverse("public-inspection:result_list")):
        page = client.get(url).content.decode()
        assert 'class="navbar navbar-expand qg-navbar qg-portal-navbar"' in page, url
        assert "qualitygov/app.css" in page, url
    stylesheet = open(finders.find("qualitygov/app.css"), encoding="utf-8").read()
    assert "@media (max-width: 575.98px)" in stylesheet and ".qg-portal-navbar .navbar-nav" in stylesheet


def test_language_switcher_names_each_language_in_itself(client):
    html = client.get(reverse("complaints-public:intake-form")).content.decode()
    assert '<option value="en" lang="en">English</option>' in html
    assert "英语" not in html


def test_api_docs_group_the_complaints_endpoints(client, users):
    client.force_login(users["admin"])
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    back_office = {path: ops for path, ops in paths.items() if path.startswith("/api/v1/complaints/")}
    assert {"/api/v1/complaints/cases/", "/api/v1/complaints/rewards/compute/",
            "/api/v1/complaints/statistics/"} <= set(back_office)
    for path, ops in back_office.items():
        for method, op in ops.items():
            if isinstance(op, dict) and "tags" in op:
                assert op["tags"] == ["complaints"], (path, method)
                assert op.get("summary"), (path, method)


# --- resending the public form ---------------------------------------------------------------------------

def _anonymous_tip_off(registry, form_token: str, **overrides) -> dict:
    return {"form_token": form_token, "kind": "tip_off", "anonymous": "on",
            "respondent_uscc": registry["yanji"]["entity"].uscc, "sales_channel": "offline",
            "category": "counterfeit", "description": "该企业在仓库内给翻新旧软管贴新标签出售，每周二晚上发货。",
            **overrides}


def test_reloading_the_anonymous_confirmation_makes_no_second_submission(client, registry):
    from qualitygov.complaints.models import Submission

    form = client.get(reverse("complaints-public:intake-form"))
    token = form.context["form_token"]
    assert f'name="form_token" value="{token}"' in form.content.decode()
    first = client.post(reverse("complaints-public:intake-form"), _anonymous_tip_off(registry, token))
    assert first.status_code == 200 and first.context["query_code"]
    number = Submission.objects.get().tracking_number
    # The browser sends the same form again (reload of the confirmation, or a double tap).
    again = client.post(reverse("complaints-public:intake-form"), _anonymous_tip_off(registry, token))
    assert again.status_code == 302
    assert again["Location"] == reverse("complaints-public:intake-done", args=[number])
    assert Submission.objects.count() == 1
    page = client.get(again["Location"]).content.decode()
    assert "没有重复登记" in page and first.context["query_password"] not in page
    # Back to the form, changed and sent: a new submission, not a resend.
    changed = client.post(reverse("complaints-public:intake-form"),
                          _anonymous_tip_off(registry, token, description="另一家仓库也在翻新旧软管，周五夜间装车发往外地。"))
    assert changed.status_code == 200 and Submission.objects.count() == 2
    # Another browser with the same token is not this browser's resend.
    client.cookies.clear()
    other = client.post(reverse("complaints-public:intake-form"), _anonymous_tip_off(registry, token))
    assert other.status_code == 200 and Submission.objects.count() == 3
