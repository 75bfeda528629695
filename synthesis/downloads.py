"""Serving a job's audio: convert the stored master WAV to the asked format once (cached
beside it, core.media), then answer with HTTP Range support so players can seek."""

from __future__ import annotations

import re
from pathlib import Path

import soundfile
from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse

from core import media
from core.errors import ApiError, Conflict, json_error
from speech import audio as audiomod
from synthesis.models import SynthesisJob

# Positions of at most 18 digits (no file is an exabyte): a longer one is answered 416
# like any other range that cannot be served, before int() of 4300+ digits can raise.
_RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")


def job_audio_file(*, job: SynthesisJob, fmt: str | None) -> tuple[Path, str]:
    """Path of the job's audio in `fmt` (default: the job's format) and its content type."""
    fmt = job.output_format if fmt is None else fmt  # `?format=` (empty) is not "the default"
    if fmt not in audiomod.FORMATS:
        raise ApiError(
            f"Unknown format {fmt!r}.", details={"format": [f"Choose one of {', '.join(audiomod.FORMATS)}."]}
        )
    if job.audio_expired:
        raise audio_expired_error(job)
    if job.status != SynthesisJob.Status.COMPLETED or not job.audio_file:
        raise Conflict(f"The job is {job.status}; audio exists once it is completed.", details={"status": job.status})
    master = media.absolute(job.audio_file)
    if fmt == "wav":
        return master, audiomod.CONTENT_TYPES["wav"]
    target = media.job_encoding_path(master, audiomod.FILE_EXTENSIONS[fmt])
    if not target.exists():
        temp = media.temp_beside(target)
        if fmt in ("pcm", "flac"):
            # Lossless formats copy the stored 16-bit samples as they are: a float
            # round trip could move a sample by one step.
            samples, rate = soundfile.read(master, dtype="int16")
            if fmt == "pcm":
                temp.write_bytes(samples.astype("<i2").tobytes())
            else:
                soundfile.write(temp, samples, rate, format="FLAC", subtype="PCM_16")
        else:
            pcm, rate = audiomod.decode(master.read_bytes())
            temp.write_bytes(audiomod.encode(pcm, rate, fmt))
        temp.replace(target)
    if fmt == "pcm":
        # Raw samples need their rate to be read: audio/pcm;rate=…;channels=1.
        return target, audiomod.content_type(fmt, job.sample_rate or soundfile.info(str(master)).samplerate)
    return target, audiomod.CONTENT_TYPES[fmt]


def audio_expired_error(job: SynthesisJob) -> ApiError:
    """410 for a job whose audio the retention sweep deleted (synthesis.retention)."""
    days = settings.AUDIO_RETENTION_DAYS
    kept = f" after {days} days" if days else ""
    return ApiError(
        f"This job's audio was deleted{kept} under the server's audio retention policy; "
        "its text and details stay in your history. Generate it again to hear it.",
        code="audio_expired",
        status_code=410,
        details={"audio_expired": True, "retention_days": days},
    )


def ranged_file_response(request: HttpRequest, path: Path, content_type: str, filename: str) -> HttpResponse:
    size = path.stat().st_size
    header = request.headers.get("Range", "")
    match = _RANGE.match(header.strip()) if header else None
    if header and match is None:
        return _unsatisfiable(size)
    if match:
        start_s, end_s = match.groups()
        if start_s == "" and end_s == "":
            return _unsatisfiable(size)
        if start_s == "":  # suffix range: the last N bytes
            start, end = max(0, size - int(end_s)), size - 1
        else:
            start = int(start_s)
            end = min(int(end_s), size - 1) if end_s else size - 1
        if start >= size or start > end:
            return _unsatisfiable(size)
        with open(path, "rb") as handle:
            handle.seek(start)
            body = handle.read(end - start + 1)
        response = HttpResponse(body, status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileResponse(open(path, "rb"), content_type=content_type)
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _unsatisfiable(size: int) -> HttpResponse:
    response = json_error(416, message="Requested range not satisfiable.")
    response["Content-Range"] = f"bytes */{size}"
    return response
