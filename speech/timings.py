"""Word timings: when each spoken word starts and ends in the audio.

Every generation gets them (docs/ARCHITECTURE.md, "Word timings"):

- Piper reports how many audio samples each phoneme took (its own alignment, exact);
  `align_words` groups those phoneme spans into the text's words;
- XTTS has no alignment: segment (sentence) boundaries are exact, because the engine
  speaks one segment at a time, and the words inside a segment are estimated by
  `estimate_words` from their share of the text, snapped to the pauses found in the
  generated audio. Such timings are marked ``"estimated"``.

Times are seconds (floats) from the start of the audio they describe. `Timings` is what
a job stores (`{"method": ..., "words": [{"text", "start", "end"}, ...]}`);
`char_alignment` spreads the words over the characters of the request text (the
ElevenLabs-style `alignment` arrays).

Django-free, numpy only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from speech import text as textmod

EXACT = "exact"
ESTIMATED = "estimated"
METHODS: tuple[str, ...] = (EXACT, ESTIMATED)

# Tokens as speech.text counts words: whitespace-separated runs, each CJK character alone.
_TOKEN_RE = re.compile(rf"[{textmod._CJK_CHAR}]|[^\s{textmod._CJK_CHAR}]+")
_CJK_RE = re.compile(rf"[{textmod._CJK_CHAR}]")
# Punctuation after which a speaker pauses (a pause in the audio likely falls there).
_PAUSE_AFTER = tuple(".!?…;:,—–。！？，、；：") + ('"', "'", ")", "”", "’", "»")


@dataclass(frozen=True)
class WordTiming:
    """One spoken word (with the punctuation written against it) and its span."""

    text: str
    start: float
    end: float

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": round(self.start, 3), "end": round(self.end, 3)}

    def shifted(self, seconds: float) -> WordTiming:
        return WordTiming(self.text, self.start + seconds, self.end + seconds)


@dataclass
class Timings:
    """The words of one audio with their spans, and how they were found: ``"exact"``
    (every word from the engine's own alignment) or ``"estimated"`` (at least one
    word estimated)."""

    method: str = EXACT
    words: list[WordTiming] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "words": [w.to_dict() for w in self.words]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Timings:
        if not data:
            return cls(method=ESTIMATED, words=[])
        method = str(data.get("method") or ESTIMATED)
        words = [
            WordTiming(str(w["text"]), float(w["start"]), float(w["end"]))
            for w in data.get("words") or []
            if isinstance(w, Mapping)
        ]
        return cls(method=method if method in METHODS else ESTIMATED, words=words)

    def extend(self, words: Iterable[WordTiming], method: str, *, offset: float = 0.0) -> None:
        """Append a segment's words (times relative to the segment) placed at `offset`."""
        self.words.extend(w.shifted(offset) for w in words)
        self.method = combined_method(self.method, method)

    @property
    def end(self) -> float:
        return self.words[-1].end if self.words else 0.0


def combined_method(a: str, b: str) -> str:
    """Exact only when both are."""
    return EXACT if a == EXACT and b == EXACT else ESTIMATED


# --------------------------------------------------------------------------- words


def spoken_words(text: str) -> list[str]:
    """The words of `text` to time, in order: whitespace-separated tokens that hold a
    letter or digit (each Chinese or Japanese character is a word, as in
    speech.text.count_words), with punctuation-only tokens ("—", "...") joined to the
    word before them (or after, at the start). Emotion tags are not words."""
    words: list[str] = []
    leading = ""
    previous_end = -1
    spoken = textmod.strip_tags(text)
    for match in _TOKEN_RE.finditer(spoken):
        token = match.group()
        touching = match.start() == previous_end  # written against the word before
        previous_end = match.end()
        if any(c.isalnum() for c in token):
            words.append(leading + token)
            leading = ""
        elif words:
            words[-1] += token if touching else " " + token
        else:
            leading += token if touching or not leading else " " + token
    if leading and words:
        words[0] = leading + words[0]
    return words


