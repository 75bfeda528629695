"""productions.assembly: even loudness (EBU R128), gaps, chapter markers that a tag
library reads, captions."""

from __future__ import annotations

from pathlib import Path

import av
import mutagen
import numpy as np
import soundfile

from productions import assembly as asm


def _segments(tmp_path: Path) -> list[asm.SegmentAudio]:
    """Four 'voices' at very different levels: speech-like noise bursts, 2 s each."""
    rng = np.random.default_rng(7)
    out = []
    for n, level in enumerate([0.02, 0.3, 0.08, 0.6]):
        envelope = (np.sin(np.linspace(0, 12 * np.pi, 44100)) > 0).astype(np.float32)
        pcm = (rng.standard_normal(44100) * level * envelope).clip(-1, 1).astype(np.float32)
        path = tmp_path / f"segment-{n}.wav"
        soundfile.write(path, pcm, 22050, subtype="PCM_16")
        out.append(
            asm.SegmentAudio(
                chapter=1 + n // 2, chapter_title=f"Part {1 + n // 2}", index=n + 1, text=f"Segment {n + 1}.", path=path
            )
        )
    return out


def _assemble(tmp_path: Path) -> asm.Assembly:
    return asm.assemble(
        segments=_segments(tmp_path),
        master=tmp_path / "whole.wav",
        chapter_path=lambda n: tmp_path / f"chapter-{n}.wav",
    )


def test_the_assembled_whole_is_within_one_lu_of_the_target_though_its_segments_were_not(tmp_path):
    levels = [asm.loudness_of(s.path) for s in _segments(tmp_path)]
    assert max(levels) - min(levels) > 20  # the input is uneven
    result = _assemble(tmp_path)
    assert abs(asm.loudness_of(tmp_path / "whole.wav") - asm.LOUDNESS_TARGET_LUFS) <= 1.0
    assert abs(result.loudness_lufs - asm.LOUDNESS_TARGET_LUFS) <= 1.0
    for chapter in (1, 2):
        assert abs(asm.loudness_of(tmp_path / f"chapter-{chapter}.wav") - asm.LOUDNESS_TARGET_LUFS) <= 1.0


def test_segments_are_apart_by_a_short_gap_and_chapters_by_a_longer_one(tmp_path):
    result = _assemble(tmp_path)
    s = result.segments
    assert abs((s[1].start - s[0].end) - asm.SEGMENT_GAP_SECONDS) < 0.01
    assert abs((s[2].start - s[1].end) - asm.CHAPTER_GAP_SECONDS) < 0.01
    assert abs(result.duration - soundfile.info(str(tmp_path / "whole.wav")).duration) < 0.01
    assert [c.title for c in result.chapters] == ["Part 1", "Part 2"]
    assert result.chapters[1].start == s[2].start


def test_mp3_carries_id3_chapters_and_a_table_of_contents(tmp_path):
    result = _assemble(tmp_path)
    asm.encode(
        source=tmp_path / "whole.wav", fmt="mp3", target=tmp_path / "whole.mp3", chapters=result.chapters, title="Book"
    )
    tags = mutagen.File(tmp_path / "whole.mp3").tags
    toc = tags.getall("CTOC")[0]
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert toc.child_element_ids == [c.element_id for c in chapters]
    assert [c.sub_frames["TIT2"].text[0] for c in chapters] == ["Part 1", "Part 2"]
    assert chapters[1].start_time == round(result.chapters[1].start * 1000)


def test_m4b_is_aac_with_chapters(tmp_path):
    result = _assemble(tmp_path)
    asm.encode(
        source=tmp_path / "whole.wav", fmt="m4b", target=tmp_path / "whole.m4b", chapters=result.chapters, title="Book"
    )
    audio = mutagen.File(tmp_path / "whole.m4b")
    assert [c.title for c in audio.chapters] == ["Part 1", "Part 2"]
    assert abs(audio.chapters[1].start - result.chapters[1].start) < 0.05
    with av.open(str(tmp_path / "whole.m4b")) as container:
        assert container.streams.audio[0].codec_context.name == "aac"


def test_ogg_opus_and_flac_carry_chapter_comments_at_the_right_times(tmp_path):
    result = _assemble(tmp_path)
    start = asm._timestamp(result.chapters[1].start)
    for fmt in ("ogg", "flac"):
        asm.encode(
            source=tmp_path / "whole.wav",
            fmt=fmt,
            target=tmp_path / f"whole.{fmt}",
            chapters=result.chapters,
            title="Book",
        )
        tags = mutagen.File(tmp_path / f"whole.{fmt}").tags
        assert tags["CHAPTER002"] == [start] and tags["CHAPTER002NAME"] == ["Part 2"], fmt


def test_captions_from_spans_in_srt_and_vtt():
    cues = [(0.0, 1.5, "Hello there."), (61.25, 63.0, "A minute later.")]
    srt = asm.captions(cues=cues, fmt="srt")
    vtt = asm.captions(cues=cues, fmt="vtt")
    assert "1\n00:00:00,000 --> 00:00:01,500\nHello there." in srt
    assert "2\n00:01:01,250 --> 00:01:03,000\nA minute later." in srt
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.")


def test_word_timings_make_cues_shifted_to_the_segments_place():
    words = [
        {"text": "Hello", "start": 0.0, "end": 0.4},
        {"text": "there.", "start": 0.45, "end": 0.9},
        {"text": "Bye", "start": 1.2, "end": 1.5},
    ]
    assert asm.word_cues(words, 10.0) == [(10.0, 10.9, "Hello there."), (11.2, 11.5, "Bye")]
