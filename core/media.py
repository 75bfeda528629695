"""The media layout: every file Speaker keeps lives under MEDIA_ROOT, and this module is
the one place that knows where (docs/ARCHITECTURE.md, "Media layout").

    voices/<voice_id>/<sample_id>.wav          a cloned voice's normalised samples
    voices/<voice_id>/.<sample_id>.wav.part    a sample being written (renamed into place)
    voices/.incoming/<random>.upload           an upload being copied and checked
    jobs/<owner_id>/<job_id>-a<attempt>-<rand>.wav   a job's master audio, one name per attempt
    jobs/<owner_id>/<same stem>.<ext>          cached encodings of it (mp3, ogg, flac, pcm)
    previews/<voice_id>/<samples_version>-<stamp>.wav   a voice's cached preview
    productions/<owner_id>/<production_id>/<assembly>/whole.wav      an assembled production
    productions/<owner_id>/<production_id>/<assembly>/chapter-<n>.wav and encodings beside
    exports/<owner_id>/<export_id>.zip          a person's data export (privacy), kept 24 h

Rows store paths relative to MEDIA_ROOT (`SynthesisJob.audio_file`, `VoiceSample.file`);
`absolute()` turns one back into a path and refuses any that escapes the root.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from datetime import datetime
from pathlib import Path

from django.conf import settings

logger = logging.getLogger("speaker.media")

VOICES = "voices"
JOBS = "jobs"
PREVIEWS = "previews"
PRODUCTIONS = "productions"
EXPORTS = "exports"
INCOMING = f"{VOICES}/.incoming"


# ------------------------------------------------------------------------ the root


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT).resolve()


def absolute(relative: str) -> Path:
    """The absolute path of a stored relative path; ValueError if it escapes MEDIA_ROOT."""
    root = media_root()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"path escapes MEDIA_ROOT: {relative!r}")
    return path


# ---------------------------------------------------------------------- file helpers


def unlink_quietly(path: Path) -> None:
    """Remove a file that may already be gone; a failing disk is logged, not raised."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        logger.warning("could not remove %s", path, exc_info=True)


def remove_dir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty, or already gone


# -------------------------------------------------------------------------- voices


def voices_root() -> Path:
    return media_root() / VOICES


def voice_dir(voice_id: uuid.UUID | str) -> Path:
    """Folder of a cloned voice's samples (the id is parsed, so it can never be a path)."""
    return voices_root() / str(uuid.UUID(str(voice_id)))


def voice_incoming_dir() -> Path:
    """Where uploads are copied and checked before they become samples (not created here)."""
    return media_root() / INCOMING


def voice_incoming_file() -> Path:
    """A fresh server-made name for one upload being copied. No meaningful extension: the
    format is decided by the content alone."""
    return voice_incoming_dir() / f"{uuid.uuid4().hex}.upload"


def voice_sample_relative(voice_id: uuid.UUID | str, sample_id: uuid.UUID | str) -> str:
    """`VoiceSample.file` for a sample: relative to MEDIA_ROOT."""
    return f"{VOICES}/{uuid.UUID(str(voice_id))}/{uuid.UUID(str(sample_id))}.wav"


def voice_sample_path(voice_id: uuid.UUID | str, sample_id: uuid.UUID | str) -> Path:
    return voice_dir(voice_id) / f"{uuid.UUID(str(sample_id))}.wav"


def voice_sample_temp_path(voice_id: uuid.UUID | str, sample_id: uuid.UUID | str) -> Path:
    """Where a sample is written before the transaction renames it into place."""
    return voice_dir(voice_id) / f".{uuid.UUID(str(sample_id))}.wav.part"


CONSENTS = "consents"


def voice_consent_relative(consent_id: uuid.UUID | str) -> str:
    """`VoiceConsent.file` for a consent recording: relative to MEDIA_ROOT."""
    return f"{VOICES}/{CONSENTS}/{uuid.UUID(str(consent_id))}.wav"


def voice_consent_path(consent_id: uuid.UUID | str) -> Path:
    return voices_root() / CONSENTS / f"{uuid.UUID(str(consent_id))}.wav"


def voice_consent_temp_path(consent_id: uuid.UUID | str) -> Path:
    """Where a consent recording is written before the transaction renames it into place."""
    return voices_root() / CONSENTS / f".{uuid.UUID(str(consent_id))}.wav.part"


def remove_voice_dir(voice_id: uuid.UUID | str) -> None:
    """Remove a voice's sample folder and everything in it (only ever under voices/)."""
    folder = voice_dir(voice_id)
    if folder.is_dir() and folder.resolve().is_relative_to(voices_root()):
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------- jobs