def said_words(segment: textmod.Segment, *, phonemes: bool = True) -> list[tuple[str, str, int] | None]:
    """For each word of `spoken_words(segment.text)`: what is said for it when an
    override covers it (speech.markup: `("ipa", phonemes, n)` or `("text", alias, n)`,
    shared by the `n` written words it covers), else None. Lets an engine weigh the
    words as written by what it said for them, so timings keep the written words."""
    words = spoken_words(segment.text)
    if not segment.overrides:
        return [None] * len(words)
    text = segment.text
    bounds: list[tuple[int, int]] = []
    at = 0
    for word in words:
        token = word.split(" ")[0] or word
        start = text.find(token, at)
        if start < 0:
            start = at
        end = start + len(token)
        bounds.append((start, end))
        at = end
    said: list[tuple[str, str, int] | None] = [None] * len(words)
    for override in segment.overrides:
        covered = [i for i, (start, end) in enumerate(bounds) if start < override.end and end > override.start]
        if override.ipa is not None and phonemes:
            value: tuple[str, str] = ("ipa", override.ipa)
        elif override.alias is not None:
            value = ("text", override.alias)
        else:
            continue
        for i in covered:
            said[i] = (*value, len(covered))
    return said


def join_words(words: Sequence[str]) -> str:
    """Words back into text: spaces between them, none between CJK characters."""
    out = ""
    for word in words:
        if out and not (_CJK_RE.match(out[-1]) and _CJK_RE.match(word[0])):
            out += " "
        out += word
    return out


def word_weight(word: str) -> float:
    """How long a word takes to say, relative to others, from its spelling: letters
    count one, digits more (they are read as words), a CJK character two."""
    weight = 0.0
    for c in word:
        if _CJK_RE.match(c):
            weight += 2.0
        elif c.isdigit():
            weight += 2.5
        elif c.isalpha():
            weight += 1.0
    return max(weight, 1.0)


def _ends_clause(word: str) -> bool:
    return word.rstrip().endswith(_PAUSE_AFTER)


# ------------------------------------------------------- exact: from phoneme spans


@dataclass(frozen=True)
class PhonemeSpan:
    """One phoneme of an engine's alignment and when it sounds, in seconds. A word
    boundary is a phoneme " "; punctuation phonemes are pauses."""

    phoneme: str
    start: float
    end: float


def _is_sound(phoneme: str) -> bool:
    """A phoneme that is part of a word's sound (not a space, pause or stress mark)."""
    return any(c.isalpha() for c in phoneme)


def phoneme_sound_count(phonemes: Iterable[str]) -> int:
    """How many sounding phonemes there are (spaces, pauses and marks left out)."""
    return sum(1 for phoneme in phonemes if _is_sound(phoneme))


def phoneme_words(spans: Sequence[PhonemeSpan]) -> list[tuple[int, int]]:
    """The engine's own words: runs of sounding phonemes between spaces and
    punctuation, as [first, last] index pairs into `spans`."""
    groups: list[tuple[int, int]] = []
    first: int | None = None
    last = -1
    for index, span in enumerate(spans):
        if _is_sound(span.phoneme):
            if first is None:
                first = index
            last = index
        elif not _is_mark(span.phoneme):  # a space, a pause, the start or end mark
            if first is not None:
                groups.append((first, last))
                first = None
    if first is not None:
        groups.append((first, last))
    return groups


def _is_mark(phoneme: str) -> bool:
    """Stress and length marks sit inside a word (ˈ ˌ ː and combining marks)."""
    return all(c in "ˈˌːˑ" or 0x0300 <= ord(c) <= 0x036F for c in phoneme)


# Cost of cutting between two words where the engine has no word boundary, in the
# units of `_cut_words` (squared phoneme-count error over the expected count).
_INSIDE_WORD_PENALTY = 1.5


def align_words(words: Sequence[str], spans: Sequence[PhonemeSpan], weights: Sequence[float]) -> list[WordTiming]:
    """Group an engine's phoneme spans into `words`.

    The phonemizer does not keep the text's words one to one (espeak says "of the" as
    one word and "1984" as three), so the words are laid over the sounding phonemes by
    `_cut_words`: each word should get about its share of them by `weights` (its
    phoneme count when phonemized alone), and a cut between two words prefers the
    engine's own word boundaries (a space or pause). A word spans from its first
    phoneme's start to its last phoneme's end: the spaces and pauses between words
    belong to no word. With no sounding phoneme the words share the spans' time."""
    if not words:
        return []
    sounds = [i for i, s in enumerate(spans) if _is_sound(s.phoneme)]
    if not sounds:
        start = spans[0].start if spans else 0.0
        end = spans[-1].end if spans else 0.0
        return spread_words(words, start, end)
    m = len(sounds)
    position = {span_index: k for k, span_index in enumerate(sounds)}
    boundaries = {position[first] for first, _ in phoneme_words(spans)} | {0, m}
    cuts = _cut_words([max(float(w), 0.01) for w in weights], m, boundaries)
    timings = []
    for i, word in enumerate(words):
        first, last = cuts[i], cuts[i + 1] - 1
        if last < first:  # more words than sounds: a zero-length word at the cut
            at = spans[sounds[first]].start if first < m else spans[sounds[-1]].end
            timings.append(WordTiming(word, at, at))
        else:
            timings.append(WordTiming(word, spans[sounds[first]].start, spans[sounds[last]].end))
    return _monotonic(timings)


