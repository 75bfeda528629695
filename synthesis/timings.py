"""A finished job's word timings and captions (reads; docs/ARCHITECTURE.md, "Word
timings").

The worker stores the engine's timings with the job (`SynthesisJob.timings`, written by
synthesis.queue.job_complete). A job completed before timings existed has none stored:
its words are then estimated from its audio here, on every read (reads do not write).
"""

from __future__ import annotations

from dataclasses import dataclass

import soundfile

from core import media
from core.errors import ApiError, Conflict
from speech import captions as captionsmod
from speech.timings import ESTIMATED, Timings, estimate_words, spoken_words
from synthesis.models import SynthesisJob

CAPTION_FORMATS = captionsmod.FORMATS


def job_timings(*, job: SynthesisJob) -> Timings:
    """The words of a completed job with their start and end in its audio."""
    if job.status != SynthesisJob.Status.COMPLETED or not job.audio_file:
        raise Conflict(
            f"The job is {job.status}; word timings exist once it is completed.", details={"status": job.status}
        )
    if job.timings:
        return Timings.from_dict(job.timings)
    path = media.absolute(job.audio_file)
    if not path.is_file():
        raise Conflict("The job's audio is gone, so its words cannot be timed.", details={"status": job.status})
    pcm, rate = soundfile.read(path, dtype="float32", always_2d=False)
    return Timings(method=ESTIMATED, words=estimate_words(spoken_words(job.text), pcm, rate))


@dataclass(frozen=True)
class CaptionFile:
    body: str
    content_type: str
    filename: str


def job_captions(*, job: SynthesisJob, fmt: str | None) -> CaptionFile:
    """A completed job's captions as SRT or WebVTT."""
    if fmt not in CAPTION_FORMATS:
        raise ApiError(
            f"Unknown caption format {fmt!r}." if fmt else "Say which caption format: ?format=srt or ?format=vtt.",
            details={"format": [f"Choose one of {', '.join(CAPTION_FORMATS)}."]},
        )
    timings = job_timings(job=job)
    return CaptionFile(
        body=captionsmod.render(timings.words, fmt),
        content_type=captionsmod.CONTENT_TYPES[fmt],
        filename=f"speaker-{job.pk}.{fmt}",
    )
