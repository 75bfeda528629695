"""speech.timings: words to time, phoneme spans grouped into words, estimates snapped
to pauses, and the per-character alignment."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from speech.timings import (
    ESTIMATED,
    EXACT,
    PhonemeSpan,
    Timings,
    WordTiming,
    align_words,
    char_alignment,
    combined_method,
    estimate_words,
    join_words,
    phoneme_words,
    speech_runs,
    spoken_words,
)

RATE = 16000


def noise(seconds: float, level: float = 0.1, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * level).astype(np.float32)


def quiet(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def assert_monotonic(words: list[WordTiming]) -> None:
    last = 0.0
    for word in words:
        assert last <= word.start <= word.end, words
        last = word.end


def test_spoken_words_skip_tags_and_attach_bare_punctuation() -> None:
    assert spoken_words("(happy) Hello, world — this is 1984... ok !") == [
        "Hello,",
        "world —",
        "this",
        "is",
        "1984...",
        "ok !",
    ]


def test_spoken_words_count_each_cjk_character_as_a_word() -> None:
    assert spoken_words("你好。") == ["你", "好。"]
    assert join_words(["你", "好。", "ok"]) == "你好。 ok"


def test_timings_round_trip_through_their_stored_form() -> None:
    timings = Timings(method=EXACT, words=[WordTiming("Hi", 0.1234, 0.5)])
    stored = timings.to_dict()
    assert stored == {"method": "exact", "words": [{"text": "Hi", "start": 0.123, "end": 0.5}]}
    assert Timings.from_dict(stored).words == [WordTiming("Hi", 0.123, 0.5)]


def test_timings_become_estimated_once_any_part_is() -> None:
    timings = Timings(method=EXACT)
    timings.extend([WordTiming("a", 0.0, 0.1)], EXACT, offset=1.0)
    assert timings.method == EXACT and timings.words == [WordTiming("a", 1.0, 1.1)]
    timings.extend([WordTiming("b", 0.0, 0.1)], ESTIMATED, offset=2.0)
    assert timings.method == ESTIMATED and timings.end == pytest.approx(2.1)
    assert combined_method(EXACT, EXACT) == EXACT and combined_method(ESTIMATED, EXACT) == ESTIMATED


def spans(phonemes: str, step: float = 0.1) -> list[PhonemeSpan]:
    return [PhonemeSpan(p, i * step, (i + 1) * step) for i, p in enumerate(phonemes)]


def test_phoneme_words_are_runs_between_spaces_and_pauses() -> None:
    groups = phoneme_words(spans("^hˈɛloʊ, wɜːld.$"))
    assert groups == [(1, 6), (9, 13)]


def test_align_words_follows_the_engines_word_boundaries_when_they_match() -> None:
    phonemes = spans("^hɛloʊ wɜːld$")
    words = align_words(["Hello", "world"], phonemes, [5, 4])
    assert [(w.text, w.start, w.end) for w in words] == [
        ("Hello", pytest.approx(0.1), pytest.approx(0.6)),
        ("world", pytest.approx(0.7), pytest.approx(1.2)),
    ]


def test_align_words_splits_a_phoneme_word_that_holds_two_text_words() -> None:
    # espeak says "of the" as one word: the boundary falls inside it, by weight.
    phonemes = spans("ʌvðə sɪstəm")
    words = align_words(["of", "the", "system"], phonemes, [2, 2, 6])
    assert [w.text for w in words] == ["of", "the", "system"]
    assert words[0].start == 0.0 and words[1].start == pytest.approx(0.2) and words[2].start == pytest.approx(0.5)
    assert_monotonic(words)


def test_align_words_gives_every_word_a_place_even_with_too_few_sounds() -> None:
    words = align_words(["a", "b", "c"], spans("ab"), [1, 1, 1])
    assert len(words) == 3
    assert_monotonic(words)


def test_speech_runs_find_the_pauses_in_audio() -> None:
    audio = np.concatenate([quiet(0.1), noise(0.5), quiet(0.3), noise(0.5), quiet(0.05)])
    runs = speech_runs(audio, RATE)
    assert len(runs) == 2
    assert runs[0] == pytest.approx((0.1, 0.6), abs=0.02)
    assert runs[1] == pytest.approx((0.9, 1.4), abs=0.02)
    assert speech_runs(quiet(1.0), RATE) == []


def test_estimates_put_a_boundary_on_a_pause_after_punctuation() -> None:
    audio = np.concatenate([quiet(0.1), noise(0.5), quiet(0.3), noise(0.5), quiet(0.05)])
    words = estimate_words(["One", "two,", "three", "four."], audio, RATE)
    assert [w.text for w in words] == ["One", "two,", "three", "four."]
    assert words[0].start == pytest.approx(0.1, abs=0.02)
    assert words[1].end == pytest.approx(0.6, abs=0.02)
    assert words[2].start == pytest.approx(0.9, abs=0.02)
    assert words[3].end == pytest.approx(1.4, abs=0.02)
    assert_monotonic(words)


def test_estimates_of_silence_spread_the_words_over_it() -> None:
    words = estimate_words(["a", "b"], quiet(1.0), RATE)
    assert words[0].start == 0.0 and words[-1].end == pytest.approx(1.0)


def test_char_alignment_spreads_each_word_over_its_characters() -> None:
    text = "(happy) Hi, you!"
    characters, starts, ends = char_alignment(text, [WordTiming("Hi,", 0.5, 0.8), WordTiming("you!", 1.0, 1.4)])
    assert characters == list(text)
    assert len(starts) == len(ends) == len(text)
    h = text.index("H")
    assert (starts[h], ends[h + 2]) == (0.5, 0.8)
    y = text.index("you")
    assert (starts[y], ends[-1]) == (1.0, 1.4)
    assert starts[y - 1] == 0.8 and ends[y - 1] == 1.0  # the space takes the gap
    assert all(a <= b for a, b in zip(starts, starts[1:], strict=False))
    assert all(s <= e for s, e in zip(starts, ends, strict=False))


def test_char_alignment_finds_words_carrying_punctuation_written_apart() -> None:
    text = "Well  — yes"
    _, starts, ends = char_alignment(text, [WordTiming("Well —", 0.0, 0.6), WordTiming("yes", 0.7, 1.0)])
    assert ends[text.index("—")] == pytest.approx(0.6)
    assert starts[text.index("y")] == 0.7


# ------------------------------------------------------- any input, sound output

WORDS = st.lists(
    st.text(alphabet="abcdé1,.!? —你", min_size=1, max_size=8).filter(lambda w: w.strip() == w and w),
    min_size=1,
    max_size=25,
)
PHONEMES = st.lists(st.sampled_from(list("abɛəˈː ,.^$") + [" "]), min_size=0, max_size=60)


@settings(max_examples=150, deadline=None)
@given(words=WORDS, phonemes=PHONEMES, data=st.data())
def test_align_words_always_times_every_word_in_order(words, phonemes, data) -> None:
    weights = data.draw(st.lists(st.integers(0, 12), min_size=len(words), max_size=len(words)))
    timed = align_words(words, spans("".join(phonemes), 0.05) if phonemes else [], weights)
    assert [w.text for w in timed] == words
    assert_monotonic(timed)


@settings(max_examples=60, deadline=None)
@given(words=WORDS, pieces=st.lists(st.tuples(st.booleans(), st.floats(0.0, 0.6)), max_size=8))
def test_estimates_always_time_every_word_in_order_inside_the_audio(words, pieces) -> None:
    audio = np.concatenate(
        [noise(s, seed=i) if loud else quiet(s) for i, (loud, s) in enumerate(pieces)] or [quiet(0.0)]
    )
    timed = estimate_words(words, audio, RATE)
    assert [w.text for w in timed] == words
    assert_monotonic(timed)
    assert timed[-1].end <= len(audio) / RATE + 1e-6
