"""Text handling for speech: emotion tags, word counts and sentence splitting.

Emotion tags
============

Write an emotion in parentheses where a sentence starts::

    (happy) Hello there! It is good to see you. (sad) But I have to go.

* A tag is recognised at the start of the text, after a line break, after
  sentence-ending punctuation (``. ! ? …`` and the CJK ``。！？``), or right after
  another tag. It switches the emotion for all following text until the next tag.
* Tags are case-insensitive and may have spaces inside: ``( Happy )``.
* Known emotions are listed in `EMOTIONS`. A parenthesised word that is not one of
  them, or a tag in the middle of a sentence, is ordinary text and is spoken:
  ``(laughs) hi`` says "laughs hi"; ``I am (happy) today`` says all five words.
* Text before the first tag uses the request's default emotion (``neutral`` unless
  the request names another).
* Tags are not spoken and are not counted: ``(happy) Hello world`` is 2 words and
  11 characters.

What an engine does with an emotion is up to it: XTTS uses the voice's reference
samples recorded with that emotion when it has them (real style transfer), else the
neutral samples plus a prosody preset; Piper uses a prosody preset.

Splitting
=========

`segments` cuts text into pieces an engine can speak in one go, sentence by
sentence, and never drops or truncates anything: joined back together the segments
are the input without its tags (up to whitespace). Sentences longer than the
engine's limit are cut at clause punctuation (``, ; :`` and CJK ``，、；：``), then
at spaces, and only a single word longer than the limit is cut inside the word.
Decimal numbers (``3.14``), thousands (``1,000``), common abbreviations (``Dr.``,
``Mr.``, ``e.g.``) and initials (``J. Smith``) do not end a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speech.markup import Override

EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "surprised", "whisper", "calm")
DEFAULT_EMOTION = "neutral"

_TAG_RE = re.compile(r"\(\s*([A-Za-z]+)\s*\)")
# Sentence-ending punctuation; the CJK ones end a sentence without a following space.
_TERMINALS = ".!?…。！？‼⁇⁈⁉"
_CJK_TERMINALS = "。！？"
# Closing quotes and brackets that belong to the sentence they close.
_CLOSERS = "\"')]}»”’」』）】〉》"
# Clause punctuation: long sentences are cut after these before falling back to spaces.
_CLAUSE_MARKS = ",;:—–"
_CJK_CLAUSE_MARKS = "，、；："
# Words whose trailing dot does not end a sentence ("Dr. Smith", "vs. them").
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "mx", "dr", "prof", "sr", "jr", "st", "mt", "ft", "vs", "cf",
        "approx", "dept", "est", "fig", "gen", "gov", "inc", "ltd", "co", "corp",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "capt", "col", "lt", "sgt", "rev", "hon", "no", "nos", "vol", "pp", "ca",
    }
)  # fmt: skip
# Scripts written without spaces: each character counts as a word.
_CJK_CHAR = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD_RE = re.compile(rf"[{_CJK_CHAR}]|[^\s{_CJK_CHAR}]+")


@dataclass(frozen=True)
class Segment:
    """One piece of text to speak in one go, with the emotion to speak it in.

    `text` is the words as written (what timings and captions show); `overrides` are
    its stretches said otherwise (speech.markup: aliases, phonemes). `pause_before` is
    the silence before it when markup set one (None: the usual gap between sentences),
    `rate` its speaking rate from `<prosody rate>`."""

    text: str
    emotion: str
    overrides: tuple[Override, ...] = ()
    pause_before: float | None = None
    rate: float = 1.0


# --------------------------------------------------------------------------- tags


def _is_tag_position(spoken_so_far: str) -> bool:
    """A tag counts only where a sentence starts (see module docstring)."""
    stripped = spoken_so_far.rstrip()
    if not stripped:
        return True
    if "\n" in spoken_so_far[len(stripped) :]:
        return True
    last = stripped.rstrip(_CLOSERS)
    return bool(last) and last[-1] in _TERMINALS


def _runs(text: str) -> list[tuple[str | None, str]]:
    """Split text at emotion tags: [(emotion or None for "default", spoken text)].

    Tags are removed; where a tag stood between two words one space is kept so the
    words do not run together.
    """
    runs: list[tuple[str | None, str]] = []
    emotion: str | None = None
    current = ""  # spoken text of the current run
    spoken = ""  # all spoken text so far (for the sentence-start rule)
    pos = 0
    for match in _TAG_RE.finditer(text):
        name = match.group(1).lower()
        before = text[pos : match.start()]
        if name not in EMOTIONS or not _is_tag_position(spoken + before):
            continue  # ordinary text: stays in `before` of the next tag or the tail
        current += before
        spoken += before
        if current.strip():
            runs.append((emotion, current))
        elif runs and current:
            # Whitespace between two tags: keep it with the previous run.
            runs[-1] = (runs[-1][0], runs[-1][1] + current)
        emotion = name
        current = ""
        pos = match.end()
        if not spoken.strip() or spoken[-1:].isspace():
            # Already at a word boundary: drop the spaces after the tag so that removing
            # "(happy) " leaves no double space.
            while pos < len(text) and text[pos] in " \t":
                pos += 1
        elif pos < len(text) and not text[pos].isspace():
            # "Hi.(happy)There": keep the words apart where the tag stood.
            current = " "
            spoken += " "
    current += text[pos:]
    if current:
        runs.append((emotion, current))
    return runs


def strip_tags(text: str) -> str:
    """The spoken text: emotion tags removed, ends trimmed, inner whitespace kept."""
    return "".join(part for _, part in _runs(text)).strip()


def spoken_text(text: str) -> str:
    """The spoken text with all whitespace runs collapsed to single spaces."""
    return " ".join(strip_tags(text).split())


def count_words(text: str) -> int:
    """Words that will be spoken (tags excluded). A token counts when it has a
    letter or digit; each Chinese or Japanese character counts as one word."""
    return sum(1 for token in _WORD_RE.findall(strip_tags(text)) if any(c.isalnum() for c in token))


def count_characters(text: str) -> int:
    """Spoken characters (tags excluded), with each whitespace run counted as one."""
    return len(spoken_text(text))


def has_speech(text: str) -> bool:
    """True when there is at least one letter or digit to speak."""
    return any(c.isalnum() for c in strip_tags(text))


# ---------------------------------------------------------------------- splitting


def _word_before(s: str, index: int) -> str:
    """The letters and dots right before position `index` (e.g. "e.g" or "Dr")."""
    start = index
    while start > 0 and (s[start - 1].isalpha() or s[start - 1] == "."):
        start -= 1
    return s[start:index]


def _dot_ends_sentence(s: str, dot: int, after: int) -> bool:
    word = _word_before(s, dot)
    if word.lower() in _ABBREVIATIONS:
        return False
    if "." in word.strip("."):  # e.g, i.e, U.S, a.m: dotted abbreviations
        return False
    if len(word) == 1 and word.isupper():  # initials: "J. Smith"
        return False
    # "approx. five" and "etc. and so on": a lowercase word continues the sentence.
    return not _next_is_lowercase(s, after)


def _next_is_lowercase(s: str, index: int) -> bool:
    following = s[index:].lstrip()
    return following[:1].isalpha() and following[:1].islower()


def _sentence_pieces(s: str) -> list[str]:
    """Cut `s` after each sentence end; the pieces concatenate back to `s` exactly."""
    cuts: list[int] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch == "\n":
            j = i
            while j < n and s[j].isspace():
                j += 1
            cuts.append(j)
            i = j
            continue
        if ch in _TERMINALS:
            j = i
            while j < n and s[j] in _TERMINALS:
                j += 1
            while j < n and s[j] in _CLOSERS:
                j += 1
            run = s[i:j]
            if j < n:
                if any(c in _CJK_TERMINALS for c in run):
                    cut = True
                elif s[j].isspace():
                    if run.rstrip(_CLOSERS) == ".":
                        cut = _dot_ends_sentence(s, i, j)
                    else:
                        # '"Stop!" he said.': a lowercase word continues the sentence.
                        cut = not _next_is_lowercase(s, j)
                else:
                    cut = False  # "3.14", "e.g.x", "?!abc": not a sentence end
                if cut:
                    while j < n and s[j].isspace() and s[j] != "\n":
                        j += 1
                    cuts.append(j)
            i = j
            continue
        i += 1
    return _cut(s, cuts)


def _clause_pieces(s: str) -> list[str]:
    cuts: list[int] = []
    for i, ch in enumerate(s):
        if ch in _CJK_CLAUSE_MARKS or ch in "—–":
            cuts.append(i + 1)
        elif ch in _CLAUSE_MARKS and i + 1 < len(s) and s[i + 1].isspace():
            cuts.append(i + 1)
    return _cut(s, cuts)


def _word_pieces(s: str) -> list[str]:
    # Each piece is a word with the whitespace that follows it.
    return re.findall(r"\S+\s*|\s+", s)


def _hard_pieces(s: str, max_chars: int) -> list[str]:
    """Last resort for one overlong word: fixed-size slices, whitespace kept at the ends."""
    lead = len(s) - len(s.lstrip())
    core_end = len(s.rstrip())
    cuts = list(range(lead + max_chars, core_end, max_chars))
    return _cut(s, cuts)


def _cut(s: str, cuts: Iterable[int]) -> list[str]:
    pieces: list[str] = []
    start = 0
    for cut in cuts:
        if start < cut < len(s):
            pieces.append(s[start:cut])
            start = cut
    pieces.append(s[start:])
    return [p for p in pieces if p]


def _fits(piece: str, max_chars: int) -> bool:
    return len(piece.strip()) <= max_chars


def _pack(parts: list[str], max_chars: int, level: int) -> list[str]:
    """Greedily join consecutive parts while they fit; split a part that does not fit
    alone at the next finer level (clauses -> words -> characters)."""
    out: list[str] = []
    acc = ""
    for part in parts:
        if _fits(acc + part, max_chars):
            acc += part
            continue
        if acc.strip():
            out.append(acc)
            acc = ""
        if _fits(acc + part, max_chars):
            acc += part
            continue
        finer = _split_to_fit(acc + part, max_chars, level + 1)
        out.extend(finer[:-1])
        acc = finer[-1]
    if acc:
        out.append(acc)
    return out


def _split_to_fit(s: str, max_chars: int, level: int = 0) -> list[str]:
    if _fits(s, max_chars):
        return [s]
    if level == 0:
        return _pack(_clause_pieces(s), max_chars, 0)
    if level == 1:
        return _pack(_word_pieces(s), max_chars, 1)
    return _hard_pieces(s, max_chars)


def segments(text: str, max_chars: int, *, default_emotion: str = DEFAULT_EMOTION) -> list[Segment]:
    """Split `text` into sentence-sized segments of at most `max_chars` characters.

    Nothing is dropped: the segments joined with spaces equal `strip_tags(text)` up to
    whitespace. Pieces without a letter or digit ("...", "!") are attached to a
    neighbour when that fits, so no engine is asked to speak bare punctuation.
    Returns [] when there is nothing to speak.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    if default_emotion not in EMOTIONS:
        raise ValueError(f"unknown emotion {default_emotion!r}")
    out: list[Segment] = []
    for emotion, run in _runs(text):
        for sentence in _sentence_pieces(run):
            for piece in _split_to_fit(sentence, max_chars):
                clean = " ".join(piece.split())
                if clean:
                    out.append(Segment(clean, emotion or default_emotion))
    return _attach_punctuation(out, max_chars)


def _attach_punctuation(segs: list[Segment], max_chars: int) -> list[Segment]:
    merged: list[Segment] = []
    for seg in segs:
        if merged and not _speakable(seg.text) and len(merged[-1].text) + 1 + len(seg.text) <= max_chars:
            merged[-1] = Segment(f"{merged[-1].text} {seg.text}", merged[-1].emotion)
        elif merged and not _speakable(merged[-1].text) and len(merged[-1].text) + 1 + len(seg.text) <= max_chars:
            merged[-1] = Segment(f"{merged[-1].text} {seg.text}", seg.emotion)
        else:
            merged.append(seg)
    return merged


def _speakable(s: str) -> bool:
    return any(c.isalnum() for c in s)
