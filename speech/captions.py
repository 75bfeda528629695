"""Captions from word timings: cues of at most two lines of `MAX_LINE_CHARS`
characters, cut at sentence ends first, then at clause punctuation, written as SRT or
WebVTT.

A cue always ends at a sentence end; one that would not fit (or would stay on screen
longer than `MAX_CUE_SECONDS`) is cut at its last clause punctuation (, ; : —), else
after its last word that fits. Lines are balanced, with a preference for breaking
after punctuation. A single word longer than a line is cut inside the word.

Django-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from speech.timings import WordTiming, join_words

MAX_LINE_CHARS = 42
MAX_LINES = 2
MAX_CUE_SECONDS = 7.0
FORMATS: tuple[str, ...] = ("srt", "vtt")
CONTENT_TYPES = {"srt": "application/x-subrip; charset=utf-8", "vtt": "text/vtt; charset=utf-8"}

_SENTENCE_END = tuple(".!?…。！？‼⁇⁈⁉")
_CLAUSE_END = tuple(",;:—–，、；：")
_CLOSERS = "\"')]}»”’」』）】〉》"


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _ends_with(word: str, marks: tuple[str, ...]) -> bool:
    return word.rstrip().rstrip(_CLOSERS).endswith(marks)


def _wrap(words: Sequence[str], width: int = MAX_LINE_CHARS) -> list[str]:
    """Words into lines of at most `width` characters (greedy; a longer word is cut)."""
    lines: list[str] = []
    current: list[str] = []
    for word in words:
        while len(word) > width:  # a word longer than a line: cut it
            if current:
                lines.append(join_words(current))
                current = []
            lines.append(word[:width])
            word = word[width:]
        if current and len(join_words([*current, word])) > width:
            lines.append(join_words(current))
            current = []
        current.append(word)
    if current:
        lines.append(join_words(current))
    return lines


def _fits(words: Sequence[str]) -> bool:
    return len(_wrap(words)) <= MAX_LINES


def _lines(words: Sequence[str]) -> tuple[str, ...]:
    """The cue's words in at most two balanced lines: of the breaks that keep both
    lines short enough, the one after punctuation, else the most even."""
    text = join_words(words)
    if len(text) <= MAX_LINE_CHARS or len(words) < 2:
        return tuple(_wrap(words))
    best: tuple[float, int] | None = None
    for k in range(1, len(words)):
        first, second = join_words(words[:k]), join_words(words[k:])
        if len(first) > MAX_LINE_CHARS or len(second) > MAX_LINE_CHARS:
            continue
        score = abs(len(first) - len(second)) - (12 if _ends_with(words[k - 1], _SENTENCE_END + _CLAUSE_END) else 0)
        if best is None or score < best[0]:
            best = (score, k)
    if best is None:
        return tuple(_wrap(words))
    return join_words(words[: best[1]]), join_words(words[best[1] :])


def cues(words: Sequence[WordTiming]) -> list[Cue]:
    """Cues for `words` (already in order, times never going back)."""
    out: list[Cue] = []
    pending: list[WordTiming] = []

    def flush(count: int) -> None:
        taken = pending[:count]
        del pending[:count]
        if taken:
            start = taken[0].start
            end = max(taken[-1].end, start + 0.001)
            out.append(Cue(start, end, _lines([w.text for w in taken])))

    def cut_point() -> int:
        """Where to cut `pending`: after its last clause end, else all of it."""
        for k in range(len(pending) - 1, 0, -1):
            if _ends_with(pending[k - 1].text, _CLAUSE_END + _SENTENCE_END):
                return k
        return len(pending)

    for word in words:
        if pending and (
            not _fits([w.text for w in pending] + [word.text]) or word.end - pending[0].start > MAX_CUE_SECONDS
        ):
            flush(cut_point())
            # What is left (after the clause cut) plus this word may still not fit.
            if pending and not _fits([w.text for w in pending] + [word.text]):
                flush(len(pending))
        pending.append(word)
        if _ends_with(word.text, _SENTENCE_END):
            flush(len(pending))
    flush(len(pending))
    return out


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, int(round(seconds * 1000)))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(cue_list: Sequence[Cue]) -> str:
    blocks = [
        f"{index}\n{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}\n{cue.text}\n"
        for index, cue in enumerate(cue_list, start=1)
    ]
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cue_list: Sequence[Cue]) -> str:
    blocks = ["WEBVTT\n"]
    blocks += [f"{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}\n{_vtt_escape(cue.text)}\n" for cue in cue_list]
    return "\n".join(blocks)


def render(words: Sequence[WordTiming], fmt: str) -> str:
    """Captions for `words` in `fmt` ("srt" or "vtt")."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown caption format {fmt!r}; use one of {', '.join(FORMATS)}")
    cue_list = cues(words)
    return to_srt(cue_list) if fmt == "srt" else to_vtt(cue_list)
