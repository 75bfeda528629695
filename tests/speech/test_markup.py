"""Markup in the text (speech/markup.py): breaks, phonemes, substitutions and SSML
documents, read with defusedxml; dictionary rules matched as PLS says."""

from __future__ import annotations

import pytest

from speech import markup
from speech.markup import MarkupError, read
from speech.pronunciation import Lexicon, Rule, RuleError, arpabet_to_ipa


def said(document: markup.Document, *, phonemes: bool = True) -> str:
    out = []
    for chunk in document.chunks:
        written, overrides = markup.decode(chunk.text, document.overrides)
        out.append(markup.spoken(written, overrides, phonemes=phonemes))
    return " ".join(" ".join(part.split()) for part in out)


def test_a_text_without_tags_is_plain_whatever_its_angle_brackets_and_ampersands():
    document = read("Tom & Jerry: 3 < 4 is true.")
    assert said(document) == "Tom & Jerry: 3 < 4 is true."
    assert document.notes == []


def test_a_break_splits_the_text_and_sets_the_exact_pause():
    document = read('One. <break time="1.5s"/> Two. <break time="250ms"/> Three.')
    assert [c.pause_before for c in document.chunks] == [0.0, 1.5, 0.25]


def test_a_break_past_ten_seconds_is_capped_and_said():
    document = read('Wait <break time="999999s"/> for it.')
    assert document.chunks[1].pause_before == markup.MAX_BREAK_SECONDS
    assert document.notes == ["A break of 999999s was capped to 10 s (the longest one break may be)."]


def test_a_break_at_the_end_is_trailing_silence():
    assert read('Done. <break time="2s"/>').trailing_pause == 2.0


def test_phoneme_and_sub_are_said_in_place_of_the_words_they_wrap():
    document = read(
        'Say <phoneme alphabet="ipa" ph="təˈmɑːtoʊ">tomato</phoneme> on the <sub alias="World Wide Web">WWW</sub>.'
    )
    assert said(document) == "Say [[ təˈmɑːtoʊ ]] on the World Wide Web."
    assert document.display_text() == "Say tomato on the WWW."


def test_an_engine_without_phonemes_says_the_word_and_the_note_names_it():
    document = read('Say <phoneme alphabet="ipa" ph="təˈmɑːtoʊ">tomato</phoneme>.', phonemes=False)
    assert said(document, phonemes=False) == "Say tomato."
    assert "'tomato'" in document.notes[0] and "not applied" in document.notes[0]


def test_a_whole_ssml_document_reads_its_elements_and_names_the_others():
    ssml = """<speak xmlns="http://www.w3.org/2001/10/synthesis">
      <p><s>Call <say-as interpret-as="telephone">555-0134</say-as>.</s>
      <s>Spell <say-as interpret-as="characters">TTS</say-as>,
         the <say-as interpret-as="ordinal">2</say-as> time.</s></p>
      <prosody rate="slow">Slowly now.</prosody> <emphasis>Loud</emphasis>
      <say-as interpret-as="date" format="ymd">2024-03-05</say-as>
    </speak>"""
    document = read(ssml, text_format="ssml")
    text = said(document)
    assert "5 5 5, 0 1 3 4" in text and "T T S" in text and "2nd time" in text and "March 5, 2024" in text
    assert any(c.rate == 0.8 and "Slowly" in c.text for c in document.chunks)
    assert document.notes == ["Not supported, read as text: <emphasis>."]


def test_emotion_tags_keep_working_beside_markup():
    from speech.text import segments

    document = read('(happy) Hello there. <break time="1s"/> Still happy. (sad) Now sad.')
    emotions = [s.emotion for c in document.chunks for s in segments(c.text, 300)]
    assert emotions[0] == "happy" and "sad" in emotions


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [("<speak>\n  <p>Open</s>\n</speak>", 2, 12), ("<speak>one &amp two</speak>", 1, 16)],
)
def test_ssml_that_is_not_well_formed_points_at_the_line_and_column(text, line, column):
    with pytest.raises(MarkupError) as caught:
        read(text, text_format="ssml")
    assert (caught.value.line, caught.value.column) == (line, column)
    assert f"line {line}, column {column}" in caught.value.message


def test_inline_markup_that_is_not_well_formed_counts_columns_in_the_users_text():
    with pytest.raises(MarkupError) as caught:
        read('Fish & chips <break time="1s"/>')
    assert (caught.value.line, caught.value.column) == (1, 7)  # the space after the bare &


def test_a_billion_laughs_is_refused_before_anything_expands():
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{"&lol{};".format(i - 1 if i > 1 else "") * 10}">' for i in range(1, 10))
        + "]><speak>&lol9;</speak>"
    )
    with pytest.raises(MarkupError, match="DOCTYPE"):
        read(laughs, text_format="ssml")


def test_a_thousand_deep_document_is_refused():
    deep = "<speak>" + "<p>" * 1000 + "deep" + "</p>" * 1000 + "</speak>"
    with pytest.raises(MarkupError, match="nested more than"):
        read(deep, text_format="ssml")


def test_ssml_without_a_speak_element_is_read_as_its_content():
    assert said(read("<p>Hi</p> there", text_format="ssml")) == "Hi there"
    with pytest.raises(MarkupError, match="root element is <speak>"):
        read('<?xml version="1.0"?><p>Hi</p>', text_format="ssml")


def test_a_break_whose_time_is_not_a_time_is_refused():
    with pytest.raises(MarkupError, match="not a time"):
        read('Hi <break time="soon"/> there')


# ---------------------------------------------------------------- dictionary rules


def test_rules_match_case_sensitively_on_word_boundaries_longest_first():
    lexicon = Lexicon(
        [
            Rule("New York", alias="the Big Apple"),
            Rule("New York City", alias="NYC"),
            Rule("TTS", alias="text to speech"),
        ]
    )
    document = read("New York City, New York, new york, TTSs and TTS.", lexicon=lexicon)
    assert said(document) == "NYC, the Big Apple, new york, TTSs and text to speech."


def test_the_first_dictionary_wins_for_the_same_word():
    lexicon = Lexicon([Rule("SQL", alias="sequel"), Rule("SQL", alias="S Q L")])
    assert said(read("SQL", lexicon=lexicon)) == "sequel"


def test_a_rule_never_changes_an_emotion_tag():
    document = read("(happy) I am happy.", lexicon=Lexicon([Rule("happy", alias="glad")]))
    assert said(document) == "(happy) I am glad."


def test_arpabet_is_converted_to_ipa_with_its_stress():
    assert arpabet_to_ipa("T AH0 M EY1 T OW2") == "tʌmˈeɪtˌoʊ"


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"string_to_replace": "x", "type": "phoneme", "phoneme": "ks", "alphabet": "klingon"}, "alphabet"),
        ({"string_to_replace": "", "type": "alias", "alias": "nothing"}, "string_to_replace"),
        ({"string_to_replace": "x", "type": "phoneme", "phoneme": "Q9 ZZ", "alphabet": "cmu-arpabet"}, "phoneme"),
        ({"string_to_replace": "x", "type": "phoneme", "phoneme": "a]]b", "alphabet": "ipa"}, "phoneme"),
    ],
)
def test_a_rule_that_cannot_be_said_is_refused_naming_its_field(rule, field):
    with pytest.raises(RuleError) as caught:
        Rule.from_dict(rule)
    assert caught.value.field == field
