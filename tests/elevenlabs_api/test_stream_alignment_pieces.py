"""The streamed with-timestamps variant cuts the text's character alignment into one
piece per segment: each piece holds the characters up to its last word, and the
pieces joined are exactly the whole text's alignment."""

from __future__ import annotations

from elevenlabs_api.services import _PieceAligner
from speech.timings import WordTiming, char_alignment

TEXT = "Hello there.  How are you?"
FIRST = [WordTiming("Hello", 0.0, 0.4), WordTiming("there.", 0.45, 0.9)]
SECOND = [WordTiming("How", 1.2, 1.4), WordTiming("are", 1.4, 1.6), WordTiming("you?", 1.6, 2.0)]


def test_each_piece_ends_with_its_last_word_and_the_gap_goes_with_the_next():
    aligner = _PieceAligner(TEXT)
    first = aligner.take(FIRST, method="exact")
    second = aligner.take(SECOND, method="exact")
    assert "".join(first["characters"]) == "Hello there."
    assert "".join(second["characters"]) == "  How are you?"
    assert second["character_start_times_seconds"][0] == 0.9  # the pause between the sentences
    assert aligner.rest() is None


def test_the_pieces_joined_are_the_whole_alignment():
    aligner = _PieceAligner(TEXT)
    pieces = [aligner.take(FIRST, method="exact"), aligner.take(SECOND, method="estimated")]
    characters, starts, ends = char_alignment(TEXT, FIRST + SECOND)
    assert [c for p in pieces for c in p["characters"]] == characters
    assert [t for p in pieces for t in p["character_start_times_seconds"]] == starts
    assert [t for p in pieces for t in p["character_end_times_seconds"]] == ends
    assert pieces[1]["timings_method"] == "estimated"  # exact only while every segment was


def test_characters_after_the_last_word_come_at_the_end():
    aligner = _PieceAligner(TEXT + " ")
    aligner.take(FIRST + SECOND, method="exact")
    rest = aligner.rest()
    assert rest["characters"] == [" "] and rest["character_start_times_seconds"] == [2.0]


def test_a_word_not_in_the_text_is_skipped_not_invented():
    aligner = _PieceAligner("Hi there")
    piece = aligner.take([WordTiming("Bye", 0.0, 0.2), WordTiming("Hi", 0.0, 0.3)], method="exact")
    assert "".join(piece["characters"]) == "Hi"
