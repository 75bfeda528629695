"""Pronunciation rules: how a word is said instead of how it is spelt.

A rule names a grapheme (the text as written, matched case-sensitively on word
boundaries, as W3C PLS says) and either an alias (other text to say) or phonemes (IPA;
CMU ARPAbet is converted to IPA here). A `Lexicon` is an ordered set of rules: the first
rule for a grapheme wins (a request's dictionaries in the order it names them), and at
each place in a text the longest grapheme that matches wins ("New York City" before
"New York").

How an engine honours a rule is the engine's (docs/pronunciation.md): Piper speaks
phonemes exactly, XTTS only aliases. Django-free; no XML here (speech/markup.py and the
pronunciation app read PLS and SSML).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

IPA = "ipa"
ARPABET = "cmu-arpabet"
ALPHABETS: tuple[str, ...] = (IPA, ARPABET)
# Other spellings clients send for the same alphabets (PLS files, SSML).
_ALPHABET_NAMES = {"ipa": IPA, "x-ipa": IPA, "cmu-arpabet": ARPABET, "arpabet": ARPABET, "x-arpabet": ARPABET}

MAX_GRAPHEME_CHARS = 200
MAX_ALIAS_CHARS = 500
MAX_PHONEME_CHARS = 500

# CMU ARPAbet (as in the CMU Pronouncing Dictionary) to IPA as espeak writes English.
_ARPABET_VOWELS = {
    "AA": "ɑː", "AE": "æ", "AH": "ʌ", "AO": "ɔː", "AW": "aʊ", "AX": "ə", "AXR": "ɚ", "AY": "aɪ",
    "EH": "ɛ", "ER": "ɜː", "EY": "eɪ", "IH": "ɪ", "IX": "ɨ", "IY": "iː", "OW": "oʊ", "OY": "ɔɪ",
    "UH": "ʊ", "UW": "uː", "UX": "ʉ",
}  # fmt: skip
_ARPABET_CONSONANTS = {
    "B": "b", "CH": "tʃ", "D": "d", "DH": "ð", "DX": "ɾ", "EL": "əl", "EM": "əm", "EN": "ən",
    "F": "f", "G": "ɡ", "HH": "h", "H": "h", "JH": "dʒ", "K": "k", "L": "l", "M": "m", "N": "n",
    "NG": "ŋ", "NX": "ŋ", "P": "p", "Q": "ʔ", "R": "ɹ", "S": "s", "SH": "ʃ", "T": "t", "TH": "θ",
    "V": "v", "W": "w", "WH": "ʍ", "Y": "j", "Z": "z", "ZH": "ʒ",
}  # fmt: skip
_STRESS = {"0": "", "1": "ˈ", "2": "ˌ"}
# Characters a phoneme string may not hold: they would end Piper's raw-phoneme block
# ("[[ ... ]]") early or smuggle markup in.
_FORBIDDEN_IN_PHONEMES = set("[]<>&")


class RuleError(ValueError):
    """A rule that cannot be used; `field` names what is wrong."""

    def __init__(self, message: str, field: str = "rules") -> None:
        super().__init__(message)
        self.message, self.field = message, field


def alphabet_name(value: str) -> str:
    """The canonical name of a phonetic alphabet, or RuleError."""
    name = _ALPHABET_NAMES.get(str(value).strip().lower())
    if name is None:
        raise RuleError(f"Unknown phonetic alphabet {value!r}; use one of {', '.join(ALPHABETS)}.", field="alphabet")
    return name


def arpabet_pattern() -> str:
    """An ECMA-262 pattern of what `arpabet_to_ipa` reads (for the API's schema): symbols
    separated by spaces, a vowel with an optional stress digit, any case."""

    def any_case(symbol: str) -> str:
        return "".join(f"[{c}{c.lower()}]" for c in symbol)

    vowels = "|".join(any_case(v) for v in sorted(_ARPABET_VOWELS, key=len, reverse=True))
    consonants = "|".join(any_case(c) for c in sorted(_ARPABET_CONSONANTS, key=len, reverse=True))
    symbol = f"(?:(?:{vowels})[012]?|(?:{consonants}))"
    return rf"^\s*{symbol}(?:\s+{symbol})*\s*$"


# What `to_ipa` reads as IPA; no NUL, which no text Speaker keeps may hold (core/parsers.py).
IPA_PATTERN = r"^[^\[\]<>&\u0000]*[^\s\[\]<>&\u0000][^\[\]<>&\u0000]*$"


def arpabet_to_ipa(phonemes: str) -> str:
    """CMU ARPAbet ("T EH1 K S T") to IPA ("tˈɛkst"); the stress digit of a vowel
    becomes espeak's stress mark before it. RuleError on an unknown symbol."""
    out: list[str] = []
    for symbol in phonemes.split():
        base, stress = symbol.upper(), ""
        if base[-1:] in _STRESS:
            base, stress = base[:-1], _STRESS[base[-1]]
        if base in _ARPABET_VOWELS:
            out.append(stress + _ARPABET_VOWELS[base])
        elif base in _ARPABET_CONSONANTS and not stress:
            out.append(_ARPABET_CONSONANTS[base])
        else:
            raise RuleError(f"{symbol!r} is not a CMU ARPAbet phoneme.", field="phoneme")
    if not out:
        raise RuleError("The phoneme string is empty.", field="phoneme")
    return "".join(out)


def to_ipa(phonemes: str, alphabet: str) -> str:
    """The phonemes in IPA, checked: RuleError when they cannot be spoken."""
    name = alphabet_name(alphabet)
    text = str(phonemes).strip()
    if not text:
        raise RuleError("The phoneme string is empty.", field="phoneme")
    if len(text) > MAX_PHONEME_CHARS:
        raise RuleError(f"A phoneme string is at most {MAX_PHONEME_CHARS} characters.", field="phoneme")
    if name == ARPABET:
        return arpabet_to_ipa(text)
    bad = sorted(set(text) & _FORBIDDEN_IN_PHONEMES)
    if bad:
        raise RuleError(f"IPA phonemes may not contain {' '.join(bad)}.", field="phoneme")
    return " ".join(text.split())


@dataclass(frozen=True)
class Rule:
    """One grapheme and how to say it. `phoneme` is kept as written, in `alphabet`;
    `ipa` is its IPA form (what an engine that takes phonemes is given)."""

    grapheme: str
    alias: str | None = None
    phoneme: str | None = None
    alphabet: str | None = None

    def __post_init__(self) -> None:
        grapheme = self.grapheme
        if not isinstance(grapheme, str) or not grapheme.strip():
            raise RuleError("A rule's grapheme (string_to_replace) may not be empty.", field="string_to_replace")
        if len(grapheme) > MAX_GRAPHEME_CHARS:
            raise RuleError(f"A grapheme is at most {MAX_GRAPHEME_CHARS} characters.", field="string_to_replace")
        if self.alias is None and self.phoneme is None:
            raise RuleError(f"The rule for {grapheme!r} has neither an alias nor phonemes.", field="rules")
        if self.alias is not None and (not self.alias.strip() or len(self.alias) > MAX_ALIAS_CHARS):
            raise RuleError(f"An alias is 1 to {MAX_ALIAS_CHARS} characters.", field="alias")
        if self.phoneme is not None:
            object.__setattr__(self, "alphabet", alphabet_name(self.alphabet or IPA))
            to_ipa(self.phoneme, self.alphabet or IPA)  # checked once, here

    @property
    def kind(self) -> str:
        return "phoneme" if self.phoneme is not None else "alias"

    @property
    def ipa(self) -> str | None:
        return to_ipa(self.phoneme, self.alphabet or IPA) if self.phoneme is not None else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"string_to_replace": self.grapheme, "type": self.kind}
        if self.alias is not None:
            out["alias"] = self.alias
        if self.phoneme is not None:
            out["phoneme"] = self.phoneme
            out["alphabet"] = self.alphabet
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        """A rule as ElevenLabs writes one: {"string_to_replace", "type": "alias",
        "alias"} or {"string_to_replace", "type": "phoneme", "phoneme", "alphabet"}."""
        if not isinstance(data, Mapping):
            raise RuleError("Each rule must be an object.")
        kind = data.get("type")
        grapheme = data.get("string_to_replace")
        if not isinstance(grapheme, str):
            raise RuleError("A rule needs string_to_replace, the text as written.", field="string_to_replace")
        if any(data.get(name) not in (None, True) for name in ("case_sensitive", "word_boundaries")):
            raise RuleError(
                "Rules match case-sensitively on word boundaries (W3C PLS); "
                "case_sensitive and word_boundaries may only be true.",
                field="case_sensitive",
            )
        if kind == "alias":
            if not isinstance(data.get("alias"), str):
                raise RuleError("An alias rule needs alias, the text to say.", field="alias")
            return cls(grapheme=grapheme, alias=data["alias"])
        if kind == "phoneme":
            if not isinstance(data.get("phoneme"), str):
                raise RuleError("A phoneme rule needs phoneme.", field="phoneme")
            if not isinstance(data.get("alphabet"), str):
                raise RuleError(f"A phoneme rule needs alphabet: {' or '.join(ALPHABETS)}.", field="alphabet")
            return cls(grapheme=grapheme, phoneme=data["phoneme"], alphabet=data["alphabet"])
        raise RuleError("A rule's type is 'alias' or 'phoneme'.", field="type")


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    rule: Rule


