"""POST /api/v1/voices/blend on the tiny XTTS checkpoint: a blended voice's conditioning
is the weighted combination of its sources' (voices.services.blends), it speaks on its
own when a source goes, and its consent record names its sources."""

from __future__ import annotations

import numpy as np
import pytest

from voices.models import BLEND_CONSENT_STATEMENT, ConsentRecord, Voice
from voices.services import voice_prepare

pytestmark = pytest.mark.usefixtures("tiny_xtts_engines")

SEEDED = {"do_sample": True, "seed": 3, "max_new_tokens": 8}


def speak(engines, conditioning: bytes) -> np.ndarray:  # type: ignore[no-untyped-def]
    from speech.engines import SynthesisParams, VoiceRef

    engine = engines.get("xtts")
    return engine.synthesize_all(
        "Hello there.", language="en", voice=VoiceRef(conditioning=conditioning), params=SynthesisParams(**SEEDED)
    )


def tensors(conditioning: bytes) -> dict:
    from speech.engines.xtts_conditioning import deserialise

    return deserialise(bytes(conditioning)).voices


@pytest.fixture
def voice_a(create_voice) -> Voice:  # type: ignore[no-untyped-def]
    return voice_prepare(voice_id=create_voice(name="Alma").json()["id"])


@pytest.fixture
def voice_b(create_voice, other_upload) -> Voice:  # type: ignore[no-untyped-def]
    return voice_prepare(voice_id=create_voice(name="Bruno", samples=[other_upload()]).json()["id"])


def blend(api, *sources: tuple[object, float], name: str = "Duet"):  # type: ignore[no-untyped-def]
    body = {"name": name, "sources": [{"voice": str(v), "weight": w} for v, w in sources]}
    return api.post("/api/v1/voices/blend", body, format="json")


def test_a_blend_of_a_alone_is_bit_identical_to_a(owner_api, voice_a, voice_b, tiny_xtts_engines) -> None:
    response = blend(owner_api, (voice_a.pk, 1), (voice_b.pk, 0))

    assert response.status_code == 201, response.json()
    duet = Voice.objects.get(pk=response.json()["id"])
    for label, (latent, embedding) in tensors(duet.conditioning).items():
        a_latent, a_embedding = tensors(voice_a.conditioning)[label]
        assert latent.dtype == a_latent.dtype and bool((latent == a_latent).all())
        assert bool((embedding == a_embedding).all())
    a_audio = speak(tiny_xtts_engines, bytes(voice_a.conditioning))
    assert np.array_equal(speak(tiny_xtts_engines, bytes(duet.conditioning)), a_audio)


def test_an_even_blend_is_between_its_sources_and_sounds_like_neither(
    owner_api, voice_a, voice_b, tiny_xtts_engines
) -> None:
    import torch

    response = blend(owner_api, (voice_a.name, 0.5), (voice_b.name, 0.5))

    assert response.status_code == 201, response.json()
    duet = Voice.objects.get(pk=response.json()["id"])
    latent, embedding = tensors(duet.conditioning)["neutral"]
    a_latent, a_embedding = tensors(voice_a.conditioning)["neutral"]
    b_latent, b_embedding = tensors(voice_b.conditioning)["neutral"]
    assert torch.allclose(latent, (a_latent + b_latent) / 2, atol=1e-6)
    # The embedding points between the two, at the sources' mean length.
    expected_length = (torch.linalg.vector_norm(a_embedding) + torch.linalg.vector_norm(b_embedding)) / 2
    assert torch.isclose(torch.linalg.vector_norm(embedding), expected_length, rtol=1e-5)
    audio = speak(tiny_xtts_engines, bytes(duet.conditioning))
    assert not np.array_equal(audio, speak(tiny_xtts_engines, bytes(voice_a.conditioning)))
    assert not np.array_equal(audio, speak(tiny_xtts_engines, bytes(voice_b.conditioning)))


def test_weights_are_normalised_and_shown_with_the_sources(owner_api, voice_a, voice_b) -> None:
    body = blend(owner_api, (voice_a.pk, 3), (voice_b.pk, 1)).json()

    assert body["status"] == "ready" and body["engine"] == "xtts" and body["samples"] == []
    assert [(s["name"], s["weight"], s["builtin"]) for s in body["blended_from"]] == [
        ("Alma", 0.75, False),
        ("Bruno", 0.25, False),
    ]


def test_a_builtin_xtts_speaker_may_be_a_source(owner_api, voice_a, tiny_xtts_engines) -> None:
    response = blend(owner_api, (voice_a.pk, 0.5), ("xtts:Tiny Alice", 0.5))

    assert response.status_code == 201, response.json()
    sources = response.json()["blended_from"]
    assert sources[1]["builtin"] is True and sources[1]["consent_record_ids"] == []
    assert speak(tiny_xtts_engines, bytes(Voice.objects.get(pk=response.json()["id"]).conditioning)).size > 0


