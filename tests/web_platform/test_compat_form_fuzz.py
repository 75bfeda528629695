"""Property-based: the form fields of ElevenLabs' POST /v1/voices/add (multipart, as the
SDKs send it) holding whatever a client can put on the wire -- NUL characters, bytes that
are not UTF-8 (a lone surrogate's encoding among them), JSON `labels` nested thousands of
levels deep, huge values, repeated fields -- never get a 5xx, and every refusal carries
ElevenLabs' error body (`{"detail": {"status", "message"}}`).

The multipart body is written byte by byte (a client library would refuse to encode
some of these), for an account with the cloning attestation so the request reaches the
fields. Bounded and derandomized for CI; run it on SQLite and on PostgreSQL
(DATABASE_URL), where a NUL in a stored text raises DataError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest_engines import piper_engine  # noqa: F401 - fixtures used below
from tests.elevenlabs_api.conftest import speech_wav, xi_for  # noqa: F401
from voices.models import CloningAttestation
from voices.services.attestation import attestation_accept

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]

EXAMPLES = 40
BOUNDARY = "speakerfuzzboundary7MA4YWxkTrZu0gW"
FIELDS = ("name", "description", "labels", "remove_background_noise")


def _deep_json(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


NASTY = [
    b"\x00", b"Grandma\x00", b"\xed\xa0\x80 Hello",  # NUL; a lone surrogate (U+D800) as UTF-8 would write it
    b"\xff\xfe", b"\xc3", b"null", b"{}", b"[]", b'{"language": "\x00"}', b'{"language": ["en"]}',
    b'{"a": 1e999}', b'{"a": ' + b"9" * 5000 + b"}", b"x" * 5000, b"\xe2\x80\xae\xef\xbb\xbf",
]  # fmt: skip
field_value = st.one_of(
    st.sampled_from(NASTY),
    st.integers(min_value=100, max_value=100_000).map(_deep_json),
    st.text(max_size=30).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=30),
)
labels_value = st.one_of(
    field_value,
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3).map(
        lambda labels: json.dumps(labels).encode()
    ),
)


def _part(name: bytes, value: bytes, filename: bytes | None = None) -> bytes:
    disposition = b'form-data; name="' + name + b'"' + (b'; filename="' + filename + b'"' if filename else b"")
    head = b"Content-Disposition: " + disposition + b"\r\n"
    if filename:
        head += b"Content-Type: audio/wav\r\n"
    return b"--" + BOUNDARY.encode() + b"\r\n" + head + b"\r\n" + value + b"\r\n"


@st.composite
def forms(draw: Any) -> list[tuple[bytes, bytes, bytes | None]]:
    parts: list[tuple[bytes, bytes, bytes | None]] = []
    for field in FIELDS:
        if draw(st.booleans()):
            strategy = labels_value if field == "labels" else field_value
            for _ in range(draw(st.integers(min_value=1, max_value=2))):  # a field may come twice
                parts.append((field.encode(), draw(strategy), None))
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        filename = draw(st.sampled_from([b"grandma.wav", b"a\x00.wav", b"\xed\xa0\x80.wav", b""]))
        parts.append((b"files", b"" if draw(st.booleans()) else b"SPEECH", filename or b"x.wav"))
    return parts


@settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip
@given(form=forms())
# What a hostile client sends first, always tried: labels nested deeper than a recursive
# parser goes, NUL in the stored texts of an otherwise good clone, a lone surrogate's bytes.
@example(form=[(b"name", b"Grandma", None), (b"labels", _deep_json(5000), None), (b"files", b"SPEECH", b"a.wav")])
@example(form=[(b"name", b"Grandma\x00", None), (b"description", b"\x00", None), (b"files", b"SPEECH", b"a.wav")])
@example(form=[(b"name", b"\xed\xa0\x80 Grandma", None), (b"files", b"SPEECH", b"a.wav")])
def test_any_form_on_voice_add_is_answered_without_a_server_error(owner, xi_for, speech_wav, form):  # noqa: F811
    attestation_accept(user=owner, via=CloningAttestation.Via.API)
    client = xi_for(owner)
    body = b"".join(
        _part(name, speech_wav if value == b"SPEECH" else value, filename) for name, value, filename in form
    ) + b"--" + BOUNDARY.encode() + b"--\r\n"  # fmt: skip
    response = client.client.post(
        "/v1/voices/add", body, content_type=f"multipart/form-data; boundary={BOUNDARY}", HTTP_XI_API_KEY=client.key
    )
    assert response.status_code < 500, (form, response.status_code, response.content[:500])
    payload = response.json()
    if response.status_code == 200:
        assert payload["voice_id"]
    else:
        assert isinstance(payload["detail"]["status"], str) and payload["detail"]["message"], payload
