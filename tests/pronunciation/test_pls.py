"""PLS lexicons (pronunciation/pls.py, services.rules_from_pls): read with defusedxml,
nothing expanded or fetched, bounded in size and rules; written back as PLS."""

from __future__ import annotations

import http.server
import threading

import pytest

from core.errors import ApiError, PayloadTooLarge
from pronunciation.pls import parse_pls, write_pls
from pronunciation.services import rules_from_pls
from speech.pronunciation import Rule

LEXICON = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>TTS</grapheme><alias>text to speech</alias></lexeme>
  <lexeme><grapheme>tomato</grapheme><grapheme>Tomato</grapheme><phoneme>təˈmɑːtoʊ</phoneme></lexeme>
  <lexeme><grapheme>Speaker</grapheme><phoneme alphabet="cmu-arpabet">S P IY1 K ER0</phoneme></lexeme>
</lexicon>"""


def lexicon(lexemes: str, alphabet: str = "ipa") -> bytes:
    return (
        f'<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="{alphabet}">'
        f"{lexemes}</lexicon>"
    ).encode()


def test_a_lexicon_becomes_one_rule_per_grapheme():
    rules = parse_pls(LEXICON.encode(), max_rules=100)
    assert [r.to_dict() for r in rules] == [
        {"string_to_replace": "TTS", "type": "alias", "alias": "text to speech"},
        {"string_to_replace": "tomato", "type": "phoneme", "phoneme": "təˈmɑːtoʊ", "alphabet": "ipa"},
        {"string_to_replace": "Tomato", "type": "phoneme", "phoneme": "təˈmɑːtoʊ", "alphabet": "ipa"},
        {"string_to_replace": "Speaker", "type": "phoneme", "phoneme": "S P IY1 K ER0", "alphabet": "cmu-arpabet"},
    ]


def test_written_rules_read_back_the_same():
    rules = parse_pls(LEXICON.encode(), max_rules=100)
    assert parse_pls(write_pls(rules), max_rules=100) == rules


def test_a_file_that_is_not_xml_is_a_400_saying_so():
    with pytest.raises(ApiError) as caught:
        rules_from_pls(b"TTS=text to speech")
    assert caught.value.status_code == 400 and "not a well-formed XML lexicon" in caught.value.message


def test_a_billion_laughs_is_refused_before_any_expansion():
    laughs = b'<?xml version="1.0"?><!DOCTYPE lexicon [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1 if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    laughs += b"]>" + lexicon("<lexeme><grapheme>x</grapheme><alias>&a9;</alias></lexeme>")
    with pytest.raises(ApiError, match="DOCTYPE"):
        rules_from_pls(laughs)


def test_an_external_entity_is_refused_and_nothing_is_fetched():
    fetched: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            fetched.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"secret")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/secret"
        external = f'<?xml version="1.0"?><!DOCTYPE lexicon [<!ENTITY x SYSTEM "{url}">]>'.encode()
        external += lexicon("<lexeme><grapheme>x</grapheme><alias>&x;</alias></lexeme>")
        with pytest.raises(ApiError):
            rules_from_pls(external)
    finally:
        server.shutdown()
    assert fetched == []


def test_ten_megabytes_is_a_413_naming_the_setting(settings):
    with pytest.raises(PayloadTooLarge) as caught:
        rules_from_pls(b" " * 10_000_000)
    assert "PRONUNCIATION_MAX_FILE_BYTES" in caught.value.message


def test_a_hundred_thousand_lexemes_stop_at_the_rule_cap(settings):
    settings.PRONUNCIATION_MAX_FILE_BYTES = 20_000_000
    data = lexicon("".join(f"<lexeme><grapheme>w{i}</grapheme><alias>a</alias></lexeme>" for i in range(100_000)))
    with pytest.raises(ApiError) as caught:
        rules_from_pls(data)
    assert f"more than {settings.PRONUNCIATION_MAX_RULES} rules" in caught.value.message


def test_an_unknown_alphabet_is_a_400():
    with pytest.raises(ApiError, match="Unknown phonetic alphabet"):
        rules_from_pls(lexicon("<lexeme><grapheme>x</grapheme><phoneme>ks</phoneme></lexeme>", alphabet="x-sampa"))


def test_an_empty_grapheme_is_a_400():
    with pytest.raises(ApiError, match="may not be empty"):
        rules_from_pls(lexicon("<lexeme><grapheme> </grapheme><alias>nothing</alias></lexeme>"))


def test_a_lexeme_without_alias_or_phoneme_is_a_400():
    with pytest.raises(ApiError, match="neither"):
        rules_from_pls(lexicon("<lexeme><grapheme>x</grapheme></lexeme>"))


def test_a_rule_keeps_what_it_was_written_in():
    rule = Rule("Speaker", phoneme="S P IY1 K ER0", alphabet="arpabet")
    assert rule.alphabet == "cmu-arpabet" and rule.ipa == "spˈiːkɜː"
