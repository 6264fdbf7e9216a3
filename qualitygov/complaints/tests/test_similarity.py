"""Similar cases (issue 6, item 7): segmentation, the TF-IDF index with respondent and product boosts,
its freshness and cold start, merging, and the case page's panel with its scope."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from qualitygov.complaints import similarity
from qualitygov.complaints.models import Case, CaseEvent
from qualitygov.complaints.tests.test_rewards import make_case
from qualitygov.core.models import AuditLog

SMOKE = "我在长春市南关区某超市购买的儿童电动牙刷，充电时冒烟起火，烧坏了床单，商家拒绝退货，要求退一赔三。"
SMOKE_AGAIN = "上周在超市买的儿童电动牙刷充电时冒烟起火，差点引起火灾，商家拒绝退货，要求赔偿。"
RICE = "在网店买的大米发霉结块，有异味，客服不予处理，请求依法查处。"


@pytest.fixture(autouse=True)
def _fresh_index(fresh_similarity_index):
    """Each test starts with a cold index and a snapshot folder of its own (the complaints conftest)."""


# --- segmentation ---------------------------------------------------------------------------------

def test_segment_keeps_content_words():
    words = similarity.segment(SMOKE)
    assert {"电动牙刷", "冒烟", "起火", "退货", "超市"} <= set(words)
    assert not {"我", "的", "在", "，", "。", "要求"} & set(words)  # stop words, punctuation, single characters
    assert all(len(w) >= 2 for w in words)
    assert similarity.segment("") == [] and similarity.segment("，。！ 123 4567") == []
    assert "zd" in similarity.segment("ZD-1型制动软管")  # Latin lower-cased, bare numbers dropped


def test_jieba_loaded_once_and_quietly(capsys, monkeypatch):
    monkeypatch.setattr(similarity, "_tokenizer", None)
    similarity.segment(SMOKE)
    first = similarity._get_tokenizer()
    similarity.segment(RICE)
    assert similarity._get_tokenizer() is first
    captured = capsys.readouterr()
    assert "Prefix dict" not in captured.err and "Loading model" not in captured.err


# --- the index itself -----------------------------------------------------------------------------

def _cosine(a: list[str], b: list[str], index: similarity.SimilarityIndex) -> float:
    """TF-IDF cosine computed directly from the definition (sublinear tf × the index's idf)."""
    def vec(words):
        return {w: (1 + math.log(c)) * index.idf[index.vocab[w]] for w, c in Counter(words).items()
                if w in index.vocab}
    va, vb = vec(a), vec(b)
    dot = sum(v * vb.get(w, 0.0) for w, v in va.items())
    na, nb = math.sqrt(sum(v * v for v in va.values())), math.sqrt(sum(v * v for v in vb.values()))
    return dot / (na * nb) if na and nb else 0.0


def _docs(n: int) -> list[list[str]]:
    # Every document shares "产品" and "质量" (common words), half share "冒烟", each has its own word.
    return [["产品", "质量", f"词{i}"] + (["冒烟", "起火"] if i % 2 else ["发霉"]) + (["产品"] if i % 3 == 0 else [])
            for i in range(n)]


def test_index_scores_are_tfidf_cosines_plus_boosts(monkeypatch):
    docs = _docs(60)
    index = similarity.SimilarityIndex.from_documents(range(1, 61), docs, [i % 5 for i in range(60)],
                                                      [None] * 60)
    query = ["冒烟", "起火", "词7", "产品"]
    hits = index.query(query, respondent=3, limit=60)
    by_id = {h[0]: h for h in hits}
    for case_id, score, cosine, same_resp, same_prod in hits:
        assert cosine == pytest.approx(_cosine(query, docs[case_id - 1], index), abs=1e-5)
        assert same_resp == ((case_id - 1) % 5 == 3) and not same_prod
        assert score == pytest.approx(cosine + (similarity.RESPONDENT_BOOST if same_resp else 0.0), abs=1e-5)
    assert hits[0][0] == 8  # the document with the query's own rare word "词7"
    assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)
    # Brute force (cosine against every case vector) agrees on the text scores.
    brute = dict(index.brute_force(query, limit=60))
    assert all(brute[cid] == pytest.approx(by_id[cid][2], abs=1e-5) for cid in brute if brute[cid] > 0)


