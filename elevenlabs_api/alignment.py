"""A generation's character alignment handed out piece by piece as its words are timed:
the REST stream with timestamps (`services`) and the websockets (`ws_protocol`) each
render the pieces in their own shape."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from speech.timings import WordTiming, char_alignment


class AlignmentCursor(ABC):
    """Each piece gets the characters up to the end of the last word timed so far (the gap
    before it included), computed on the words known so far (speech.timings.char_alignment
    over the whole text, so the joined pieces equal the whole alignment); `rest` gives what
    remains at the end."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.words: list[WordTiming] = []
        self.cursor = 0  # characters handed out so far
        self.search = 0  # where the next word is looked for

    def _advance(self, words: list[WordTiming]) -> dict[str, Any] | None:
        self.words.extend(words)
        for word in words:
            stop = word_stop(self.text, word.text, self.search)
            if stop is not None:
                self.search = stop
        return self._slice(self.search)

    def rest(self) -> dict[str, Any] | None:
        return self._slice(len(self.text))

    def _slice(self, stop: int) -> dict[str, Any] | None:
        if stop <= self.cursor:
            return None
        characters, starts, ends = char_alignment(self.text, self.words)
        part = slice(self.cursor, stop)
        self.cursor = stop
        return self._render(characters[part], starts[part], ends[part])

    @abstractmethod
    def _render(self, characters: list[str], starts: list[float], ends: list[float]) -> dict[str, Any]:
        """One piece in the protocol's shape."""


def word_stop(text: str, word: str, cursor: int) -> int | None:
    """Where `word` (its whitespace-separated tokens in order) ends in `text`, looking
    from `cursor`; None when it is not there (as speech.timings.char_alignment finds
    words)."""
    tokens = word.split()
    if not tokens:
        return None
    at = text.find(tokens[0], cursor)
    if at < 0:
        return None
    stop = at + len(tokens[0])
    for token in tokens[1:]:
        at = text.find(token, stop)
        if at < 0 or text[stop:at].strip():
            return None
        stop = at + len(token)
    return stop
