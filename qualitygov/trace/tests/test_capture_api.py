"""The EPCIS 2.0 capture interface (``/api/v1/epcis/capture``, ``/events``): status codes, headers and
error bodies of the REST bindings, and keys (``trace.keys``)."""

import copy
import json
from pathlib import Path

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qualitygov.trace import eventhash, keys
from qualitygov.trace.models import CaptureJob, CaptureKey, EpcisEvent, EventIdentity

pytestmark = [pytest.mark.django_db]

REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "epcis"
# Recent events, since the API reads the real clock (event times in the past are always accepted).
EXAMPLE = "Example_9.6.1-ObjectEvent.jsonld"


def load(name: str, folder: str = "examples") -> dict:
    return json.loads((REFERENCE / folder / name).read_text(encoding="utf-8"))


@pytest.fixture
def key_and_secret(registry, users):
    return keys.issue(registry["nanguan"]["entity"], "仓储管理系统", user=users["enterprise"])


@pytest.fixture
def api(key_and_secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key_and_secret[1]}")
    return client


def post(client, url, payload, content_type="application/ld+json", **headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.generic("POST", url, body, content_type=content_type, **headers)


CAPTURE = "/api/v1/epcis/capture"
EVENTS = "/api/v1/epcis/events"


def test_urls_are_the_bindings_paths():
    assert reverse("api:epcis:capture") in (CAPTURE, CAPTURE + "/")
    assert reverse("api:epcis:events-capture") in (EVENTS, EVENTS + "/")


def test_capture_answers_202_with_the_job_location_and_the_job_reports_success(api, key_and_secret):
    doc = load(EXAMPLE)
    response = post(api, CAPTURE, doc)
    assert response.status_code == 202, response.content
    job = CaptureJob.objects.get()
    assert response["Location"] == f"{CAPTURE}/{job.id}"
    assert response["GS1-EPCIS-Version"] == "2.0.0"
    status = api.get(response["Location"]).json()
    assert status["captureID"] == str(job.id)
    assert (status["running"], status["success"], status["captureErrorBehaviour"]) == (False, True, "rollback")
    assert status["capturedCount"] == len(doc["epcisBody"]["eventList"]) == EpcisEvent.objects.count()
    assert job.key == key_and_secret[0] and job.entity == key_and_secret[0].entity
    assert CaptureKey.objects.get().last_used_at is not None


def test_capture_with_x_api_key_header(key_and_secret):
    client = APIClient()
    response = post(client, CAPTURE, load(EXAMPLE), HTTP_X_API_KEY=key_and_secret[1])
    assert response.status_code == 202


@pytest.mark.parametrize("name", ["objectevent_bad_action_enum.jsonld", "objectevent_urn_bizstep_in_json.jsonld"])
def test_invalid_document_is_400_naming_event_and_field_and_nothing_is_stored(api, name):
    response = post(api, CAPTURE, load(name, "examples_invalid"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "epcis_invalid"
    assert error["problems"] and all(p["event_index"] == 0 and p["field"] for p in error["problems"])
    assert set(error["details"]) == {p["pointer"] for p in error["problems"]}
    assert EpcisEvent.objects.count() == 0
    # The refused job is recorded with its problems.
    assert api.get(f"{CAPTURE}/{error['captureID']}").json()["success"] is False


def test_identical_hash_example_is_refused(api):
    response = post(api, CAPTURE, load("XML__WithEventHashID__event_with_identical_hash_id_7.json"))
    assert response.status_code == 400
    fields = {p["field"] for p in response.json()["error"]["problems"]}
    assert "/bizStep" in fields and EpcisEvent.objects.count() == 0


def test_proceed_header_stores_valid_events_and_job_reports_errors(api):
    doc = load(EXAMPLE)
    doc["epcisBody"]["eventList"][1]["action"] = "WRONG"
    response = post(api, CAPTURE, doc, HTTP_GS1_CAPTURE_ERROR_BEHAVIOUR="proceed")
    assert response.status_code == 202
    body = response.json()
    assert (body["running"], body["success"], body["captureErrorBehaviour"]) == (False, False, "proceed")
    assert [p["event_index"] for p in body["errors"]] == [1]
    assert EpcisEvent.objects.count() == 1


def test_unknown_error_behaviour_is_400(api):
    response = post(api, CAPTURE, load(EXAMPLE), HTTP_GS1_CAPTURE_ERROR_BEHAVIOUR="sometimes")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_error_behaviour"


def test_capture_twice_counts_duplicates(api):
    doc = load(EXAMPLE)
    post(api, CAPTURE, doc)
    body = post(api, CAPTURE, doc).json()
    assert (body["capturedCount"], body["duplicateCount"]) == (0, 2)
    assert EpcisEvent.objects.count() == 2


def test_too_many_events_is_413_with_the_limits(api, settings):
    settings.EPCIS_CAPTURE_LIMIT = 1
    response = post(api, CAPTURE, load(EXAMPLE))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "capture_limit_exceeded"
    assert response["GS1-EPCIS-Capture-Limit"] == "1" and EpcisEvent.objects.count() == 0


def test_too_big_payload_is_413(api, settings):
    settings.EPCIS_CAPTURE_FILE_SIZE_LIMIT = 100
    response = post(api, CAPTURE, load(EXAMPLE))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_size_limit_exceeded"
    assert response["GS1-EPCIS-Capture-File-Size-Limit"] == "100"


def test_capture_limit_not_djangos_form_limit_governs(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    assert post(api, CAPTURE, load(EXAMPLE)).status_code == 202


def test_wrong_content_type_is_415_and_bad_json_400(api):
    response = post(api, CAPTURE, json.dumps(load(EXAMPLE)).encode(), content_type="text/plain")
    assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type"
    response = post(api, CAPTURE, b"{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"


def test_unsupported_epcis_version_is_406(api):
    response = post(api, CAPTURE, load(EXAMPLE), HTTP_GS1_EPCIS_VERSION="1.2")
    assert response.status_code == 406


def test_no_key_is_401_and_a_wrong_or_revoked_key_401(key_and_secret, users):
    anonymous = APIClient()
    assert post(anonymous, CAPTURE, load(EXAMPLE)).status_code == 401
    key, secret = key_and_secret
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.prefix}.not-the-secret")
    response = post(wrong, CAPTURE, load(EXAMPLE))
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_key"
    keys.revoke(key, user=users["enterprise"])
    revoked = APIClient()
    revoked.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert post(revoked, CAPTURE, load(EXAMPLE)).status_code == 401
    assert EpcisEvent.objects.count() == 0


def test_options_advertises_the_capture_settings(api, settings):
    settings.EPCIS_CAPTURE_LIMIT = 500
    response = api.options(CAPTURE)
    assert response.status_code == 204
    assert response["GS1-EPCIS-Capture-Limit"] == "500"
    assert int(response["GS1-EPCIS-Capture-File-Size-Limit"]) > 0
    assert set(response["GS1-Capture-Error-Behaviour"].split(", ")) == {"rollback", "proceed"}
    assert response["GS1-EPCIS-Version"] == "2.0.0" and response["GS1-CBV-Version"] == "2.0.0"
    assert "POST" in response["Allow"]
    assert "POST" in api.options(EVENTS)["Allow"]


def test_single_event_is_201_with_its_location_then_409(api):
    event = copy.deepcopy(load(EXAMPLE)["epcisBody"]["eventList"][0])
    event["@context"] = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]
    del event["eventID"]
    response = post(api, EVENTS, event)
    assert response.status_code == 201, response.content
    expected_id = eventhash.event_hash(event, event["@context"])
    assert response.json()["eventID"] == expected_id
    assert response["Location"].startswith(EVENTS + "/ni%3A%2F%2F%2Fsha-256%3B")
    assert EventIdentity.objects.get().event_id == expected_id
    again = post(api, EVENTS, event)
    assert again.status_code == 409 and EpcisEvent.objects.count() == 1


def test_single_invalid_event_is_400(api):
    event = copy.deepcopy(load(EXAMPLE)["epcisBody"]["eventList"][0])
    event["action"] = "WRONG"
    event["@context"] = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]
    response = post(api, EVENTS, event)
    assert response.status_code == 400
    assert [p["field"] for p in response.json()["error"]["problems"]] == ["/action"]
    assert EpcisEvent.objects.count() == 0


def test_get_events_is_left_to_the_query_area(api):
    # GET on the shared path reaches the query view, not a 405 from the capture view.
    assert api.get(EVENTS).status_code != 405


def test_job_detail_of_unknown_or_malformed_id_is_404(api):
    assert api.get(f"{CAPTURE}/not-a-uuid").status_code == 404
    assert api.get(f"{CAPTURE}/8c1f0a7e-1a44-4e5e-9a0b-2f3c7d1e9b10").status_code == 404


def test_job_list_is_paged(api):
    for _ in range(3):
        post(api, CAPTURE, load(EXAMPLE))
    response = api.get(CAPTURE, {"perPage": 2})
    assert len(response.json()) == 2 and "nextPageToken=2" in response["Link"]
    rest = api.get(CAPTURE, {"perPage": 2, "nextPageToken": 2}).json()
    assert len(rest) == 1


# --- keys ----------------------------------------------------------------------------------------------

def test_key_secret_is_stored_as_digest_only(key_and_secret):
    key, secret = key_and_secret
    assert secret.startswith(key.prefix + ".")
    assert key.secret_hash == keys.digest(secret) and secret not in key.secret_hash
    assert keys.authenticate(secret) == key
    assert keys.authenticate(secret + "x") is None and keys.authenticate("nodot") is None


def test_only_the_entitys_enterprise_user_issues_keys(registry, users):
    for name in ("admin", "nanguan", "province", "consumer"):
        with pytest.raises(keys.KeyRefused):
            keys.issue(registry["nanguan"]["entity"], "x", user=users[name])
    with pytest.raises(keys.KeyRefused):
        keys.issue(registry["chaoyang"]["entity"], "x", user=users["enterprise"])
    with pytest.raises(keys.KeyRefused) as caught:
        keys.issue(registry["nanguan"]["entity"], "  ", user=users["enterprise"])
    assert "name" in caught.value.message_dict
    assert CaptureKey.objects.count() == 0


def test_admin_may_revoke_but_officer_may_not(key_and_secret, users):
    key, _secret = key_and_secret
    with pytest.raises(keys.KeyRefused):
        keys.revoke(key, user=users["nanguan"])
    assert keys.revoke(key, user=users["admin"]).active is False