def test_common_words_only_rescore(monkeypatch):
    """With the common-word threshold low, "产品"/"质量" are read only for candidates, and the scores of
    those candidates stay exact."""
    monkeypatch.setattr(similarity, "COMMON_MIN", 1)
    monkeypatch.setattr(similarity, "COMMON_SHARE", 0.6)
    docs = _docs(60)
    index = similarity.SimilarityIndex.from_documents(range(1, 61), docs, [None] * 60, [None] * 60)
    query = ["词8", "产品", "质量", "发霉"]
    hits = index.query(query, limit=5)
    assert hits[0][0] == 9
    for case_id, _score, cosine, _r, _p in hits:
        assert cosine == pytest.approx(_cosine(query, docs[case_id - 1], index), abs=1e-5)


def test_snapshot_round_trip(tmp_path):
    docs = _docs(30)
    index = similarity.SimilarityIndex.from_documents(range(1, 31), docs, list(range(30)), [None] * 30,
                                                      max_case_id=30, max_created="x")
    index.save(tmp_path / "snap")
    loaded = similarity.SimilarityIndex.load(tmp_path / "snap")
    assert loaded.query(["词4", "发霉"], respondent=2, limit=3) == index.query(["词4", "发霉"], respondent=2, limit=3)
    assert (loaded.max_case_id, loaded.max_created) == (30, "x")


# --- find_similar against the database ------------------------------------------------------------

@pytest.mark.django_db
def test_near_duplicate_found_with_reasons(registry):
    original = make_case(registry, facts=SMOKE, kind=Case.Kind.COMPLAINT)
    other = make_case(registry, "yanji", facts=RICE, kind=Case.Kind.COMPLAINT, product=False)
    results = similarity.find_similar(text=SMOKE_AGAIN, respondent_entity_id=registry["nanguan"]["entity"].pk,
                                      product_id=registry["nanguan"]["product"].pk)
    assert [r.case for r in results][:1] == [original]
    best = results[0]
    case, score, reasons = best  # unpacks as (case, score, reasons)
    assert reasons[:2] == ["同一被投诉人", "同一产品"]
    assert reasons[2].startswith("共同词语：") and "电动牙刷" in reasons[2]
    assert best.likely_duplicate and score >= similarity.LIKELY_DUPLICATE
    assert other not in [r.case for r in results if r.likely_duplicate]
    # Without the respondent and product, the text alone still ranks it first, lower.
    plain = similarity.find_similar(text=SMOKE_AGAIN)
    assert plain[0].case == original and plain[0].score < score and "同一被投诉人" not in plain[0].reasons


@pytest.mark.django_db
def test_closed_merged_and_excluded_cases_not_offered(registry):
    open_case = make_case(registry, facts=SMOKE)
    closed = make_case(registry, facts=SMOKE, status=Case.Status.CLOSED)
    merged = make_case(registry, facts=SMOKE, status=Case.Status.MERGED, merged_into=open_case)
    found = [r.case for r in similarity.find_similar(text=SMOKE)]
    assert found == [open_case]
    assert closed not in found and merged not in found
    assert similarity.find_similar(text=SMOKE, exclude_case_ids=[open_case.pk]) == []
    # A case closed after the index was built is not offered either (candidates are re-read).
    Case.objects.filter(pk=open_case.pk).update(status=Case.Status.CLOSED)
    assert similarity.find_similar(text=SMOKE) == []


@pytest.mark.django_db
def test_scope_of_candidates(registry, users):
    nanguan = make_case(registry, facts=SMOKE)
    chaoyang = make_case(registry, "chaoyang", facts=SMOKE)
    yanji = make_case(registry, "yanji", facts=SMOKE)

    def seen(role):
        return {r.case for r in similarity.find_similar(text=SMOKE_AGAIN, user=users[role])}

    assert seen("nanguan") == {nanguan}
    assert seen("changchun") == {nanguan, chaoyang}
    assert seen("yanji") == {yanji}
    assert seen("province") == {nanguan, chaoyang, yanji}
    assert seen("enterprise") == set() and seen("inspector") == set()