def job_audio_relative(*, owner_id: int, job_id: uuid.UUID | str, attempt: int) -> str:
    """`SynthesisJob.audio_file` for one attempt at a job. One name per attempt (and a
    random part): a stale attempt (lease lost) and the attempt that took the job over
    never write, or delete, the same file."""
    return f"{JOBS}/{int(owner_id)}/{uuid.UUID(str(job_id))}-a{int(attempt)}-{uuid.uuid4().hex[:8]}.wav"


def job_audio_files(audio_file: str) -> list[Path]:
    """A job's stored master audio and every cached encoding of it (same stem, beside
    it); none for a job without audio, or a path that escapes MEDIA_ROOT."""
    if not audio_file:
        return []
    try:
        master = absolute(audio_file)
    except ValueError:
        return []
    return [master, *sorted(path for path in master.parent.glob(f"{master.stem}.*") if path != master)]


def remove_owner_job_dir(*, owner_id: int) -> None:
    """Remove an owner's job folder and anything left in it (an erased account)."""
    folder = media_root() / JOBS / str(int(owner_id))
    if folder.is_dir() and folder.resolve().is_relative_to(media_root() / JOBS):
        shutil.rmtree(folder, ignore_errors=True)


def job_encoding_path(master: Path, extension: str) -> Path:
    """Where the encoding of a job's master audio in one format is cached."""
    return master.with_suffix(f".{extension}")


def temp_beside(target: Path) -> Path:
    """A fresh temporary name next to `target`, for a write that is renamed into place
    (atomic: a reader never sees half a file)."""
    return target.with_name(f"{target.name}.tmp-{uuid.uuid4().hex[:8]}")


# ------------------------------------------------------------------------ previews


def preview_dir(voice_id: uuid.UUID | str) -> Path:
    return media_root() / PREVIEWS / str(uuid.UUID(str(voice_id)))


def preview_path(
    voice_id: uuid.UUID | str, *, samples_version: int, conditioned_at: datetime | None, settings_key: str = ""
) -> Path:
    """A voice's cached preview as the voice is now: a new sample set, new conditioning
    or new default settings (`settings_key`, a digest of them) means a new name, so a
    stale preview is never served."""
    stamp = conditioned_at.strftime("%Y%m%d%H%M%S%f") if conditioned_at else "0"
    suffix = f"-{settings_key}" if settings_key else ""
    return preview_dir(voice_id) / f"{int(samples_version)}-{stamp}{suffix}.wav"


# --------------------------------------------------------------------- productions


def production_dir(*, owner_id: int, production_id: uuid.UUID | str) -> Path:
    """Every assembly of one long-form production lives under this folder."""
    return media_root() / PRODUCTIONS / str(int(owner_id)) / str(uuid.UUID(str(production_id)))


def remove_owner_production_dir(*, owner_id: int) -> None:
    """Remove an owner's productions folder and everything in it (an erased account)."""
    folder = media_root() / PRODUCTIONS / str(int(owner_id))
    if folder.is_dir() and folder.resolve().is_relative_to(media_root() / PRODUCTIONS):
        shutil.rmtree(folder, ignore_errors=True)


def production_assembly_relative(*, owner_id: int, production_id: uuid.UUID | str) -> str:
    """A fresh folder (relative to MEDIA_ROOT) for one assembly: a re-assembly after a
    regenerated segment never overwrites files a download is reading."""
    return f"{PRODUCTIONS}/{int(owner_id)}/{uuid.UUID(str(production_id))}/{uuid.uuid4().hex[:12]}"


def remove_production_dir(*, owner_id: int, production_id: uuid.UUID | str, keep: str = "") -> None:
    """Remove a production's assemblies (all, or all but the folder `keep`)."""
    folder = production_dir(owner_id=owner_id, production_id=production_id)
    if not folder.is_dir() or not folder.resolve().is_relative_to(media_root() / PRODUCTIONS):
        return
    kept = absolute(keep) if keep else None
    for child in folder.iterdir():
        if child != kept:
            shutil.rmtree(child, ignore_errors=True)
    remove_dir_if_empty(folder)


# ------------------------------------------------------------------------- exports


def export_relative(*, owner_id: int, export_id: uuid.UUID | str) -> str:
    """`DataExport.file` for one export: relative to MEDIA_ROOT."""
    return f"{EXPORTS}/{int(owner_id)}/{uuid.UUID(str(export_id))}.zip"


def remove_owner_export_dir(*, owner_id: int) -> None:
    """Remove an owner's exports folder and everything in it (an erased account)."""
    folder = media_root() / EXPORTS / str(int(owner_id))
    if folder.is_dir() and folder.resolve().is_relative_to(media_root() / EXPORTS):
        shutil.rmtree(folder, ignore_errors=True)


def remove_preview_dir(voice_id: uuid.UUID | str) -> None:
    """Remove a voice's cached previews."""
    folder = preview_dir(voice_id)
    if folder.is_dir() and folder.resolve().is_relative_to(media_root() / PREVIEWS):
        shutil.rmtree(folder, ignore_errors=True)
