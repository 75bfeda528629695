"""speech.captions: cues cut at sentences and clauses, two lines of at most 42
characters, written as SRT and WebVTT that the `srt` and `webvtt-py` parsers read."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
import srt
import webvtt

from speech.captions import MAX_CUE_SECONDS, MAX_LINE_CHARS, cues, render
from speech.timings import WordTiming, spoken_words

TEXT = (
    "Speaker turns text into speech. It reads every sentence, clause by clause, and keeps the pauses "
    "where a person would breathe; captions follow along. Short one! Then a rather long sentence that "
    "goes on and on without any punctuation at all until it finally has to be cut somewhere sensible."
)


def timed(text: str, word_seconds: float = 0.3, gap: float = 0.05) -> list[WordTiming]:
    words = []
    at = 0.0
    for word in spoken_words(text):
        words.append(WordTiming(word, at, at + word_seconds))
        at += word_seconds + gap
    return words


def test_every_cue_has_at_most_two_lines_of_42_characters() -> None:
    for cue in cues(timed(TEXT)):
        assert 1 <= len(cue.lines) <= 2
        assert all(len(line) <= MAX_LINE_CHARS for line in cue.lines), cue


def test_cues_end_at_sentence_ends() -> None:
    texts = [" ".join(cue.lines) for cue in cues(timed(TEXT))]
    assert "Speaker turns text into speech." in texts
    assert "Short one!" in texts
    assert not any("speech. It" in text for text in texts)


def test_a_long_sentence_is_cut_after_a_clause_when_it_has_one() -> None:
    texts = [" ".join(cue.lines) for cue in cues(timed(TEXT))]
    cut = [t for t in texts if t.startswith("It reads")][0]
    assert cut.endswith((",", ";"))


def test_cues_keep_every_word_once_in_order() -> None:
    words = timed(TEXT)
    joined = " ".join(" ".join(cue.lines) for cue in cues(words))
    assert joined.split() == TEXT.split()


def test_cues_never_stay_on_screen_too_long() -> None:
    slow = timed(TEXT, word_seconds=1.0)
    for cue in cues(slow):
        assert cue.end - cue.start <= MAX_CUE_SECONDS + 1.0  # one word may finish the cue


def test_a_word_longer_than_a_line_is_cut_to_fit() -> None:
    long_word = "x" * 100
    [cue] = cues([WordTiming(long_word, 0.0, 1.0)])
    assert all(len(line) <= MAX_LINE_CHARS for line in cue.lines)


def test_srt_parses_with_the_srt_library() -> None:
    words = timed(TEXT)
    parsed = list(srt.parse(render(words, "srt")))
    made = cues(words)
    assert len(parsed) == len(made) > 3
    assert [p.index for p in parsed] == list(range(1, len(made) + 1))
    assert parsed[0].start == timedelta(0) and parsed[0].content == made[0].text
    assert all(p.start < p.end for p in parsed)
    assert all(a.end <= b.start for a, b in zip(parsed, parsed[1:], strict=False))


def test_vtt_parses_with_webvtt_py() -> None:
    hour = 3600.0
    words = [
        WordTiming("Fish", hour, hour + 0.4),
        WordTiming("&", hour + 0.5, hour + 0.6),
        WordTiming("<chips>.", hour + 0.7, hour + 1.25),
    ]
    document = webvtt.from_string(render(words, "vtt"))
    [caption] = document.captions
    assert caption.start == "01:00:00.000" and caption.end == "01:00:01.250"
    # Escaped as WebVTT requires (a bare "<" starts a tag); webvtt-py keeps the entities.
    assert caption.text == "Fish &amp; &lt;chips&gt;." and html.unescape(caption.text) == "Fish & <chips>."


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="srt, vtt"):
        render([], "ass")


def test_no_words_make_an_empty_but_valid_file() -> None:
    assert list(srt.parse(render([], "srt"))) == []
    assert webvtt.from_string(render([], "vtt")).captions == []