def _cut_words(weights: list[float], m: int, boundaries: set[int]) -> list[int]:
    """Cut positions 0 = c0 <= c1 <= ... <= cn = m over `m` sounds for n words, by
    dynamic programming: word i costs (its length - its expected length)^2 / expected,
    and a cut off the engine's `boundaries` costs _INSIDE_WORD_PENALTY. Each word gets
    at least one sound when there are enough. Cuts are searched in a window around
    the proportional position (the whole range if that finds nothing)."""
    n = len(weights)
    expected = np.array(weights) / sum(weights) * m
    ideal = np.cumsum(expected)
    minimum = 1 if m >= n else 0
    for window in (max(6.0, 0.25 * m), float(m)):
        prev_pos = np.array([0])
        prev_cost = np.array([0.0])
        back: list[tuple[np.ndarray, np.ndarray]] = []
        for i in range(n):
            if i == n - 1:
                pos = np.array([m])
            else:
                pos = np.arange(max(0, int(ideal[i] - window)), min(m, int(ideal[i] + window)) + 1)
            length = pos[None, :] - prev_pos[:, None]
            e = max(float(expected[i]), 1.0)
            step = (length - expected[i]) ** 2 / e
            step = np.where(length < minimum, np.inf, step)
            total = prev_cost[:, None] + step
            best = np.argmin(total, axis=0)
            cost = total[best, np.arange(len(pos))]
            cost = cost + np.array([0.0 if p in boundaries else _INSIDE_WORD_PENALTY for p in pos])
            back.append((prev_pos, best))
            prev_pos, prev_cost = pos, cost
        if np.isfinite(prev_cost[0]):
            cuts = [m]
            column = 0
            for prev, best in reversed(back):
                column = int(best[column])
                cuts.append(int(prev[column]))
            return cuts[::-1]
    # Not reachable (the whole-range pass always finds a cut); proportional to be safe.
    return [0] + [int(round(x)) for x in ideal[:-1]] + [m]


# ------------------------------------------------- estimated: share and pauses


# Frames of this length are classed as speech or pause.
FRAME_SECONDS = 0.01
# A quiet stretch at least this long is a pause a word boundary can snap to.
MIN_PAUSE_SECONDS = 0.12


def speech_runs(audio: np.ndarray, sample_rate: int) -> list[tuple[float, float]]:
    """Where `audio` has speech, as (start, end) seconds: frames louder than a level
    relative to the loudest part, with quiet stretches shorter than MIN_PAUSE_SECONDS
    bridged. Empty for silence."""
    samples = np.asarray(audio, dtype=np.float32).reshape(-1)
    frame = max(1, int(round(FRAME_SECONDS * sample_rate)))
    count = len(samples) // frame
    if count == 0 or sample_rate <= 0:
        return []
    energy = np.sqrt(np.mean(samples[: count * frame].reshape(count, frame) ** 2, axis=1))
    peak = float(np.percentile(energy, 95))
    if peak <= 1e-5:
        return []
    loud = energy > max(peak * 0.05, 1e-4)  # about -26 dB under the loud frames
    runs: list[list[int]] = []
    for index, is_loud in enumerate(loud):
        if not is_loud:
            continue
        if runs and (index - runs[-1][1]) * FRAME_SECONDS < MIN_PAUSE_SECONDS:
            runs[-1][1] = index + 1
        else:
            runs.append([index, index + 1])
    return [(a * frame / sample_rate, min(b * frame, len(samples)) / sample_rate) for a, b in runs]


