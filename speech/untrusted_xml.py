"""XML from outside (a PLS lexicon, SSML), parsed once the hardened way: defusedxml with
no DOCTYPE, no entity declarations and no external references (a billion laughs or an
external entity is refused before anything is expanded or fetched), and a parse error
said with its line and column. The callers say it in their own words."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.etree.ElementTree import Element

import defusedxml
import defusedxml.ElementTree as SafeET


class UntrustedXMLError(ValueError):
    """Why the XML was refused: `kind` is "doctype", "entities", "external" or
    "malformed" (with `line`, `column` from 1 and the parser's `reason`)."""

    def __init__(self, kind: str, *, line: int = 0, column: int = 0, reason: str = "") -> None:
        super().__init__(f"{kind} {reason}".strip())
        self.kind, self.line, self.column, self.reason = kind, line, column, reason


def parse_untrusted(source: str | bytes) -> Element:
    """The document's root element, or UntrustedXMLError."""
    try:
        return SafeET.fromstring(source, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden as exc:
        raise UntrustedXMLError("doctype") from exc
    except defusedxml.EntitiesForbidden as exc:
        raise UntrustedXMLError("entities") from exc
    except defusedxml.ExternalReferenceForbidden as exc:
        raise UntrustedXMLError("external") from exc
    except ET.ParseError as exc:
        line, column = exc.position
        raise UntrustedXMLError(
            "malformed", line=line, column=column + 1, reason=str(exc).split(":")[0]
        ) from exc  # expat counts columns from 0
