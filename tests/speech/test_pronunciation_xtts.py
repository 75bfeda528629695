"""XTTS honours alias rules and says a phoneme rule's word as written, naming it in the
plan's notes (the job's status note): never silently (docs/pronunciation.md)."""

from __future__ import annotations

from speech.engines import VoiceRef
from speech.pronunciation import Lexicon, Rule

LEXICON = Lexicon(
    [
        Rule("TTS", alias="text to speech"),
        Rule("Speaker", phoneme="S P IY1 K ER0", alphabet="cmu-arpabet"),
        Rule("SQL", alias="sequel", phoneme="ˈsiːkwəl"),
    ]
)


def test_xtts_says_aliases_and_names_the_phoneme_rules_it_cannot_apply(xtts_engine):
    plan = xtts_engine.plan(
        "TTS by Speaker, in SQL.", language="en", voice=VoiceRef(builtin="Tiny Alice"), lexicon=LEXICON
    )
    (segment,) = plan.segments
    assert segment.text == "TTS by Speaker, in SQL."
    assert xtts_engine._spoken(segment) == "text to speech by Speaker, in sequel."
    assert len(plan.notes) == 1 and "'Speaker'" in plan.notes[0] and "not applied" in plan.notes[0]


def test_an_inline_phoneme_on_xtts_is_noted_too(xtts_engine):
    plan = xtts_engine.plan(
        'Say <phoneme alphabet="ipa" ph="təˈmɑːtoʊ">tomato</phoneme>.',
        language="en",
        voice=VoiceRef(builtin="Tiny Alice"),
    )
    assert xtts_engine._spoken(plan.segments[0]) == "Say tomato."
    assert "'tomato'" in plan.notes[0]
