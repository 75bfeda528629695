"""When a websocket context's text is generated (elevenlabs_api.ws_protocol.TextBuffer) and
how each chunk's characters are timed (ChunkAligner): pure functions, no server."""

from __future__ import annotations

from elevenlabs_api.ws_protocol import ChunkAligner, TextBuffer
from speech.timings import WordTiming


def test_a_sentence_end_starts_a_generation_even_below_the_schedule():
    buffer = TextBuffer()
    assert buffer.add("Hello ") == [] and buffer.add("there") == []
    assert buffer.add(". How") == ["Hello there."]
    assert buffer.text == " How"


def test_a_decimal_point_is_no_sentence_end():
    buffer = TextBuffer()
    assert buffer.add("Pi is 3.") == [] and buffer.add("14 or so") == []
    assert buffer.flush() == "Pi is 3.14 or so"
    assert buffer.add("I counted to 3. Then") == ["I counted to 3."]  # a space after it: an end


def test_closing_quotes_and_brackets_stay_with_their_sentence():
    buffer = TextBuffer()
    assert buffer.add('She said "yes." Then (quietly!) left') == ['She said "yes."', " Then (quietly!)"]


def test_the_schedule_cuts_at_the_last_clause_boundary_within_its_length():
    buffer = TextBuffer(schedule=(50, 60))
    text = "When the reply runs long, without a full stop, the buffer still lets audio start"
    pieces = buffer.add(text)
    assert pieces == ["When the reply runs long, without a full stop,"]  # the last comma within 50
    assert buffer.add(" and then it carries on for quite some time with no comma at all") == [
        " the buffer still lets audio start and then it carries on "  # the next 60, at a space
    ]


def _pieces(tokens: list[str], **options: object) -> list[str]:
    buffer = TextBuffer(**options)  # type: ignore[arg-type]
    pieces = [piece for token in tokens for piece in buffer.add(token)]
    rest = buffer.flush()
    return pieces + ([rest] if rest else [])


MARKED = 'Hello there. Ask <sub alias="Dr. Smith">Doc</sub> now. Then <break time="1.5s"/> wait. End'


def test_a_piece_never_cuts_markup_however_the_text_arrives():
    expected = [
        "Hello there.",
        ' Ask <sub alias="Dr. Smith">Doc</sub> now.',
        ' Then <break time="1.5s"/> wait.',
        " End",
    ]
    assert _pieces([MARKED]) == expected  # the "Dr. " inside the alias is no sentence end
    for size in (1, 3, 4, 7):  # tokens cut tags anywhere: a piece waits for the whole tag
        assert _pieces([MARKED[i : i + size] for i in range(0, len(MARKED), size)]) == expected, size


def test_the_schedule_takes_a_whole_tag_rather_than_cut_it():
    text = "word " * 10 + '<break time="2s"/>' + " tail" * 10
    pieces = _pieces([text[i : i + 4] for i in range(0, len(text), 4)], schedule=(60, 60))
    assert "".join(pieces) == text
    assert [piece for piece in pieces if "<" in piece and '<break time="2s"/>' not in piece] == []


def test_a_less_than_sign_that_starts_no_tag_is_text():
    assert _pieces(["x < y. Fine. <brea", 'k time="1s"/> more.']) == ["x < y.", " Fine.", ' <break time="1s"/> more.']


def test_flush_hands_out_the_rest_and_nothing_when_only_spaces_remain():
    buffer = TextBuffer()
    buffer.add(" ")
    assert buffer.flush() is None
    buffer.add("No end yet")
    assert buffer.flush() == "No end yet" and buffer.flush() is None


def test_auto_mode_generates_per_sentence_with_no_schedule():
    buffer = TextBuffer(schedule=(50,), auto_mode=True)
    assert buffer.add("x" * 80 + " and more") == []
    assert buffer.add("! Next.") == ["x" * 80 + " and more!", " Next."]


def test_each_alignment_chunk_starts_its_clock_where_the_previous_one_ended():
    aligner = ChunkAligner("Hi there. Bye now.")
    first = aligner.take([WordTiming("Hi", 0.0, 0.2), WordTiming("there.", 0.25, 0.6)])
    second = aligner.take([WordTiming("Bye", 1.0, 1.2), WordTiming("now.", 1.3, 1.5)])
    assert "".join(first["chars"]) == "Hi there." and "".join(second["chars"]) == " Bye now."
    assert first["charStartTimesMs"][0] == 0
    # The second chunk's times count from 0.6 s, where "there." ended.
    assert second["charStartTimesMs"][1] == 400  # "B" at 1.0 s
    last = second["charStartTimesMs"][-1] + second["charDurationsMs"][-1]
    assert last == 900  # 1.5 s - 0.6 s
    assert aligner.rest() is None
