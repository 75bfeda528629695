"""W3C PLS lexicons (https://www.w3.org/TR/pronunciation-lexicon/) read and written.

Read with defusedxml: a DOCTYPE, an entity (billion laughs) or an external reference is
refused before anything is expanded or fetched. A lexeme gives one or more graphemes and
an alias or phonemes (in the lexicon's alphabet, or the phoneme's own); each grapheme
becomes one rule (speech.pronunciation.Rule)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from speech.pronunciation import IPA, Rule, RuleError
from speech.untrusted_xml import UntrustedXMLError, parse_untrusted

PLS_NAMESPACE = "http://www.w3.org/2005/01/pronunciation-lexicon"


class PlsError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _local(tag: object) -> str:
    name = str(tag)
    return name.rsplit("}", 1)[-1] if name.startswith("{") else name


_REFUSED = {
    "doctype": "The lexicon may not have a DOCTYPE.",
    "entities": "The lexicon may not declare entities.",
    "external": "The lexicon may not refer to external resources.",
}


def parse_pls(data: bytes, *, max_rules: int) -> list[Rule]:
    """The rules of a PLS document, or PlsError saying what is wrong with it."""
    try:
        root = parse_untrusted(data)
    except UntrustedXMLError as exc:
        if exc.kind in _REFUSED:
            raise PlsError(_REFUSED[exc.kind]) from exc
        raise PlsError(f"The file is not a well-formed XML lexicon (line {exc.line}, column {exc.column}).") from exc
    if _local(root.tag) != "lexicon":
        raise PlsError(f"A PLS file's root element is <lexicon>, not <{_local(root.tag)}>.")
    alphabet = root.get("alphabet", IPA)
    rules: list[Rule] = []
    for lexeme in root:
        if _local(lexeme.tag) != "lexeme":
            continue
        graphemes = [(g.text or "") for g in lexeme if _local(g.tag) == "grapheme"]
        alias = next(((a.text or "") for a in lexeme if _local(a.tag) == "alias"), None)
        phoneme = next((p for p in lexeme if _local(p.tag) == "phoneme"), None)
        if not graphemes:
            raise PlsError("Every <lexeme> needs a <grapheme>.")
        for grapheme in graphemes:
            if len(rules) >= max_rules:
                raise PlsError(f"The lexicon has more than {max_rules} rules (PRONUNCIATION_MAX_RULES).")
            try:
                if phoneme is not None:
                    rules.append(
                        Rule(
                            grapheme=grapheme.strip(),
                            phoneme=phoneme.text or "",
                            alphabet=phoneme.get("alphabet", alphabet),
                        )
                    )
                elif alias is not None:
                    rules.append(Rule(grapheme=grapheme.strip(), alias=alias.strip()))
                else:
                    raise PlsError(f"The lexeme for {grapheme!r} has neither <alias> nor <phoneme>.")
            except RuleError as exc:
                raise PlsError(exc.message) from exc
    return rules


def write_pls(rules: list[Rule], *, language: str = "en-US") -> bytes:
    """A PLS document holding `rules` (built as a tree: nothing to escape by hand)."""
    ET.register_namespace("", PLS_NAMESPACE)
    root = ET.Element(
        f"{{{PLS_NAMESPACE}}}lexicon",
        {"version": "1.0", "alphabet": IPA, "{http://www.w3.org/XML/1998/namespace}lang": language},
    )
    for rule in rules:
        lexeme = ET.SubElement(root, f"{{{PLS_NAMESPACE}}}lexeme")
        ET.SubElement(lexeme, f"{{{PLS_NAMESPACE}}}grapheme").text = rule.grapheme
        if rule.phoneme is not None:
            attributes = {} if rule.alphabet == IPA else {"alphabet": rule.alphabet or IPA}
            ET.SubElement(lexeme, f"{{{PLS_NAMESPACE}}}phoneme", attributes).text = rule.phoneme
        else:
            ET.SubElement(lexeme, f"{{{PLS_NAMESPACE}}}alias").text = rule.alias
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
