"""Markup in the text: pauses, phonemes, substitutions, whole SSML documents.

What a request may write (docs/pronunciation.md):

* in plain text, the tags ``<break time="1.5s"/>`` (or ``ms``), ``<phoneme
  alphabet="ipa|cmu-arpabet" ph="...">word</phoneme>``, ``<sub alias="...">text</sub>``,
  ``<say-as interpret-as="...">`` and ``<prosody rate="...">``: a text that holds one of
  them is read as markup, so the rest of it must then be well-formed (``&amp;`` for
  ``&``); a text without them is plain, ``<`` and ``&`` included;
* a whole SSML document (``text_format: "ssml"``, ElevenLabs' ``enable_ssml_parsing``):
  ``<speak>``, ``<p>``, ``<s>``, the tags above; any other element is read as its text
  and named in the job's status note. A text that does not start with ``<speak`` (or
  an XML declaration) is read as the content of one.

Parsed with defusedxml (no DTD, no entities, nothing fetched), never with regular
expressions. Emotion tags (``(happy)``) are text and keep working beside the markup.

The result is a `Document`: chunks of text, each with the pause before it and its
speaking rate. Stretches that are said otherwise than written (a `<phoneme>`, a
`<sub>`, a dictionary rule, a `<say-as>`) are wrapped in private-use markers inside the
chunk's text, so that sentence splitting (speech.text.segments) sees one word there;
`decode` turns a segment's text back into the words as written plus its `Override`s.
Django-free.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from speech.pronunciation import Lexicon, RuleError, to_ipa
from speech.text import _CLOSERS, _TERMINALS, EMOTIONS
from speech.untrusted_xml import UntrustedXMLError, parse_untrusted

TEXT = "text"
SSML = "ssml"
FORMATS: tuple[str, ...] = (TEXT, SSML)

MAX_BREAK_SECONDS = 10.0  # one <break>; longer ones are capped and the note says so
MAX_DEPTH = 32  # elements inside elements; deeper documents are refused
# Tags that make a plain text markup (checked as substrings, before any parsing).
INLINE_TAGS: tuple[str, ...] = ("break", "phoneme", "sub", "say-as", "prosody", "speak")
_STRENGTHS = {"none": 0.0, "x-weak": 0.1, "weak": 0.25, "medium": 0.5, "strong": 0.75, "x-strong": 1.0}
_RATES = {"x-slow": 0.6, "slow": 0.8, "medium": 1.0, "default": 1.0, "fast": 1.25, "x-fast": 1.5}
_MIN_RATE, _MAX_RATE = 0.25, 4.0

# Private-use markers: OPEN, the override's number as one character, the text as
# written (whitespace as SPACE), CLOSE.
OPEN, CLOSE, SPACE = "\ue000", "\ue001", "\ue002"
_INDEX_BASE = 0xF0000  # supplementary private use area A: 65 534 overrides per text
_MAX_OVERRIDES = 65_000


class MarkupError(ValueError):
    """Markup that cannot be read; `line` and `column` (1-based) point at it. The
    engines raise it as InvalidText (a 400) with the line and column in its details."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(message + where)
        self.message = message + where
        self.line, self.column = line, column


@dataclass(frozen=True)
class Override:
    """Characters [start, end) of a segment's text, said otherwise: `alias` (text) or
    `ipa` (phonemes; an engine that takes no phonemes says the text as written)."""

    start: int
    end: int
    alias: str | None = None
    ipa: str | None = None


@dataclass
class Chunk:
    """Text to split into segments (with markers), the silence before it (None: the
    usual gap between sentences) and its speaking rate."""

    text: str
    pause_before: float = 0.0
    natural_break: bool = True  # the chunk before ended a sentence or paragraph
    rate: float = 1.0


@dataclass
class Document:
    chunks: list[Chunk] = field(default_factory=list)
    trailing_pause: float = 0.0
    overrides: list[Override] = field(default_factory=list)  # by number, text offsets unused
    notes: list[str] = field(default_factory=list)

    def display_text(self) -> str:
        """The words as written, markup removed (what is counted, billed and shown)."""
        return " ".join(decode(chunk.text, self.overrides)[0] for chunk in self.chunks if chunk.text.strip())


def has_markup(text: str) -> bool:
    """Does a plain text hold one of the inline tags (see the module docstring)?"""
    return any(f"<{tag}" in text for tag in INLINE_TAGS)


