"""ElevenLabs' pronunciation dictionaries through the official `elevenlabs` SDK,
unchanged, against a live Speaker server: create from a PLS file and from rules, list,
get, add and remove rules (each a new version), download as PLS, and speak with
`pronunciation_dictionary_locators`."""

from __future__ import annotations

import io

import pytest
import soundfile as sf
from elevenlabs import ElevenLabs, PronunciationDictionaryVersionLocator
from elevenlabs.core.api_error import ApiError
from elevenlabs.pronunciation_dictionaries.rules.types.pronunciation_dictionary_rule import (
    PronunciationDictionaryRule_Alias,
)
from elevenlabs.pronunciation_dictionaries.types.body_add_a_pronunciation_dictionary_v_1_pronunciation_dictionaries_add_from_rules_post_rules_item import (  # noqa: E501 - the SDK's own module name
    BodyAddAPronunciationDictionaryV1PronunciationDictionariesAddFromRulesPostRulesItem_Alias as AliasRule,
)
from elevenlabs.pronunciation_dictionaries.types.body_add_a_pronunciation_dictionary_v_1_pronunciation_dictionaries_add_from_rules_post_rules_item import (  # noqa: E501
    BodyAddAPronunciationDictionaryV1PronunciationDictionariesAddFromRulesPostRulesItem_Phoneme as PhonemeRule,
)

from tests.pronunciation.test_pls import LEXICON

TEXT = "TTS is here. TTS reads aloud. TTS never tires."


@pytest.fixture(scope="module")
def client(live_server_embedded) -> ElevenLabs:  # type: ignore[no-untyped-def]
    key = live_server_embedded.create_key("dictionary-user")
    return ElevenLabs(api_key=key, base_url=live_server_embedded.url, timeout=120)


@pytest.fixture(scope="module")
def outsider(live_server_embedded) -> ElevenLabs:  # type: ignore[no-untyped-def]
    key = live_server_embedded.create_key("dictionary-outsider")
    return ElevenLabs(api_key=key, base_url=live_server_embedded.url, timeout=120)


@pytest.fixture(scope="module")
def joe(client) -> str:  # type: ignore[no-untyped-def]
    return next(v.voice_id for v in client.voices.get_all().voices if v.name == "joe")


def seconds(audio: bytes) -> float:
    pcm, rate = sf.read(io.BytesIO(audio), dtype="float32")
    return pcm.shape[0] / rate


def test_the_sdk_manages_dictionaries_and_their_versions(client, outsider):
    from_file = client.pronunciation_dictionaries.create_from_file(
        name="From PLS", file=("names.pls", LEXICON.encode(), "application/pls+xml")
    )
    assert from_file.version_rules_num == 4
    made = client.pronunciation_dictionaries.create_from_rules(
        name="Rules",
        description="product names",
        rules=[
            AliasRule(string_to_replace="TTS", alias="text to speech"),
            PhonemeRule(string_to_replace="tomato", phoneme="təˈmɑːtoʊ", alphabet="ipa"),
        ],
    )
    assert made.version_rules_num == 2
    added = client.pronunciation_dictionaries.rules.add(
        made.id, rules=[PronunciationDictionaryRule_Alias(string_to_replace="SQL", alias="sequel")]
    )
    assert added.version_rules_num == 3 and added.version_id != made.version_id
    removed = client.pronunciation_dictionaries.rules.remove(made.id, rule_strings=["tomato"])
    assert removed.version_rules_num == 2
    got = client.pronunciation_dictionaries.get(made.id)
    assert got.latest_version_id == removed.version_id
    assert [rule.string_to_replace for rule in got.rules] == ["TTS", "SQL"]
    listed = client.pronunciation_dictionaries.list(page_size=1)
    assert len(listed.pronunciation_dictionaries) == 1 and listed.has_more
    pls = b"".join(client.pronunciation_dictionaries.download(made.id, made.version_id))
    assert b"tomato" in pls and b"text to speech" in pls
    with pytest.raises(ApiError) as caught:
        outsider.pronunciation_dictionaries.get(made.id)
    assert caught.value.status_code == 404


def test_speech_with_a_dictionary_says_the_alias(client, outsider, joe):
    made = client.pronunciation_dictionaries.create_from_rules(
        name="Alias", rules=[AliasRule(string_to_replace="TTS", alias="text to speech synthesis")]
    )
    locator = PronunciationDictionaryVersionLocator(pronunciation_dictionary_id=made.id, version_id=made.version_id)
    plain = b"".join(client.text_to_speech.convert(joe, text=TEXT, output_format="mp3_22050_32"))
    spoken = b"".join(
        client.text_to_speech.convert(
            joe, text=TEXT, output_format="mp3_22050_32", pronunciation_dictionary_locators=[locator]
        )
    )
    assert seconds(spoken) > seconds(plain) + 1.0
    with pytest.raises(ApiError) as caught:
        b"".join(outsider.text_to_speech.convert(joe, text=TEXT, pronunciation_dictionary_locators=[locator]))
    assert caught.value.status_code == 404
    with pytest.raises(ApiError) as caught:
        b"".join(client.text_to_speech.convert(joe, text=TEXT, pronunciation_dictionary_locators=[locator] * 4))
    assert caught.value.status_code == 400
