"""The case pages: the unit's queue with its filters and export, the case page with its steps, the
due lists, and the respondent's notices (which carry no reporter data, Art. 33)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from qualitygov.complaints import handling
from qualitygov.complaints.models import Case, RespondentNotice
from qualitygov.complaints.tests.factories import make_case

pytestmark = pytest.mark.django_db
D = dt.date

# A reporter whose every detail is distinctive, so that a leak anywhere is found by a plain search.
REPORTER = {"name": "欧阳翠花", "phone": "13987654321", "address": "吉林省延吉市光明街777号", "id_number": "22240119800101123X",
            "email": "cuihua.ouyang@example.cn"}


def leaks(text: str) -> list[str]:
    return [v for v in (*REPORTER.values(), "3987654321") if v in text]


@pytest.fixture
def cases(registry, users):
    complaint = make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 9, 29), reporter=REPORTER,
                          assigned_to=users["nanguan"])
    tip = make_case(kind=Case.Kind.TIP_OFF, respondent=registry["nanguan"]["entity"], received_on=D(2026, 11, 2),
                    category="counterfeit")
    yanji = make_case(respondent=registry["yanji"]["entity"], received_on=D(2026, 10, 9))
    return {"complaint": complaint, "tip": tip, "yanji": yanji}


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


def test_queue_shows_the_unit_cases_with_their_deadline(cases, login):
    response = login("nanguan").get(reverse("complaints:case_list"))
    assert response.status_code == 200
    text = body(response)
    assert cases["complaint"].number in text and cases["tip"].number in text
    assert cases["yanji"].number not in text
    assert "2026-10-14" in text       # 7 working days across the National Day holiday
    assert not leaks(text)


@pytest.mark.parametrize("query, expected", [
    ("kind=tip_off", {"tip"}),
    ("kind=complaint", {"complaint"}),
    ("status=received", {"complaint", "tip"}),
    ("category=counterfeit", {"tip"}),
    ("received_after=2026-10-01", {"tip"}),
    ("received_before=2026-10-01", {"complaint"}),
    # The complaint's acceptance was due 14 Oct 2026, the tip-off's verification 23 Nov 2026.
    ("due=overdue", {"complaint"} | ({"tip"} if dt.date.today() > D(2026, 11, 23) else set())),
    ("q=JB", {"tip"}),
])
def test_queue_filters(cases, login, query, expected):
    text = body(login("changchun").get(reverse("complaints:case_list") + "?" + query))
    shown = {key for key in ("complaint", "tip") if cases[key].number in text}
    assert shown == expected


def test_officer_filter_and_api_share_the_filterset(cases, login, users):
    text = body(login("nanguan").get(reverse("complaints:case_list") + f"?officer={users['nanguan'].pk}"))
    assert cases["complaint"].number in text and cases["tip"].number not in text


def test_csv_export_has_no_identity_fields(cases, login):
    response = login("nanguan").get(reverse("complaints:case_list") + "?export=csv")
    assert response.status_code == 200
    text = body(response)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "案件编号" and {cases["complaint"].number, cases["tip"].number} <= {r[0] for r in rows[1:]}
    assert not leaks(text)
    assert not {"姓名", "电话号码", "通讯地址", "身份证件号码"} & set(rows[0])


@pytest.mark.parametrize("role, status", [("nanguan", 200), ("changchun", 200), ("province", 200), ("yanji", 404),
                                          ("inspector", 404), ("lab", 404), ("enterprise", 404)])
def test_case_page_scope(cases, login, role, status):
    assert login(role).get(reverse("complaints:case_detail", args=[cases["complaint"].pk])).status_code == status


@pytest.mark.parametrize("role", ["inspector", "lab", "enterprise"])
def test_queue_refused_to_other_roles(cases, login, role):
    assert login(role).get(reverse("complaints:case_list")).status_code == 403
    assert login(role).get(reverse("complaints:case-due")).status_code == 403


def test_case_page_masks_the_reporter_and_offers_the_steps(cases, login):
    text = body(login("nanguan").get(reverse("complaints:case_detail", args=[cases["complaint"].pk])))
    assert not leaks(text)
    assert "欧阳***" in text or "欧***" in text    # masked, not the name
    assert 'id="step-accept"' in text and 'id="step-reject"' in text and 'id="step-start_mediation"' not in text
    assert 'id="qg-timeline"' in text


def test_step_by_post_and_refusal_shown_in_chinese(cases, login):
    client = login("nanguan")
    case = cases["complaint"]
    url = reverse("complaints:case_detail", args=[case.pk])
    response = client.post(url, {"step": "accept", "accept-on": "2026-09-28"})
    assert response.status_code == 400 and "日期不能早于" in body(response)
    case.refresh_from_db()
    assert case.status == "received" and case.events.count() == 1
    assert client.post(url, {"step": "accept", "accept-on": "2026-10-09"}).status_code == 302
    case.refresh_from_db()
    assert case.status == "accepted" and case.accepted_on == D(2026, 10, 9)
    # A step not open in this state is refused outright.
    assert client.post(url, {"step": "accept", "accept-on": "2026-10-09"}).status_code == 403
    # Another county's officer cannot even find the case.
    assert login("yanji").post(url, {"step": "note", "note-text": "x", "note-on": "2026-10-09"}).status_code == 404


def test_respondent_notice_carries_no_reporter_data(cases, users, login):
    case = cases["complaint"]
    officer = users["nanguan"]
    Case.objects.filter(pk=case.pk).update(facts=f"我是{REPORTER['name']}，电话{REPORTER['phone']}，住{REPORTER['address']}")
    handling.accept(case, officer, on=D(2026, 10, 9))
    handling.start_mediation(case, officer, on=D(2026, 10, 12))
    notice = handling.send_respondent_notice(
        case, officer, kind=RespondentNotice.Kind.MEDIATION, on=D(2026, 10, 12),
        message=f"请联系投诉人{REPORTER['name']}（{REPORTER['phone']}，邮箱 {REPORTER['email']}，身份证 "
                f"{REPORTER['id_number']}），或拨打 0431-88886666。")
    assert case.number in notice.text and case.respondent_name in notice.text
    assert not leaks(notice.text), notice.text
    handling.end_mediation(case, officer, outcome="no_agreement", on=D(2026, 10, 20))
    handling.notify_end(case, officer, on=D(2026, 10, 21))
    texts = list(RespondentNotice.objects.filter(case=case).values_list("text", flat=True))
    assert len(texts) == 2 and not any(leaks(t) for t in texts)

    # The enterprise user of the respondent reads its notices on its own page, and nothing else.
    other = make_case(respondent=cases["yanji"].respondent_entity, unit="222401", received_on=D(2026, 10, 9))
    handling.accept(other, users["yanji"], on=D(2026, 10, 12))
    foreign = handling.send_respondent_notice(other, users["yanji"], kind="mediation", on=D(2026, 10, 12))
    page = body(login("enterprise").get(reverse("complaints:case-notices")))
    assert case.number in page and foreign.text.splitlines()[1] not in page and other.number not in page
    assert not leaks(page)
    assert reverse("complaints:case_detail", args=[case.pk]) not in page
    # The yanji officer sees its own notice, not 南关区's.
    page = body(login("yanji").get(reverse("complaints:case-notices")))
    assert other.number in page and case.number not in page


def test_due_lists_per_unit_and_officer(cases, login, users):
    client = login("changchun")
    text = body(client.get(reverse("complaints:case-due")))
    assert cases["complaint"].number in text and cases["yanji"].number not in text
    text = body(client.get(reverse("complaints:case-due") + "?unit=220104"))
    assert cases["complaint"].number not in text
    text = body(login("nanguan").get(reverse("complaints:case-due") + "?officer=me"))
    assert cases["complaint"].number in text and 'data-deadline="accept"' in text


def test_english_page(cases, login):
    client = login("nanguan")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    for url in (reverse("complaints:case_detail", args=[cases["complaint"].pk]), reverse("complaints:case_list"),
                reverse("complaints:case-due"), reverse("complaints:case-notices")):
        response = client.get(url)
        assert response.status_code == 200 and 'lang="en"' in body(response), url


def test_tip_off_steps_through_the_page(cases, login, registry):
    client = login("nanguan")
    tip = cases["tip"]
    url = reverse("complaints:case_detail", args=[tip.pk])
    text = body(client.get(url))
    assert 'id="step-decide_filing"' in text and 'id="step-accept"' not in text
    response = client.post(url, {"step": "decide_filing", "decide_filing-decision": "filed",
                                 "decide_filing-on": "2026-11-10"})
    assert response.status_code == 400 and "立案编号" in body(response)
    steps = [
        ("code", {"category": "counterfeit", "respondent_uscc": registry["nanguan"]["entity"].uscc,
                  "product_name": "制动软管"}),
        ("decide_filing", {"decision": "filed", "enforcement_case_number": "南市监立〔2026〕9号"}),
        ("notify_reporter", {}),
        ("link_penalty", {"penalty_decision_number": "南市监罚〔2026〕3号", "decided_on": "2026-11-20",
                          "fine_amount": "20000", "penalty_types": ["fine", "warning"]}),
        ("close", {"outcome": "罚款两万元"}),
    ]
    dates = {"code": "2026-11-03", "decide_filing": "2026-11-10", "notify_reporter": "2026-11-11",
             "link_penalty": "2026-11-20", "close": "2026-11-23"}
    for slug, values in steps:
        data = {"step": slug, f"{slug}-on": dates[slug], **{f"{slug}-{k}": v for k, v in values.items()}}
        response = client.post(url, data)
        assert response.status_code == 302, (slug, body(response)[:3000])
    tip.refresh_from_db()
    assert tip.status == "closed" and tip.fine_amount == 20000 and tip.product_name == "制动软管"
    assert tip.credit_record.details["case_number"] == tip.number
    text = body(client.get(url))
    assert "南市监罚〔2026〕3号" in text and 'id="qg-case-steps"' in text   # notes stay open after closure


def test_reveal_button_only_for_the_designated_role(cases, login, users):
    from django.contrib.auth.models import Permission

    url = reverse("complaints:case_detail", args=[cases["complaint"].pk])
    reveal = reverse("complaints:intake-identity", args=[cases["complaint"].pk])
    assert reveal not in body(login("nanguan").get(url))
    users["changchun"].user_permissions.add(Permission.objects.get(codename="view_reporter_identity"))
    client = login("changchun")
    text = body(client.get(url))
    assert reveal in text and "查看投诉人信息" in text and not leaks(text)
    revealed = body(client.post(reveal, {"purpose": "联系投诉人调解"}))
    assert REPORTER["name"] in revealed


def test_transfer_from_the_page_returns_to_the_queue(cases, login):
    client = login("nanguan")
    case = cases["complaint"]
    response = client.post(reverse("complaints:case_detail", args=[case.pk]), {
        "step": "transfer", "transfer-to_unit": "220104", "transfer-reason": "实际经营地在朝阳区",
        "transfer-on": "2026-10-09"})
    assert response.status_code == 302 and response["Location"] == reverse("complaints:case_list")
    case.refresh_from_db()
    assert case.handling_unit_id == "220104"
    assert client.get(reverse("complaints:case_detail", args=[case.pk])).status_code == 404