def test_the_consent_record_names_the_sources_and_their_consent_records(owner_api, owner, voice_a, voice_b) -> None:
    duet_id = blend(owner_api, (voice_a.pk, 1), (voice_b.pk, 1)).json()["id"]

    record = ConsentRecord.objects.get(voice_id=duet_id)
    assert record.user == owner and record.statement == BLEND_CONSENT_STATEMENT and record.sample_sha256 == []
    by_name = {source["name"]: source for source in record.blend_sources}
    assert by_name["Alma"]["voice_id"] == str(voice_a.pk)
    assert by_name["Alma"]["consent_record_ids"] == [str(voice_a.consent_records.get().pk)]
    assert by_name["Bruno"]["consent_record_ids"] == [str(voice_b.consent_records.get().pk)]


def test_deleting_a_source_leaves_the_blend_speaking(owner_api, voice_a, voice_b, tiny_xtts_engines) -> None:
    duet_id = blend(owner_api, (voice_a.pk, 0.5), (voice_b.pk, 0.5)).json()["id"]
    before = speak(tiny_xtts_engines, bytes(Voice.objects.get(pk=duet_id).conditioning))

    assert owner_api.delete(f"/api/v1/voices/{voice_a.pk}").status_code == 204

    duet = Voice.objects.get(pk=duet_id)
    assert duet.status == "ready" and duet.blended_from[0]["name"] == "Alma"
    assert np.array_equal(speak(tiny_xtts_engines, bytes(duet.conditioning)), before)
    job = owner_api.post("/api/v1/synthesis", {"text": "Still here.", "voice": duet_id}, format="json")
    assert job.status_code in (201, 202), job.json()
    assert ConsentRecord.objects.get(voice_id=duet_id).blend_sources[0]["voice_id"] == str(voice_a.pk)


def test_a_blended_voice_takes_no_samples(owner_api, voice_a, voice_b, speech_upload) -> None:
    duet_id = blend(owner_api, (voice_a.pk, 1), (voice_b.pk, 1)).json()["id"]

    response = owner_api.post(
        f"/api/v1/voices/{duet_id}/samples", {"samples": [speech_upload()], "consent": "true"}, format="multipart"
    )

    assert response.status_code == 409


# ---------------------------------------------------------------- bad input


def ready(owner, name: str, *, engine: str = "xtts") -> Voice:  # type: ignore[no-untyped-def]
    """A ready voice whose conditioning is never read: the request is refused first."""
    return Voice.objects.create(
        owner=owner, name=name, language="en", engine=engine, status="ready", conditioning=b"unread"
    )


@pytest.mark.parametrize(
    ("weights", "field"),
    [
        ((-0.5, 1), "sources"),
        ((1, -1), "sources"),
        ((0, 0), "sources"),
    ],
)
def test_negative_or_all_zero_weights_are_a_400(owner_api, owner, weights, field) -> None:
    a, b = ready(owner, "A"), ready(owner, "B")

    response = blend(owner_api, (a.pk, weights[0]), (b.pk, weights[1]))

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not Voice.objects.filter(name="Duet").exists()


@pytest.mark.parametrize("count", [1, 5])
def test_one_source_or_more_than_four_are_a_400(owner_api, owner, count) -> None:
    voices = [ready(owner, f"V{n}") for n in range(count)]

    response = blend(owner_api, *[(v.pk, 1) for v in voices])

    assert response.status_code == 400
    assert "sources" in response.json()["error"]["details"]


def test_another_users_voice_is_a_404_as_if_missing(owner_api, owner, outsider) -> None:
    mine, theirs = ready(owner, "Mine"), ready(outsider, "Theirs")

    by_id = blend(owner_api, (mine.pk, 1), (theirs.pk, 1))
    by_name = blend(owner_api, (mine.pk, 1), ("Theirs", 1))

    assert by_id.status_code == 404 and by_id.json()["error"]["code"] == "voice_not_found"
    assert by_name.status_code == 404
    assert "Theirs" not in str(by_id.json())
    assert not Voice.objects.filter(name="Duet").exists()


def test_a_piper_voice_cannot_be_blended(owner_api, owner) -> None:
    response = blend(owner_api, (ready(owner, "A").pk, 1), ("piper:joe", 1))

    assert response.status_code == 400
    assert "sources.1.voice" in response.json()["error"]["details"]


def test_the_same_source_twice_is_a_400(owner_api, owner) -> None:
    a = ready(owner, "A")

    response = blend(owner_api, (a.pk, 1), ("a", 1))

    assert response.status_code == 400
    assert "sources.1.voice" in response.json()["error"]["details"]


def test_a_source_not_ready_yet_is_a_409(owner_api, owner) -> None:
    waiting = Voice.objects.create(owner=owner, name="Waiting", language="en", engine="xtts", status="processing")

    response = blend(owner_api, (ready(owner, "A").pk, 1), (waiting.pk, 1))

    assert response.status_code == 409


def test_a_taken_name_is_a_409(owner_api, owner) -> None:
    a, b = ready(owner, "A"), ready(owner, "B")

    response = blend(owner_api, (a.pk, 1), (b.pk, 1), name="a")

    assert response.status_code == 409


def test_the_schema_declares_the_blend_route(owner_api) -> None:
    schema = owner_api.get("/openapi.json").json()
    sources = schema["components"]["schemas"]["VoiceBlendRequest"]["properties"]["sources"]

    assert "/api/v1/voices/blend" in schema["paths"]
    assert (sources["minItems"], sources["maxItems"]) == (2, 4)
    assert schema["components"]["schemas"]["BlendSourceInRequest"]["properties"]["weight"]["minimum"] == 0
