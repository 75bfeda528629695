"""/api/v1/pronunciation-dictionaries: the owner's dictionaries, each change a new
version, a PLS download; another account's dictionary is a 404."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.pronunciation.test_pls import LEXICON

pytestmark = pytest.mark.django_db

URL = "/api/v1/pronunciation-dictionaries"
RULES = [
    {"string_to_replace": "TTS", "type": "alias", "alias": "text to speech"},
    {"string_to_replace": "tomato", "type": "phoneme", "phoneme": "təˈmɑːtoʊ", "alphabet": "ipa"},
]


@pytest.fixture
def dictionary(owner_api) -> dict:  # type: ignore[no-untyped-def]
    response = owner_api.post(URL, {"name": "Product names", "rules": RULES}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_the_owner_creates_a_dictionary_from_rules(dictionary):
    assert dictionary["name"] == "Product names" and dictionary["version_number"] == 1
    assert dictionary["rules"] == RULES and dictionary["is_default"] is False


def test_the_owner_creates_a_dictionary_from_a_pls_file(owner_api):
    upload = SimpleUploadedFile("names.pls", LEXICON.encode(), content_type="application/pls+xml")
    response = owner_api.post(f"{URL}/from-file", {"name": "From PLS", "file": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    assert [r["string_to_replace"] for r in response.json()["rules"]] == ["TTS", "tomato", "Tomato", "Speaker"]


def test_adding_and_removing_rules_makes_new_versions_and_keeps_the_old(owner_api, dictionary):
    base = f"{URL}/{dictionary['id']}"
    added = owner_api.post(
        f"{base}/add-rules", {"rules": [{"string_to_replace": "TTS", "type": "alias", "alias": "T T S"}]}, format="json"
    ).json()
    assert added["version_number"] == 2 and added["rules"][-1]["alias"] == "T T S" and len(added["rules"]) == 2
    removed = owner_api.post(f"{base}/remove-rules", {"rule_strings": ["tomato"]}, format="json").json()
    assert removed["version_number"] == 3 and [r["string_to_replace"] for r in removed["rules"]] == ["TTS"]
    first = owner_api.get(f"{base}/versions/{dictionary['version_id']}/pls")
    assert first.status_code == 200 and first["Content-Type"] == "application/pls+xml"
    assert b"tomato" in first.content and b"text to speech" in first.content


def test_another_accounts_dictionary_is_missing(outsider_api, dictionary):
    base = f"{URL}/{dictionary['id']}"
    assert outsider_api.get(base).status_code == 404
    assert outsider_api.post(f"{base}/add-rules", {"rules": RULES}, format="json").status_code == 404
    assert outsider_api.get(f"{base}/versions/{dictionary['version_id']}/pls").status_code == 404
    assert outsider_api.get(URL).json() == []


def test_one_dictionary_is_the_accounts_default(owner_api, dictionary):
    other = owner_api.post(URL, {"name": "Other", "rules": RULES, "is_default": True}, format="json").json()
    assert other["is_default"] is True
    made = owner_api.patch(f"{URL}/{dictionary['id']}", {"is_default": True}, format="json").json()
    assert made["is_default"] is True
    assert owner_api.get(f"{URL}/{other['id']}").json()["is_default"] is False


def test_a_rule_with_an_unknown_alphabet_is_a_400_naming_it(owner_api):
    rule = {"string_to_replace": "x", "type": "phoneme", "phoneme": "ks", "alphabet": "x-sampa"}
    response = owner_api.post(URL, {"name": "Bad", "rules": [rule]}, format="json")
    assert response.status_code == 400 and "alphabet" in str(response.json()["error"]["details"])


def test_an_empty_grapheme_is_a_400(owner_api):
    rule = {"string_to_replace": " ", "type": "alias", "alias": "nothing"}
    response = owner_api.post(URL, {"name": "Bad", "rules": [rule]}, format="json")
    assert response.status_code == 400 and "may not be empty" in response.json()["error"]["message"]


def test_a_file_that_is_not_xml_is_a_400(owner_api):
    upload = SimpleUploadedFile("names.pls", b"not xml at all", content_type="application/pls+xml")
    response = owner_api.post(f"{URL}/from-file", {"name": "Bad", "file": upload}, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_lexicon"


def test_the_routes_are_in_the_schema(anon):
    paths = anon.get("/openapi.json").json()["paths"]
    assert "/api/v1/pronunciation-dictionaries" in paths
    assert "/api/v1/pronunciation-dictionaries/{dictionary_id}/add-rules" in paths
    schema = anon.get("/openapi.json").json()["components"]["schemas"]["JobCreateRequest"]["properties"]
    assert schema["pronunciation_dictionary_locators"]["maxItems"] == 3
    assert "text_format" in schema
