"""Emotion tags, counts and sentence splitting (speech/text.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from speech.text import (
    EMOTIONS,
    Segment,
    count_characters,
    count_words,
    segments,
    spoken_text,
    strip_tags,
)


def _no_space(s: str) -> str:
    return "".join(s.split())


# ------------------------------------------------------------------------- tags


def test_it_supports_the_documented_emotions() -> None:
    assert {"neutral", "happy", "sad", "angry", "surprised", "whisper", "calm"} <= set(EMOTIONS)


def test_a_leading_tag_is_not_spoken_or_counted() -> None:
    assert strip_tags("(happy) Hello world") == "Hello world"
    assert count_words("(happy) Hello world") == 2
    assert count_characters("(happy) Hello world") == len("Hello world")


def test_a_tag_after_a_sentence_end_switches_the_emotion() -> None:
    assert segments("Hello there. (sad) I have to go.", 100) == [
        Segment("Hello there.", "neutral"),
        Segment("I have to go.", "sad"),
    ]


def test_text_before_the_first_tag_uses_the_requested_default_emotion() -> None:
    assert segments("Hi. (angry) Stop!", 100, default_emotion="calm") == [
        Segment("Hi.", "calm"),
        Segment("Stop!", "angry"),
    ]


def test_tags_are_case_insensitive_and_may_have_spaces_inside() -> None:
    assert segments("( Whisper ) quiet now", 100) == [Segment("quiet now", "whisper")]


def test_an_unknown_parenthesised_word_is_spoken_as_text() -> None:
    assert strip_tags("(laughs) That was funny.") == "(laughs) That was funny."
    assert count_words("(laughs) That was funny.") == 4


def test_a_known_emotion_in_the_middle_of_a_sentence_is_spoken_as_text() -> None:
    assert strip_tags("I am (happy) today") == "I am (happy) today"
    assert segments("I am (happy) today", 100) == [Segment("I am (happy) today", "neutral")]


def test_a_tag_between_sentences_without_spaces_keeps_the_words_apart() -> None:
    assert strip_tags("Wait.(surprised)What?") == "Wait. What?"
    assert count_words("Wait.(surprised)What?") == 2


def test_consecutive_tags_leave_the_last_one_in_force() -> None:
    assert segments("(happy)(sad) Goodbye.", 100) == [Segment("Goodbye.", "sad")]


def test_text_that_is_only_tags_has_nothing_to_speak() -> None:
    assert strip_tags("(happy) (sad)") == ""
    assert count_words("(happy) (sad)") == 0
    assert segments("(happy) (sad)", 100) == []


def test_words_in_scripts_without_spaces_count_per_character() -> None:
    assert count_words("(happy) 你好世界") == 4
    assert count_words("Hello, 世界!") == 3


def test_punctuation_alone_is_not_a_word() -> None:
    assert count_words("Well — fine ...") == 2


def test_character_count_collapses_whitespace_runs() -> None:
    assert count_characters("  Hello \n\n  world  ") == len("Hello world")


# ------------------------------------------------------------------- splitting


def test_it_splits_at_sentence_ends() -> None:
    assert [s.text for s in segments("One. Two! Three? Four…", 100)] == ["One.", "Two!", "Three?", "Four…"]


def test_it_keeps_decimals_thousands_and_abbreviations_inside_a_sentence() -> None:
    text = "Dr. Smith paid 3.14 dollars for 1,000 apples, e.g. red ones. Mr. Jones did not."
    assert [s.text for s in segments(text, 200)] == [
        "Dr. Smith paid 3.14 dollars for 1,000 apples, e.g. red ones.",
        "Mr. Jones did not.",
    ]


def test_it_keeps_initials_with_the_name() -> None:
    assert [s.text for s in segments("J. R. R. Tolkien wrote it. Then he rested.", 200)] == [
        "J. R. R. Tolkien wrote it.",
        "Then he rested.",
    ]


def test_a_lowercase_word_after_a_quote_continues_the_sentence() -> None:
    assert [s.text for s in segments('"Stop!" he said. "Go." She went.', 200)] == [
        '"Stop!" he said.',
        '"Go."',
        "She went.",
    ]


def test_it_splits_at_cjk_sentence_punctuation_without_spaces() -> None:
    assert [s.text for s in segments("你好。今天天气很好！你呢？", 100)] == ["你好。", "今天天气很好！", "你呢？"]


def test_line_breaks_end_sentences() -> None:
    assert [s.text for s in segments("Roses are red\nViolets are blue", 100)] == ["Roses are red", "Violets are blue"]


def test_a_long_sentence_is_cut_at_commas_before_spaces() -> None:
    text = "First part of the sentence, second part of the sentence, third part"
    assert [s.text for s in segments(text, 30)] == [
        "First part of the sentence,",
        "second part of the sentence,",
        "third part",
    ]


def test_a_clause_longer_than_the_limit_is_cut_between_words() -> None:
    out = segments("one two three four five six seven eight nine ten", 15)
    assert all(len(s.text) <= 15 for s in out)
    assert " ".join(s.text for s in out) == "one two three four five six seven eight nine ten"


def test_only_a_single_overlong_word_is_cut_inside() -> None:
    word = "x" * 25
    out = segments(f"{word} end", 10)
    assert [s.text for s in out] == ["x" * 10, "x" * 10, "xxxxx end"]


def test_it_never_cuts_long_text_at_250_characters() -> None:
    text = " ".join(f"Sentence number {i} has a few words in it." for i in range(40))
    out = segments(text, 250)
    assert len(out) == 40
    assert " ".join(s.text for s in out) == text


def test_bare_punctuation_is_attached_to_a_neighbour() -> None:
    assert [s.text for s in segments("Hello. ... World.", 100)] == ["Hello. ...", "World."]


def test_a_limit_below_one_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        segments("hi", 0)


# -------------------------------------------------------------------- property

_PIECES = st.sampled_from(
    [
        "Hello", "world", "Dr.", "Mr.", "e.g.", "3.14", "1,000", "J.", "ok.", "Yes!", "why?", "...", "—",
        ",", ";", "(happy)", "(sad)", "(WHISPER)", "(laughs)", "(", ")", "你好。", "世界！", "吗？", "\n",
        "supercalifragilisticexpialidocious", "a", "—and", "“quoted.”", "¿Qué?",
    ]
)  # fmt: skip
_TEXT = st.lists(
    # codec="utf-8": any character text can hold (no lone surrogates).
    st.one_of(_PIECES, st.text(alphabet=st.characters(codec="utf-8"), max_size=12)),
    max_size=40,
).flatmap(
    lambda parts: st.lists(st.sampled_from([" ", "", "  ", "\n", "\t"]), min_size=len(parts), max_size=len(parts)).map(
        lambda seps: "".join(p + s for p, s in zip(parts, seps, strict=False))
    )
)


@settings(max_examples=400, deadline=None)
@given(text=_TEXT, max_chars=st.integers(min_value=1, max_value=80))
def test_splitting_never_loses_or_adds_text(text: str, max_chars: int) -> None:
    out = segments(text, max_chars)
    assert _no_space("".join(s.text for s in out)) == _no_space(strip_tags(text))
    assert all(s.text and s.text == s.text.strip() for s in out)
    assert all(s.emotion in EMOTIONS for s in out)


@settings(max_examples=400, deadline=None)
@given(text=_TEXT, max_chars=st.integers(min_value=1, max_value=80))
def test_no_segment_is_longer_than_the_limit(text: str, max_chars: int) -> None:
    for s in segments(text, max_chars):
        assert len(s.text) <= max_chars


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.from_regex(r"[A-Za-z0-9]{1,12}[.,!?]?", fullmatch=True), min_size=1, max_size=60),
    max_chars=st.integers(min_value=13, max_value=120),  # longest word: 13
)
def test_segments_keep_every_word_in_order(words: list[str], max_chars: int) -> None:
    text = " ".join(words)
    out = segments(text, max_chars)
    assert " ".join(s.text for s in out).split() == spoken_text(text).split()