@pytest.mark.django_db
def test_index_kept_fresh_for_new_cases(registry):
    make_case(registry, facts=RICE)
    similarity.find_similar(text=RICE)  # builds the index
    index = similarity.get_index()
    built = len(index.case_ids)
    new = make_case(registry, facts=SMOKE)
    results = similarity.find_similar(text=SMOKE_AGAIN)
    assert results[0].case == new
    assert similarity.get_index() is index and len(index.case_ids) == built and len(index.delta) == 1
    new.refresh_from_db()
    assert "电动牙刷" in new.terms.split()  # the words are stored for the next rebuild


@pytest.mark.django_db
def test_rebuild_command_writes_a_snapshot_that_is_loaded(registry, settings):
    make_case(registry, facts=SMOKE)
    make_case(registry, facts=RICE)
    out = StringIO()
    call_command("complaints_index", stdout=out)
    report = json.loads(out.getvalue())
    assert report["cases"] == 2 and report["words"] > 5
    similarity.reset_index()
    settings.COMPLAINTS_SIMILARITY_COLD_BUILD_MAX = 0  # must come from the snapshot, not a build
    index = similarity.get_index()
    assert index is not None and len(index.case_ids) == 2
    assert similarity.find_similar(text=SMOKE_AGAIN)[0].case.facts == SMOKE


@pytest.mark.django_db
def test_cold_start_falls_back_to_a_database_candidate_set(registry, settings):
    settings.COMPLAINTS_SIMILARITY_COLD_BUILD_MAX = 0  # "too many cases to build during a request"
    same = make_case(registry, facts=RICE)
    recent = make_case(registry, "yanji", facts=SMOKE, product=False)
    assert similarity.get_index() is None
    results = similarity.find_similar(text=SMOKE_AGAIN, respondent_entity_id=registry["nanguan"]["entity"].pk)
    assert {r.case for r in results} == {same, recent}
    assert results[0].case == recent  # the text match scores above the respondent boost alone
    assert next(r for r in results if r.case == same).reasons == ["同一被投诉人"]


@pytest.mark.django_db
def test_rolled_back_database_makes_the_index_rebuild(registry):
    first = make_case(registry, facts=SMOKE)
    similarity.find_similar(text=SMOKE)
    index = similarity.get_index()
    index.max_created = "2000-01-01T00:00:00+00:00"  # as if its newest case had been replaced
    assert similarity.get_index() is not index
    assert similarity.find_similar(text=SMOKE)[0].case == first


# --- merge ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_merge(registry, users):
    into = make_case(registry, facts=SMOKE, received_on=dt.date(2026, 3, 2))
    duplicate = make_case(registry, facts=SMOKE_AGAIN, received_on=dt.date(2026, 3, 4))
    similarity.merge(duplicate, into, users["nanguan"])
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into) == (Case.Status.MERGED, into)
    events = CaseEvent.objects.filter(kind=CaseEvent.Kind.MERGED)
    assert {(e.case_id, e.by_id) for e in events} == {(duplicate.pk, users["nanguan"].pk), (into.pk, users["nanguan"].pk)}
    assert into.number in events.get(case=duplicate).text and duplicate.number in events.get(case=into).text
    assert AuditLog.objects.filter(object_id=str(duplicate.pk), user=users["nanguan"], action="update").exists()
    assert similarity.find_similar(text=SMOKE, exclude_case_ids=[into.pk]) == []


