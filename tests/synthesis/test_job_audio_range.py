"""Range requests on GET /api/v1/synthesis/{id}/audio that cannot be served are a 416
with the error body, however large the numbers in them."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile

from synthesis.models import SynthesisJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed_job(owner, settings) -> SynthesisJob:
    """A completed job whose stored audio is one second of a real WAV file."""
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(22050, dtype=np.int16), 22050, format="WAV", subtype="PCM_16")
    job = SynthesisJob.objects.create(
        owner=owner, voice_name="joe", voice_builtin=True, engine="piper", language="en", text="hi",
        status=SynthesisJob.Status.COMPLETED, audio_file=f"jobs/{owner.pk}/range.wav",
    )  # fmt: skip
    path = settings.MEDIA_ROOT / job.audio_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return job


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-" + "9" * 5000,  # int() of 4300+ digits raised ValueError: a 500
        "bytes=" + "9" * 5000 + "-",
        "bytes=-" + "9" * 5000,
        "bytes=99999999999999999999-",
    ],
    ids=["huge-end", "huge-start", "huge-suffix", "start-past-any-file"],
)
def test_a_range_with_absurd_positions_is_416(owner_api, completed_job, header):
    response = owner_api.get(f"/api/v1/synthesis/{completed_job.pk}/audio", HTTP_RANGE=header)
    assert response.status_code == 416
    assert response.json()["error"]["code"] == "range_not_satisfiable"
    assert response["Content-Range"].startswith("bytes */")


def test_an_end_past_the_file_still_gets_the_rest_of_it(owner_api, completed_job):
    full = owner_api.get(f"/api/v1/synthesis/{completed_job.pk}/audio").getvalue()
    part = owner_api.get(f"/api/v1/synthesis/{completed_job.pk}/audio", HTTP_RANGE="bytes=10-999999999999")
    assert part.status_code == 206 and part.content == full[10:]
