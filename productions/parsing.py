"""From a long text to chapters and segments (docs/productions.md "Long-form productions").

- Markdown headings (`#`, `##`) start chapters; text before the first heading is a
  chapter of its own (titled like the production). `###` and deeper are read as text.
- `[voice: Name]` switches the speaker for what follows, to the end of the chapter or
  the next marker; on a heading line it is that chapter's voice. Each chapter starts
  with its own voice or the production's default.
- Emotion tags (`(happy)`) work as elsewhere (speech.text); a segment that starts in
  the middle of an emotion carries its tag again, so every segment speaks as the text said.
- Segments are a few whole sentences (up to SEGMENT_CHARACTERS, never cut inside a
  sentence unless one sentence alone is longer than the engines' request limit).
- Light Markdown is read as text: emphasis marks, link targets, list bullets and quote
  marks are not spoken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from speech import text as textmod

# About 4 to 6 sentences of prose: long enough for natural prosody, short enough that
# many workers share a chapter and a regenerated segment is quick.
SEGMENT_CHARACTERS = 500

_HEADING = re.compile(r"^\s{0,3}(#{1,2})\s+(.*?)\s*#*\s*$")
_VOICE = re.compile(r"\[\s*voice\s*:\s*([^\]\n]*?)\s*\]", re.IGNORECASE)
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3}|`+|~~)")
_BULLET = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+", re.MULTILINE)
_QUOTE = re.compile(r"^\s{0,3}>\s?", re.MULTILINE)
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$", re.MULTILINE)


@dataclass
class ParsedSegment:
    text: str  # emotion tags included
    voice: str | None  # None: the production's default voice
    characters: int


@dataclass
class ParsedChapter:
    title: str
    voice: str | None
    segments: list[ParsedSegment] = field(default_factory=list)


def _clean(markdown: str) -> str:
    text = _RULE.sub("", markdown)
    text = _LINK.sub(r"\1", text)
    text = _BULLET.sub("", text)
    text = _QUOTE.sub("", text)
    return _EMPHASIS.sub("", text)


def _pack(sentences: list[textmod.Segment], voice: str | None, limit: int) -> list[ParsedSegment]:
    """Whole sentences into segments of at most `limit` characters, each carrying the
    emotion tags it needs (a tag where the emotion changes, and at its start)."""
    out: list[ParsedSegment] = []
    parts: list[str] = []
    size = 0
    emotion = textmod.DEFAULT_EMOTION

    def flush() -> None:
        nonlocal parts, size
        if parts:
            joined = " ".join(parts)
            out.append(ParsedSegment(text=joined, voice=voice, characters=textmod.count_characters(joined)))
        parts, size = [], 0

    for sentence in sentences:
        if parts and size + 1 + len(sentence.text) > limit:
            flush()
        if parts:
            tag_needed = sentence.emotion != emotion
        else:
            tag_needed = sentence.emotion != textmod.DEFAULT_EMOTION
        parts.append(f"({sentence.emotion}) {sentence.text}" if tag_needed else sentence.text)
        size += len(sentence.text) + 1
        emotion = sentence.emotion
    flush()
    return out


class TooMany(ValueError):
    """The text makes more chapters or segments than allowed; parsing stopped there."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"more than {limit} {what}")
        self.what = what
        self.limit = limit


def parse(
    text: str,
    *,
    title: str,
    sentence_limit: int,
    segment_characters: int = SEGMENT_CHARACTERS,
    max_segments: int | None = None,
    max_chapters: int | None = None,
) -> list[ParsedChapter]:
    """Chapters with their segments; chapters with nothing to speak are dropped.
    `sentence_limit` is the engines' per-request limit (MAX_TEXT_LENGTH): only a single
    sentence longer than it is cut. Past `max_segments` or `max_chapters` it stops at
    once with TooMany (a huge text is refused without being read to its end)."""
    chapters: list[ParsedChapter] = []
    current = ParsedChapter(title=title, voice=None)
    body: list[str] = []
    counted = [0]  # segments in the closed chapters

    def close() -> None:
        nonlocal body
        current.segments.extend(
            _segments("\n".join(body), current.voice, sentence_limit, segment_characters, max_segments, counted[0])
        )
        body = []
        if current.segments:
            chapters.append(current)
            counted[0] += len(current.segments)
            if max_chapters is not None and len(chapters) > max_chapters:
                raise TooMany("chapters", max_chapters)

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        heading = _HEADING.match(line)
        if heading:
            close()
            name = heading.group(2)
            marker = _VOICE.search(name)
            voice = marker.group(1) if marker and marker.group(1) else None
            name = " ".join(_clean(_VOICE.sub("", name)).split()) or f"Chapter {len(chapters) + 1}"
            current = ParsedChapter(title=name[:300], voice=voice)
            continue
        body.append(line)
    close()
    return chapters


def _segments(
    body: str,
    voice: str | None,
    sentence_limit: int,
    segment_characters: int,
    max_segments: int | None = None,
    before: int = 0,
) -> list[ParsedSegment]:
    """A chapter's body: split at voice markers, then into packed sentences; TooMany
    once `before` (the earlier chapters' segments) and these pass `max_segments`."""
    out: list[ParsedSegment] = []
    pos = 0
    for marker in [*_VOICE.finditer(body), None]:
        chunk = body[pos : marker.start() if marker else len(body)]
        # Blank lines are paragraph ends: a sentence end for the splitter.
        sentences = textmod.segments(_clean(chunk), sentence_limit)
        out.extend(_pack(sentences, voice, segment_characters))
        if max_segments is not None and before + len(out) > max_segments:
            raise TooMany("segments", max_segments)
        if marker is not None:
            voice = marker.group(1) or None
            pos = marker.end()
    return out


def voice_names(chapters: list[ParsedChapter]) -> set[str]:
    """Every voice a marker names (the default is None)."""
    return {s.voice for c in chapters for s in c.segments if s.voice}
