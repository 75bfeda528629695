"""productions.parsing: chapters from Markdown headings, voices from markers, segments of
whole sentences."""

from __future__ import annotations

import pytest

from productions.parsing import TooMany, parse
from speech import text as textmod
from tests.productions.conftest import BOOK


def test_headings_become_chapters_and_the_text_before_them_is_a_chapter_titled_like_the_production():
    chapters = parse(BOOK, title="A book", sentence_limit=2000)
    assert [c.title for c in chapters] == ["A book", "The first chapter", "The second chapter"]


def test_a_voice_marker_on_a_heading_is_that_chapters_voice_and_one_in_the_text_switches_for_what_follows():
    text = "# One [voice: Anna]\nAnna speaks. [voice: Bob] Bob answers. Still Bob.\n# Two\nThe default again."
    chapters = parse(text, title="t", sentence_limit=2000, segment_characters=15)
    voices = [(c.title, [s.voice for s in c.segments]) for c in chapters]
    assert voices == [("One", ["Anna", "Bob", "Bob"]), ("Two", [None])]


def test_segments_are_whole_sentences_and_together_are_the_whole_text():
    sentences = [f"This is sentence number {n}, which is of a middling length." for n in range(1, 40)]
    chapters = parse(" ".join(sentences), title="t", sentence_limit=2000, segment_characters=200)
    segments = [s.text for s in chapters[0].segments]
    assert len(segments) > 5
    assert all(len(s) <= 200 for s in segments)
    assert all(s.endswith(".") for s in segments)
    assert " ".join(segments) == " ".join(sentences)


def test_emotion_tags_are_carried_into_each_segment_that_needs_them():
    text = "(happy) One is glad. Two is glad. (sad) Three is sad. Four is sad."
    segments = [s.text for s in parse(text, title="t", sentence_limit=2000, segment_characters=25)[0].segments]
    assert segments == ["(happy) One is glad.", "(happy) Two is glad.", "(sad) Three is sad.", "(sad) Four is sad."]


def test_markdown_emphasis_links_and_bullets_are_not_spoken():
    text = "Some **bold** and _plain_ words with a [link](http://example.com).\n- A bullet point."
    spoken = " ".join(s.text for s in parse(text, title="t", sentence_limit=2000)[0].segments)
    assert "**" not in spoken and "http" not in spoken and "- A" not in spoken
    assert "link" in spoken and "A bullet point." in spoken


def test_characters_are_counted_as_they_are_billed():
    chapters = parse(BOOK, title="t", sentence_limit=2000)
    for chapter in chapters:
        for segment in chapter.segments:
            assert segment.characters == textmod.count_characters(segment.text)


def test_a_text_with_only_headings_has_no_chapters():
    assert parse("# Title\n\n## Another\n", title="t", sentence_limit=2000) == []


def test_parsing_stops_as_soon_as_a_text_makes_more_segments_or_chapters_than_allowed():
    with pytest.raises(TooMany) as segments:
        parse("[voice: joe]a " * 50, title="T", sentence_limit=2000, max_segments=10)
    assert (segments.value.what, segments.value.limit) == ("segments", 10)
    with pytest.raises(TooMany) as chapters:
        parse("".join(f"# {n}\nWords.\n" for n in range(5)), title="T", sentence_limit=2000, max_chapters=3)
    assert (chapters.value.what, chapters.value.limit) == ("chapters", 3)
    exact = parse("[voice: joe]a " * 10, title="T", sentence_limit=2000, max_segments=10, max_chapters=1)
    assert sum(len(c.segments) for c in exact) == 10
