"""Putting a production together (docs/productions.md "Long-form productions"): segment WAVs into one
master WAV and one WAV per chapter, each segment brought to the same loudness (EBU R128,
measured with pyloudnorm, ITU-R BS.1770-4), a short silence between segments and a
longer one between chapters; then encodings with chapter markers where the container
has them, and captions.

Written a block at a time: a book of many hours is never held in memory whole.
"""

from __future__ import annotations

import math
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import soundfile
from mutagen.flac import FLAC
from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags, ID3NoHeaderError
from mutagen.oggopus import OggOpus

from speech import audio as audiomod

if TYPE_CHECKING:
    import pyloudnorm

# EBU R128's programme loudness. Every segment is brought to it, so the whole is too.
LOUDNESS_TARGET_LUFS = -23.0
SEGMENT_GAP_SECONDS = 0.35
CHAPTER_GAP_SECONDS = 1.5
# pyloudnorm's gating block: a shorter segment cannot be measured and keeps the gain
# of the segment before it.
_MIN_MEASURE_SECONDS = 0.4
_MAX_GAIN_DB = 30.0
_PEAK_CEILING = 0.98
# The whole file's loudness is measured (a check, stored) up to this length; a longer
# one would be read into memory for it.
MEASURE_WHOLE_MAX_SECONDS = 3600.0
_BLOCK = 1 << 16

# Download formats of a production: the job formats but raw pcm, and m4b (AAC).
FORMATS: tuple[str, ...] = ("mp3", "ogg", "flac", "wav", "m4b")
CONTENT_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "m4b": "audio/mp4",
}


@dataclass
class Span:
    index: int
    start: float  # seconds in the whole
    end: float
    title: str = ""
    text: str = ""