def read(text: str, *, text_format: str = TEXT, lexicon: Lexicon | None = None, phonemes: bool = True) -> Document:
    """The document a request's text describes. `phonemes`: the engine speaks
    phonemes (else a phoneme-only rule is left out and noted). MarkupError (a 400)
    when the markup cannot be read."""
    if text_format not in FORMATS:
        raise MarkupError(f"Unknown text_format {text_format!r}; use one of {', '.join(FORMATS)}.")
    builder = _Builder(lexicon or Lexicon(), phonemes)
    if text_format == TEXT and not has_markup(text):
        builder.text(text)
        return builder.finish()
    # An SSML document is a <speak> element; anything else is read as the content of one
    # (a fragment, or a plain text sent with the SSML flag on).
    document = text_format == SSML and text.lstrip().startswith(("<speak", "<?xml"))
    root = _parse(text, wrapped=not document)
    if _local(root.tag) != "speak":
        raise MarkupError(f"An SSML document's root element is <speak>, not <{_local(root.tag)}>.", line=1, column=1)
    builder.children(root, depth=0)
    return builder.finish()


_REFUSED = {
    "doctype": "Markup may not have a DOCTYPE.",
    "entities": "Markup may not declare entities.",
    "external": "Markup may not refer to external resources.",
}


def _parse(text: str, *, wrapped: bool) -> Element:
    source = f"<speak>{text}</speak>" if wrapped else text
    try:
        return parse_untrusted(source)
    except UntrustedXMLError as exc:
        if exc.kind in _REFUSED:
            raise MarkupError(_REFUSED[exc.kind]) from exc
        column = exc.column
        if wrapped and exc.line == 1:
            column = max(1, column - len("<speak>"))
        raise MarkupError(f"The markup is not well-formed: {exc.reason}", line=exc.line, column=column) from exc


def _local(tag: object) -> str:
    name = str(tag)
    return name.rsplit("}", 1)[-1] if name.startswith("{") else name