def estimate_words(
    words: Sequence[str], audio: np.ndarray, sample_rate: int, *, weights: Sequence[float] | None = None
) -> list[WordTiming]:
    """Estimate the spans of `words` spoken in `audio` (one segment, nothing else).

    Speech starts and ends where the audio does (quiet ends trimmed). Each word gets
    its share of the speaking time by `weights` (default: `word_weight`), and pauses
    in the audio pull the nearest boundary onto them, preferring a boundary after
    punctuation: the word before ends where the pause starts, the next starts where it
    ends."""
    if not words:
        return []
    weights = [max(float(w), 0.01) for w in (weights or [word_weight(w) for w in words])]
    duration = len(audio) / sample_rate if sample_rate else 0.0
    runs = speech_runs(audio, sample_rate)
    if not runs:
        return spread_words(words, 0.0, duration, weights)
    n = len(words)
    total = sum(weights)
    voiced = sum(b - a for a, b in runs)
    # Each boundary's position on the voiced-time axis (pauses taken out).
    positions = np.cumsum(weights)[:-1] / total * voiced
    # Anchors: (boundary index, end of the word before, start of the word after).
    anchors: list[tuple[int, float, float]] = [(0, runs[0][0], runs[0][0])]
    used = 0
    before = 0.0
    for k in range(len(runs) - 1):
        before += runs[k][1] - runs[k][0]
        best: tuple[float, int] | None = None
        for i in range(used + 1, n):
            # Boundary i falls after word i-1 (0-based): cost is the distance on the
            # voiced axis, halved after punctuation where speakers pause.
            distance = abs(positions[i - 1] - before)
            if _ends_clause(words[i - 1]):
                distance *= 0.5
            if best is None or distance < best[0]:
                best = (distance, i)
        average = voiced / n
        if best is not None and best[0] <= 2.5 * average:
            used = best[1]
            anchors.append((used, runs[k][1], runs[k + 1][0]))
    anchors.append((n, runs[-1][1], runs[-1][1]))
    timings: list[WordTiming] = []
    for (i0, _, start), (i1, end, _) in zip(anchors, anchors[1:], strict=False):
        if i1 > i0:
            timings.extend(spread_words(words[i0:i1], start, end, weights[i0:i1]))
    return _monotonic(timings)


def spread_words(
    words: Sequence[str], start: float, end: float, weights: Sequence[float] | None = None
) -> list[WordTiming]:
    """`words` one after another over [start, end], each by its weight (default:
    `word_weight`)."""
    weights = list(weights) if weights is not None else [word_weight(w) for w in words]
    total = sum(weights) or 1.0
    span = max(0.0, end - start)
    out = []
    at = start
    for word, weight in zip(words, weights, strict=False):
        nxt = at + span * weight / total
        out.append(WordTiming(word, at, nxt))
        at = nxt
    return out


def _monotonic(words: list[WordTiming]) -> list[WordTiming]:
    """Never a word before the one it follows, never an end before its start."""
    out: list[WordTiming] = []
    last = 0.0
    for w in words:
        start = max(w.start, last)
        end = max(w.end, start)
        out.append(WordTiming(w.text, start, end))
        last = end
    return out


# ------------------------------------------------------------- per character


def char_alignment(text: str, words: Sequence[WordTiming]) -> tuple[list[str], list[float], list[float]]:
    """Every character of `text` with a start and end time (ElevenLabs' `alignment`):
    each word's span is spread evenly over its characters; the characters between two
    words (spaces, tags, punctuation not timed) share the gap between them; characters
    before the first word take [0, first start], after the last [last end, last end].
    Words are found in `text` in order; one that is not found is skipped. The three
    lists have len(text) items and the times never go backwards."""
    characters = list(text)
    starts = [0.0] * len(text)
    ends = [0.0] * len(text)
    cursor = 0
    previous_end = 0.0
    for word in words:
        located = _locate(text, word.text, cursor)
        if located is None:
            continue
        index, stop = located
        start = max(word.start, previous_end)
        end = max(word.end, start)
        _fill(starts, ends, cursor, index, previous_end, start)
        _fill(starts, ends, index, stop, start, end)
        cursor = stop
        previous_end = end
    _fill(starts, ends, cursor, len(text), previous_end, previous_end)
    return characters, [round(s, 3) for s in starts], [round(e, 3) for e in ends]


def _locate(text: str, word: str, cursor: int) -> tuple[int, int] | None:
    """Where `word` is in `text` at or after `cursor` as [start, stop), its tokens in
    order with any whitespace between them (a word may carry punctuation written
    apart, "world —"); None when it is not there."""
    tokens = word.split()
    if not tokens:
        return None
    first = text.find(tokens[0], cursor)
    if first < 0:
        return None
    stop = first + len(tokens[0])
    for token in tokens[1:]:
        at = text.find(token, stop)
        if at < 0 or text[stop:at].strip():
            return None
        stop = at + len(token)
    return first, stop


def _fill(starts: list[float], ends: list[float], first: int, stop: int, start: float, end: float) -> None:
    count = stop - first
    if count <= 0:
        return
    step = (end - start) / count
    for k in range(count):
        starts[first + k] = start + k * step
        ends[first + k] = start + (k + 1) * step