class Lexicon:
    """Rules in order of precedence (the first rule for a grapheme wins)."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        first: dict[str, Rule] = {}
        for rule in rules:
            first.setdefault(rule.grapheme, rule)
        self.rules: tuple[Rule, ...] = tuple(first.values())
        self._by_grapheme = first
        self._pattern: re.Pattern[str] | None = None

    def __bool__(self) -> bool:
        return bool(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def to_list(self) -> list[dict[str, Any]]:
        return [rule.to_dict() for rule in self.rules]

    @classmethod
    def from_list(cls, data: Iterable[Mapping[str, Any]] | None) -> Lexicon:
        return cls(Rule.from_dict(item) for item in data or ())

    def used_in(self, text: str) -> Lexicon:
        """The rules whose grapheme occurs in `text` (what a job keeps of its
        dictionaries: a few rules, not thousands)."""
        return Lexicon(rule for rule in self.rules if rule.grapheme in text)

    def matches(self, text: str) -> Iterator[Match]:
        """Where rules apply in `text`, left to right, never overlapping: on word
        boundaries, case-sensitively, the longest grapheme first at each place."""
        if not self.rules:
            return
        if self._pattern is None:
            graphemes = sorted(self._by_grapheme, key=len, reverse=True)
            # Longest first: Python's alternation takes the first alternative that
            # matches at a position. A boundary is a non-word character or the text's end.
            alternation = "|".join(re.escape(g) for g in graphemes)
            self._pattern = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)")
        for found in self._pattern.finditer(text):
            yield Match(found.start(), found.end(), self._by_grapheme[found.group()])