@dataclass
class Assembly:
    sample_rate: int
    duration: float
    chapters: list[Span] = field(default_factory=list)
    segments: list[Span] = field(default_factory=list)
    loudness_lufs: float | None = None
    chapter_durations: dict[int, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["chapter_durations"] = {str(k): v for k, v in self.chapter_durations.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Assembly:
        return cls(
            sample_rate=data["sample_rate"],
            duration=data["duration"],
            chapters=[Span(**c) for c in data.get("chapters", [])],
            segments=[Span(**s) for s in data.get("segments", [])],
            loudness_lufs=data.get("loudness_lufs"),
            chapter_durations={int(k): v for k, v in data.get("chapter_durations", {}).items()},
        )


@dataclass(frozen=True)
class SegmentAudio:
    chapter: int
    chapter_title: str
    index: int
    text: str
    path: Path


def _meter(rate: int) -> pyloudnorm.Meter:
    """pyloudnorm's meter, imported when a production is assembled: it brings
    scipy.signal, about 85 MB that a server which never assembles one should not hold
    (docs/performance.md "Memory")."""
    import pyloudnorm

    return pyloudnorm.Meter(rate)


def _gain(meter: pyloudnorm.Meter, pcm: np.ndarray, rate: int, previous: float) -> float:
    """Linear gain that brings `pcm` to the target loudness, limited so no peak clips."""
    gain = previous
    if len(pcm) >= _MIN_MEASURE_SECONDS * rate:
        loudness = meter.integrated_loudness(pcm.astype(np.float64))
        if math.isfinite(loudness):
            gain = 10 ** (max(-_MAX_GAIN_DB, min(_MAX_GAIN_DB, LOUDNESS_TARGET_LUFS - loudness)) / 20)
    peak = float(np.max(np.abs(pcm))) if pcm.size else 0.0
    if peak * gain > _PEAK_CEILING:
        gain = _PEAK_CEILING / peak
    return gain


def loudness_of(path: Path) -> float | None:
    """Integrated loudness (LUFS) of a file, or None when it cannot be measured."""
    pcm, rate = soundfile.read(str(path), dtype="float64", always_2d=False)
    if pcm.ndim > 1:
        pcm = pcm.mean(axis=1)
    if len(pcm) < _MIN_MEASURE_SECONDS * rate:
        return None
    value = _meter(rate).integrated_loudness(pcm)
    return float(value) if math.isfinite(value) else None


def assemble(*, segments: list[SegmentAudio], master: Path, chapter_path: Any) -> Assembly:
    """Write the master WAV and one WAV per chapter (`chapter_path(index) -> Path`), each
    through a temporary file renamed into place. Segments come in reading order."""
    if not segments:
        raise ValueError("nothing to assemble")
    rate = int(soundfile.info(str(segments[0].path)).samplerate)
    meter = _meter(rate)
    result = Assembly(sample_rate=rate, duration=0.0)
    segment_gap = np.zeros(int(round(SEGMENT_GAP_SECONDS * rate)), dtype=np.float32)
    chapter_gap = np.zeros(int(round(CHAPTER_GAP_SECONDS * rate)), dtype=np.float32)
    master_temp = master.with_name(f".{master.name}.part")
    master.parent.mkdir(parents=True, exist_ok=True)
    written = 0  # samples in the master
    chapter_file: soundfile.SoundFile | None = None
    chapter_temp: Path | None = None
    chapter_written = 0
    current_chapter: int | None = None
    gain = 1.0
    renames: list[tuple[Path, Path]] = []

    def close_chapter() -> None:
        nonlocal chapter_file
        if chapter_file is not None and current_chapter is not None and chapter_temp is not None:
            chapter_file.close()
            renames.append((chapter_temp, chapter_path(current_chapter)))
            result.chapter_durations[current_chapter] = chapter_written / rate
            result.chapters[-1].end = written / rate
        chapter_file = None

    with soundfile.SoundFile(
        str(master_temp), mode="w", samplerate=rate, channels=1, format="WAV", subtype="PCM_16"
    ) as out:
        for seg in segments:
            if seg.chapter != current_chapter:
                if current_chapter is not None:
                    close_chapter()
                    out.write(chapter_gap)
                    written += len(chapter_gap)
                current_chapter = seg.chapter
                target = chapter_path(seg.chapter)
                target.parent.mkdir(parents=True, exist_ok=True)
                chapter_temp = target.with_name(f".{target.name}.part")
                chapter_file = soundfile.SoundFile(
                    str(chapter_temp), mode="w", samplerate=rate, channels=1, format="WAV", subtype="PCM_16"
                )
                chapter_written = 0
                result.chapters.append(
                    Span(index=seg.chapter, start=written / rate, end=written / rate, title=seg.chapter_title)
                )
            else:
                out.write(segment_gap)
                assert chapter_file is not None
                chapter_file.write(segment_gap)
                written += len(segment_gap)
                chapter_written += len(segment_gap)
            pcm, seg_rate = soundfile.read(str(seg.path), dtype="float32", always_2d=False)
            pcm = audiomod.as_mono_float32(pcm)
            if seg_rate != rate:  # another engine's voice: one rate for the whole
                pcm = audiomod.resample(pcm, int(seg_rate), rate)
            gain = _gain(meter, pcm, rate, gain)
            pcm = np.clip(pcm * gain, -1.0, 1.0).astype(np.float32)
            start = written / rate
            out.write(pcm)
            assert chapter_file is not None
            chapter_file.write(pcm)
            written += len(pcm)
            chapter_written += len(pcm)
            result.segments.append(Span(index=seg.index, start=start, end=written / rate, text=seg.text))
        close_chapter()
    master_temp.replace(master)
    for temp, target in renames:
        temp.replace(target)
    result.duration = written / rate
    if result.duration <= MEASURE_WHOLE_MAX_SECONDS:
        result.loudness_lufs = loudness_of(master)
    return result


# --------------------------------------------------------------------------- encodings


def encode(*, source: Path, fmt: str, target: Path, chapters: list[Span], title: str) -> None:
    """Encode the WAV `source` as `fmt` into `target` (through a temporary file), with
    chapter markers: ID3 CHAP/CTOC (mp3), chapters (m4b, ogg), CHAPTERnnn comments (flac)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")  # two downloads may encode at once
    if fmt == "wav":
        shutil.copyfile(source, temp)
    elif fmt in ("mp3", "flac"):
        _encode_soundfile(source, temp, fmt)
        if fmt == "mp3":
            _id3_chapters(temp, chapters, title)
        else:
            _comment_chapters(FLAC(str(temp)), chapters, title)
    else:
        _encode_av(source, temp, fmt, chapters, title)
        if fmt == "ogg":
            # FFmpeg's Ogg muxer rounds a chapter's seconds to the nearest (5.85 s is
            # written 00:00:06.850): the comments are written here instead.
            _comment_chapters(OggOpus(str(temp)), chapters, title)
    temp.replace(target)


def _blocks(source: Path) -> Iterable[np.ndarray]:
    with soundfile.SoundFile(str(source)) as f:
        while True:
            block = f.read(_BLOCK, dtype="int16", always_2d=False)
            if not len(block):
                return
            yield block


def _encode_soundfile(source: Path, temp: Path, fmt: str) -> None:
    rate = int(soundfile.info(str(source)).samplerate)
    container, subtype = {"mp3": ("MP3", "MPEG_LAYER_III"), "flac": ("FLAC", "PCM_16")}[fmt]
    if fmt == "mp3" and rate not in audiomod.MP3_SAMPLE_RATES:
        raise ValueError(f"mp3 needs one of the rates {audiomod.MP3_SAMPLE_RATES}")
    with soundfile.SoundFile(
        str(temp), mode="w", samplerate=rate, channels=1, format=container, subtype=subtype
    ) as out:
        for block in _blocks(source):
            out.write(block)


def _timestamp(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _id3_chapters(path: Path, chapters: list[Span], title: str) -> None:
    try:
        tags = ID3(str(path))
    except ID3NoHeaderError:
        tags = ID3()
    tags.add(TIT2(encoding=3, text=[title]))
    ids = [f"chp{n}" for n in range(len(chapters))]
    tags.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text=[title])],
        )
    )
    for element_id, chapter in zip(ids, chapters, strict=False):
        tags.add(
            CHAP(
                element_id=element_id,
                start_time=int(round(chapter.start * 1000)),
                end_time=int(round(chapter.end * 1000)),
                sub_frames=[TIT2(encoding=3, text=[chapter.title])],
            )
        )
    tags.save(str(path), v2_version=4)


def _comment_chapters(audio: Any, chapters: list[Span], title: str) -> None:
    """Vorbis-comment chapters (CHAPTERnnn / CHAPTERnnnNAME), as FLAC and Ogg players read them."""
    audio["TITLE"] = title
    for n, chapter in enumerate(chapters, start=1):
        audio[f"CHAPTER{n:03d}"] = _timestamp(chapter.start)
        audio[f"CHAPTER{n:03d}NAME"] = chapter.title
    audio.save()


def _encode_av(source: Path, temp: Path, fmt: str, chapters: list[Span], title: str) -> None:
    # PyAV (FFmpeg bundled in its wheel) is loaded only for the formats that need it.
    import av

    container_format, codec, out_rate = {"ogg": ("ogg", "libopus", 48000), "m4b": ("ipod", "aac", None)}[fmt]
    rate = int(soundfile.info(str(source)).samplerate)
    out_rate = out_rate or rate
    with av.open(str(temp), mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=out_rate, layout="mono")
        stream.bit_rate = 64000
        container.metadata["title"] = title
        ms = Fraction(1, 1000)
        if fmt == "m4b":
            container.set_chapters(
                [
                    {
                        "id": n,
                        "start": int(round(c.start * 1000)),
                        "end": int(round(c.end * 1000)),
                        "time_base": ms,
                        "metadata": {"title": c.title},
                    }
                    for n, c in enumerate(chapters, start=1)
                ]
            )
        resampler = av.AudioResampler(format=stream.codec_context.format, layout="mono", rate=out_rate)
        pts = 0
        for block in _blocks(source):
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = pts
            frame.time_base = Fraction(1, rate)
            pts += len(block)
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):
                    container.mux(packet)
        for converted in resampler.resample(None):
            for packet in stream.encode(converted):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


# --------------------------------------------------------------------------- captions


def _cue_time(seconds: float, sep: str) -> str:
    ms = max(0, int(round(seconds * 1000)))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def captions(*, cues: list[tuple[float, float, str]], fmt: str) -> str:
    """SRT or WebVTT from (start, end, text) cues."""
    if fmt == "vtt":
        lines = ["WEBVTT", ""]
        for start, end, text in cues:
            lines += [f"{_cue_time(start, '.')} --> {_cue_time(end, '.')}", text, ""]
    else:
        lines = []
        for n, (start, end, text) in enumerate(cues, start=1):
            lines += [str(n), f"{_cue_time(start, ',')} --> {_cue_time(end, ',')}", text, ""]
    return "\n".join(lines)


def _word(word: dict[str, Any]) -> str:
    return str(word.get("text", word.get("word", "")))


def word_cues(
    words: list[dict[str, Any]], offset: float, *, max_words: int = 10, max_seconds: float = 6.0
) -> list[tuple[float, float, str]]:
    """Caption cues from one segment's word timings (speech.timings: `[{"text", "start",
    "end"}, ...]`, seconds within the segment), shifted to the segment's place in the
    whole: a cue ends at a sentence end, after `max_words` or after `max_seconds`."""
    cues: list[tuple[float, float, str]] = []
    group: list[dict[str, Any]] = []
    for word in words:
        group.append(word)
        if (
            len(group) >= max_words
            or float(word["end"]) - float(group[0]["start"]) >= max_seconds
            or _word(word)[-1:] in ".!?"
        ):
            cues.append(
                (offset + float(group[0]["start"]), offset + float(group[-1]["end"]), " ".join(_word(w) for w in group))
            )
            group = []
    if group:
        cues.append(
            (offset + float(group[0]["start"]), offset + float(group[-1]["end"]), " ".join(_word(w) for w in group))
        )
    return cues
