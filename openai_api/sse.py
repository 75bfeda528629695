"""OpenAI's `stream_format: "sse"` for /v1/audio/speech: the stream job's audio, encoded
in the request's response_format, as `speech.audio.delta` events (base64 `audio`), then
one `speech.audio.done` with `usage` (openai_api.speech_options.speech_usage). A stream
that fails after the headers ends with an `error` event instead of the done event (the
job row says why)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

from django.http import StreamingHttpResponse

from openai_api.speech_options import speech_usage
from synthesis.models import SynthesisJob
from synthesis.stream_service import StreamMeter, encoded_stream

SSE_CONTENT_TYPE = "text/event-stream"


def _event(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


async def _events(
    job: SynthesisJob, fmt: str, *, target_rate: int | None, text: str, instructions: str | None
) -> AsyncIterator[bytes]:
    meter = StreamMeter()
    async for data in encoded_stream(job, fmt, target_rate=target_rate, meter=meter):
        yield _event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode("ascii")})
    if meter.failed is not None:
        yield _event(
            {
                "type": "error",
                "error": {
                    "message": f"Synthesis failed: {meter.failed}",
                    "type": "server_error",
                    "param": None,
                    "code": "synthesis_failed",
                },
            }
        )
        return
    usage = speech_usage(text=text, instructions=instructions, audio_seconds=meter.seconds)
    yield _event({"type": "speech.audio.done", "usage": usage})


def sse_response(
    job: SynthesisJob, fmt: str, *, target_rate: int | None, text: str, instructions: str | None
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _events(job, fmt, target_rate=target_rate, text=text, instructions=instructions), content_type=SSE_CONTENT_TYPE
    )
    response["X-Job-ID"] = str(job.pk)
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    return response