@pytest.mark.django_db
@pytest.mark.parametrize("change,code", [
    ({"kind": Case.Kind.COMPLAINT}, "different_kind"),
    ({"handling_unit_id": "220104"}, "different_unit"),
    ({"status": Case.Status.CLOSED}, "not_open"),
    ({"status": Case.Status.REJECTED}, "not_open"),
])
def test_merge_refused(registry, users, change, code):
    into = make_case(registry, facts=SMOKE)
    duplicate = make_case(registry, facts=SMOKE, **change)
    with pytest.raises(similarity.MergeRefused) as refused:
        similarity.merge(duplicate, into, users["changchun"])
    assert refused.value.code == code and refused.value.messages[0]
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None and duplicate.status != Case.Status.MERGED
    assert not CaseEvent.objects.exists()


@pytest.mark.django_db
def test_merge_refused_outside_scope_and_into_itself(registry, users):
    into = make_case(registry, facts=SMOKE)
    duplicate = make_case(registry, facts=SMOKE)
    for role in ("yanji", "inspector", "enterprise"):
        with pytest.raises(similarity.MergeRefused) as refused:
            similarity.merge(duplicate, into, users[role])
        assert refused.value.code == "not_permitted"
    with pytest.raises(similarity.MergeRefused) as refused:
        similarity.merge(into, into, users["nanguan"])
    assert refused.value.code == "same_case"
    duplicate.refresh_from_db()
    assert duplicate.status == Case.Status.RECEIVED


# --- the panel and the merge action ---------------------------------------------------------------

@pytest.mark.django_db
def test_panel_lists_candidates_with_merge_button(registry, users, client):
    case = make_case(registry, facts=SMOKE_AGAIN, received_on=dt.date(2026, 3, 4))
    earlier = make_case(registry, facts=SMOKE, received_on=dt.date(2026, 3, 2))
    other_kind = make_case(registry, facts=SMOKE, kind=Case.Kind.COMPLAINT)
    client.force_login(users["nanguan"])
    response = client.get(reverse("complaints:case-similar", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert earlier.number in html and other_kind.number in html and "疑似重复" in html and "同一被投诉人" in html
    rows = {row["result"].case: row for row in response.context["rows"]}
    assert (rows[earlier]["duplicate"], rows[earlier]["into"], rows[earlier]["why_not"]) == (case, earlier, "")
    assert rows[other_kind]["why_not"] == "类型不同"
    assert f"将 {case.number} 合并至 {earlier.number}" in html


@pytest.mark.django_db
def test_panel_scope(registry, users, client):
    case = make_case(registry, facts=SMOKE)
    chaoyang = make_case(registry, "chaoyang", facts=SMOKE)
    url = reverse("complaints:case-similar", args=[case.pk])
    client.force_login(users["yanji"])
    assert client.get(url).status_code == 404
    client.force_login(users["enterprise"])
    assert client.get(url).status_code in (403, 404)
    client.force_login(users["nanguan"])
    assert chaoyang.number not in client.get(url).content.decode()  # a candidate the user may not see
    client.force_login(users["changchun"])
    response = client.get(url)
    row = next(r for r in response.context["rows"] if r["result"].case == chaoyang)
    assert row["why_not"] == "承办单位不同"
    client.logout()
    assert client.get(url).status_code == 302


@pytest.mark.django_db
def test_merge_action(registry, users, client):
    case = make_case(registry, facts=SMOKE_AGAIN, received_on=dt.date(2026, 3, 4))
    earlier = make_case(registry, facts=SMOKE, received_on=dt.date(2026, 3, 2))
    url = reverse("complaints:case-merge", args=[case.pk])
    client.force_login(users["yanji"])
    assert client.post(url, {"duplicate": case.pk, "into": earlier.pk}).status_code == 404
    client.force_login(users["nanguan"])
    response = client.post(url, {"duplicate": case.pk, "into": earlier.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "已将案件" in response.content.decode()
    case.refresh_from_db()
    assert (case.status, case.merged_into) == (Case.Status.MERGED, earlier)
    # Again: refused with the reason, nothing changes.
    response = client.post(url, {"duplicate": case.pk, "into": earlier.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "只能合并未办结的案件" in response.content.decode()
    assert client.post(url, {"duplicate": "x"}).status_code == 400
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.MERGED).count() == 2