def parse_seconds(value: str) -> float:
    """SSML's time: "1.5s", "250ms". ValueError otherwise."""
    raw = value.strip().lower()
    if raw.endswith("ms"):
        seconds = float(raw[:-2]) / 1000.0
    elif raw.endswith("s"):
        seconds = float(raw[:-1])
    else:
        raise ValueError(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(value)
    return seconds


class _Builder:
    def __init__(self, lexicon: Lexicon, phonemes: bool) -> None:
        self.lexicon = lexicon
        self.phonemes = phonemes
        self.doc = Document()
        self.current = Chunk("")
        self.rate = 1.0
        self.pending_pause: float | None = None  # breaks since the last text
        self.unsupported: list[str] = []
        self.unapplied: list[str] = []

    # ------------------------------------------------------------ output

    def text(self, text: str) -> None:
        """Text as written: dictionary rules applied, markers for the words they change."""
        at = 0
        for match in self.lexicon.matches(text):
            if _inside_emotion_tag(text, match.start, match.end):
                continue
            self._plain(text[at : match.start])
            rule = match.rule
            ipa = rule.ipa if self.phonemes else None
            if ipa is None and rule.alias is None:
                self.unapplied.append(rule.grapheme)
                self._plain(text[match.start : match.end])
            else:
                self._marked(text[match.start : match.end], alias=None if ipa else rule.alias, ipa=ipa)
            at = match.end
        self._plain(text[at:])

    def _plain(self, text: str) -> None:
        if text:
            self._chunk_for_text()
            self.current.text += text.replace(OPEN, "").replace(CLOSE, "").replace(SPACE, "")

    def _marked(self, written: str, *, alias: str | None, ipa: str | None) -> None:
        if not written.strip():
            return
        if len(self.doc.overrides) >= _MAX_OVERRIDES:
            raise MarkupError(f"At most {_MAX_OVERRIDES} words may be said otherwise in one text.")
        self._chunk_for_text()
        index = len(self.doc.overrides)
        self.doc.overrides.append(Override(0, 0, alias=alias, ipa=ipa))
        body = "".join(SPACE if c.isspace() else c for c in written.strip())
        self.current.text += f"{OPEN}{chr(_INDEX_BASE + index)}{body}{CLOSE}"

    def _chunk_for_text(self) -> None:
        """Text after a pause or a change of rate goes into a chunk of its own."""
        if self.pending_pause is None and self.current.rate == self.rate:
            return
        carried = 0.0
        if self.current.text.strip():
            self.doc.chunks.append(self.current)
            self.current = Chunk("", natural_break=_ends_sentence(self.current.text))
        else:  # only spaces since the last chunk: its pause still stands
            carried = self.current.pause_before
            self.current.text = ""
        self.current.pause_before = carried + (self.pending_pause or 0.0)
        self.current.rate = self.rate
        self.pending_pause = None

    def pause(self, seconds: float, written: str) -> None:
        if seconds > MAX_BREAK_SECONDS:
            self.doc.notes.append(
                f"A break of {written} was capped to {MAX_BREAK_SECONDS:g} s (the longest one break may be)."
            )
            seconds = MAX_BREAK_SECONDS
        self.pending_pause = (self.pending_pause or 0.0) + seconds

    def sentence_end(self) -> None:
        if self.current.text.strip():
            self.current.text += "\n"

    def finish(self) -> Document:
        if self.current.text.strip():
            self.doc.chunks.append(self.current)
        self.doc.trailing_pause = self.pending_pause or 0.0
        if self.unsupported:
            names = ", ".join(f"<{n}>" for n in dict.fromkeys(self.unsupported))
            self.doc.notes.append(f"Not supported, read as text: {names}.")
        if self.unapplied:
            words = ", ".join(repr(w) for w in dict.fromkeys(self.unapplied))
            self.doc.notes.append(
                f"This engine does not take phonemes: the phoneme rules for {words} were not applied "
                "(give them an alias to be said otherwise)."
            )
        return self.doc

    # ------------------------------------------------------------ elements

    def children(self, element: Element, depth: int) -> None:
        if element.text:
            self.text(element.text)
        for child in element:
            self.element(child, depth + 1)
            if child.tail:
                self.text(child.tail)

    def element(self, element: Element, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise MarkupError(f"Markup is nested more than {MAX_DEPTH} elements deep.")
        name = _local(element.tag)
        handler = getattr(self, "_" + name.replace("-", "_"), None) if name in _ELEMENTS else None
        if handler is None:
            self.unsupported.append(name)
            self.children(element, depth)
        else:
            handler(element, depth)

    def _speak(self, element: Element, depth: int) -> None:
        self.children(element, depth)

    def _p(self, element: Element, depth: int) -> None:
        self.sentence_end()
        self.children(element, depth)
        self.sentence_end()

    _s = _p

    def _break(self, element: Element, depth: int) -> None:
        time = element.get("time")
        if time is not None:
            try:
                seconds = parse_seconds(time)
            except ValueError:
                raise MarkupError(
                    f'<break time="{time}"> is not a time: write seconds ("1.5s") or milliseconds ("500ms").'
                ) from None
        else:
            strength = element.get("strength", "medium")
            if strength not in _STRENGTHS:
                raise MarkupError(f'<break strength="{strength}"> is not one of {", ".join(_STRENGTHS)}.')
            seconds = _STRENGTHS[strength]
        self.pause(seconds, time or f"{seconds:g}s")
        self.children(element, depth)

    def _phoneme(self, element: Element, depth: int) -> None:
        written = _all_text(element)
        ph = element.get("ph")
        if ph is None:
            raise MarkupError("<phoneme> needs ph, the phonemes to say.")
        try:
            ipa = to_ipa(ph, element.get("alphabet", "ipa"))
        except RuleError as exc:
            raise MarkupError(f"<phoneme>: {exc.message}") from None
        if not written.strip():
            raise MarkupError("<phoneme> needs the word it is said for inside it.")
        if self.phonemes:
            self._marked(written, alias=None, ipa=ipa)
        else:
            self.unapplied.append(written.strip())
            self._plain(written)

    def _sub(self, element: Element, depth: int) -> None:
        alias = element.get("alias")
        written = _all_text(element)
        if alias is None or not alias.strip():
            raise MarkupError("<sub> needs alias, the text to say.")
        if written.strip():
            self._marked(written, alias=alias, ipa=None)
        else:
            self._plain(alias)

    def _say_as(self, element: Element, depth: int) -> None:
        kind = element.get("interpret-as", "")
        written = _all_text(element)
        said = say_as(written, kind, element.get("format"))
        if said is None:
            self.unsupported.append(f'say-as interpret-as="{kind}"')
            self.text(written)
        elif said != written.strip():
            self._marked(written, alias=said, ipa=None)
        else:
            self.text(written)

    def _prosody(self, element: Element, depth: int) -> None:
        rate = element.get("rate")
        outer = self.rate
        if rate is not None:
            self.rate = outer * _rate(rate)
        for other in ("pitch", "volume"):
            if element.get(other) is not None:
                self.unsupported.append(f"prosody {other}")
        self.children(element, depth)
        self.rate = outer


_ELEMENTS = frozenset({"speak", "p", "s", "break", "phoneme", "sub", "say-as", "prosody"})


def _rate(value: str) -> float:
    raw = value.strip().lower()
    if raw in _RATES:
        return _RATES[raw]
    try:
        rate = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise MarkupError(f'<prosody rate="{value}"> is not a rate: x-slow to x-fast, or a percentage.') from None
    if not math.isfinite(rate) or rate <= 0:
        raise MarkupError(f'<prosody rate="{value}"> must be above 0.')
    return min(_MAX_RATE, max(_MIN_RATE, rate))


def _all_text(element: Element) -> str:
    return "".join(element.itertext())


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip(" \t")
    if stripped.endswith("\n"):
        return True
    last = stripped.rstrip().rstrip(_CLOSERS)
    return bool(last) and last[-1] in _TERMINALS


def _inside_emotion_tag(text: str, start: int, end: int) -> bool:
    """Is text[start:end] the word of an emotion tag such as "(happy)"? A rule never
    changes a tag."""
    before = text[:start].rstrip(" ")
    after = text[end:].lstrip(" ")
    return before.endswith("(") and after.startswith(")") and text[start:end].strip().lower() in EMOTIONS


def say_as(written: str, kind: str, fmt: str | None = None) -> str | None:
    """What <say-as interpret-as=kind> says for `written`; None for a kind not read here."""
    text = written.strip()
    if kind in ("characters", "spell-out", "verbatim"):
        return " ".join(c for c in text if not c.isspace())
    if kind in ("cardinal", "number"):
        digits = text.replace(",", "").replace("\u00a0", "").replace(" ", "")
        return digits if _is_number(digits) else text
    if kind == "ordinal":
        digits = text.replace(",", "")
        if digits.isdigit():
            n = int(digits)
            suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
            return f"{n}{suffix}"
        return text
    if kind == "telephone":
        groups = ["".join(c for c in part if c.isdigit()) for part in text.replace("+", " plus ").split("-")]
        spoken = [" ".join(group) for group in groups if group]
        return ", ".join(spoken) if spoken else text
    if kind == "date":
        return _date(text, fmt or "ymd")
    return None


_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _date(text: str, fmt: str) -> str:
    parts = [p for p in text.replace("/", "-").replace(".", "-").split("-") if p]
    if len(parts) != len(fmt) or not all(p.isdigit() for p in parts):
        return text
    values = dict(zip(fmt, (int(p) for p in parts), strict=True))
    month, day, year = values.get("m"), values.get("d"), values.get("y")
    if month is None or not 1 <= month <= 12:
        return text
    said = _MONTHS[month - 1]
    if day is not None:
        said += f" {day}"
    if year is not None:
        said += f", {year}" if day is not None else f" {year}"
    return said


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def decode(text: str, overrides: list[Override]) -> tuple[str, tuple[Override, ...]]:
    """A segment's text with markers -> (the words as written, its overrides with
    their character spans in that text)."""
    if OPEN not in text:
        return text, ()
    out: list[str] = []
    spans: list[Override] = []
    length = 0
    for piece, index in _pieces(text):
        if index is None:
            out.append(piece)
            length += len(piece)
            continue
        written = piece.replace(SPACE, " ")
        base = overrides[index]
        spans.append(Override(length, length + len(written), alias=base.alias, ipa=base.ipa))
        out.append(written)
        length += len(written)
    return "".join(out), tuple(spans)


def _pieces(text: str) -> Iterator[tuple[str, int | None]]:
    at = 0
    while True:
        start = text.find(OPEN, at)
        if start < 0 or start + 1 >= len(text):
            yield text[at:].replace(OPEN, ""), None
            return
        end = text.find(CLOSE, start)
        if end < 0:
            yield text[at:].replace(OPEN, ""), None
            return
        yield text[at:start], None
        yield text[start + 2 : end], ord(text[start + 1]) - _INDEX_BASE
        at = end + 1


def spoken(text: str, overrides: tuple[Override, ...], *, phonemes: bool) -> str:
    """What an engine is given for a segment: aliases in place of the words they
    replace, and for an engine that takes phonemes, Piper's raw-phoneme blocks
    ("[[ ... ]]")."""
    if not overrides:
        return text
    out: list[str] = []
    at = 0
    for override in overrides:
        out.append(text[at : override.start])
        if override.ipa is not None and phonemes:
            out.append(f"[[ {override.ipa} ]]")
        elif override.alias is not None:
            out.append(override.alias)
        else:
            out.append(text[override.start : override.end])
        at = override.end
    out.append(text[at:])
    return "".join(out)
