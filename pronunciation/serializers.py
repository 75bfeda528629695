from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.openapi import SOMETHING_PATTERN
from core.serializer_fields import StrictBooleanField, StrictCharField
from core.serializers import ModelSerializer as StrictModelSerializer
from core.serializers import Serializer as StrictSerializer
from core.serializers import refuse_unknown_fields
from pronunciation.models import PronunciationDictionary
from speech.pronunciation import (
    ARPABET,
    IPA,
    IPA_PATTERN,
    MAX_ALIAS_CHARS,
    MAX_GRAPHEME_CHARS,
    MAX_PHONEME_CHARS,
    Rule,
    RuleError,
    arpabet_pattern,
)

# Only true (or left out) is taken; stated in words, not as a boolean enum, which
# generated clients cannot read (openapi-python-client drops the whole request model).
_ALWAYS = {"type": "boolean", "nullable": True, "description": "Matching is always "
           "case-sensitive on word boundaries (W3C PLS): true or left out; false is a 400."}  # fmt: skip
# Something to match or say besides whitespace, and no NUL (core/openapi.py).
_SOMETHING = SOMETHING_PATTERN
_GRAPHEME = {
    "type": "string",
    "maxLength": MAX_GRAPHEME_CHARS,
    "pattern": _SOMETHING,
    "description": "The text as written; matched case-sensitively on word boundaries, longest first.",
}


def _rule_schema(kind: str, required: list[str], **properties: dict) -> dict:
    return {
        "type": "object",
        "required": ["string_to_replace", "type", *required],
        "properties": {
            "string_to_replace": _GRAPHEME,
            "type": {"type": "string", "enum": [kind]},
            "case_sensitive": _ALWAYS,
            "word_boundaries": _ALWAYS,
            **properties,
        },
    }


RULE_SCHEMA = {
    "oneOf": [
        _rule_schema("alias", ["alias"], alias={"type": "string", "maxLength": MAX_ALIAS_CHARS, "pattern": _SOMETHING}),
        _rule_schema(
            "phoneme",
            ["phoneme", "alphabet"],
            phoneme={"type": "string", "maxLength": MAX_PHONEME_CHARS, "pattern": IPA_PATTERN},
            alphabet={"type": "string", "enum": [IPA]},
        ),
        _rule_schema(
            "phoneme",
            ["phoneme", "alphabet"],
            phoneme={"type": "string", "maxLength": MAX_PHONEME_CHARS, "pattern": arpabet_pattern()},
            alphabet={"type": "string", "enum": [ARPABET]},
        ),
    ]
}


def _keys_of_each_kind() -> dict[str, set[str]]:
    """The keys each kind of rule takes, read from the schema that states them."""
    keys: dict[str, set[str]] = {}
    for kind in RULE_SCHEMA["oneOf"]:
        keys.setdefault(kind["properties"]["type"]["enum"][0], set()).update(kind["properties"])
    return keys


_KEYS_OF = _keys_of_each_kind()


@extend_schema_field(RULE_SCHEMA)
class RuleField(serializers.Field):
    """One rule as ElevenLabs writes it (an alias rule, or a phoneme rule in IPA or CMU
    ARPAbet), checked by speech.pronunciation.Rule."""

    def to_internal_value(self, data: Any) -> Rule:
        if isinstance(data, dict):  # the schema closes each kind of rule (core/serializers.py)
            kind = data.get("type")
            refuse_unknown_fields(data, _KEYS_OF.get(kind, _KEYS_OF["phoneme"]) if isinstance(kind, str) else set(data))
        try:
            return Rule.from_dict(data)
        except RuleError as exc:
            raise serializers.ValidationError({exc.field: [exc.message]}) from exc

    def to_representation(self, value: Rule) -> dict[str, Any]:
        return value.to_dict()


class DictionaryCreateSerializer(StrictSerializer):
    name = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True, max_length=2000, default="")
    rules = serializers.ListField(child=RuleField(), help_text="Applied in order: the first rule for a word wins.")
    is_default = StrictBooleanField(
        required=False, default=False, help_text="Apply it to every request that names no dictionary."
    )


class DictionaryFileSerializer(StrictSerializer):
    name = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True, max_length=2000, default="")
    file = serializers.FileField(allow_empty_file=True, help_text="A W3C PLS lexicon (XML).")


class DictionaryUpdateSerializer(StrictSerializer):
    name = StrictCharField(max_length=200, required=False)
    description = StrictCharField(required=False, allow_blank=True, max_length=2000)
    is_default = StrictBooleanField(required=False)


class RulesAddSerializer(StrictSerializer):
    rules = serializers.ListField(child=RuleField())


class RulesRemoveSerializer(StrictSerializer):
    rule_strings = serializers.ListField(child=StrictCharField(max_length=MAX_GRAPHEME_CHARS, trim_whitespace=False))


class DictionarySerializer(StrictModelSerializer):
    version_id = serializers.SerializerMethodField()
    version_number = serializers.SerializerMethodField()
    rules = serializers.SerializerMethodField()

    class Meta:
        model = PronunciationDictionary
        fields = ("id", "name", "description", "is_default", "created_at", "version_id", "version_number", "rules")
        read_only_fields = fields

    def get_version_id(self, dictionary: PronunciationDictionary) -> str | None:
        return str(dictionary.latest_version_id) if dictionary.latest_version_id else None

    def get_version_number(self, dictionary: PronunciationDictionary) -> int:
        return dictionary.latest_version.number if dictionary.latest_version else 0

    def get_rules(self, dictionary: PronunciationDictionary) -> list[dict[str, Any]]:
        return list(dictionary.latest_version.rules) if dictionary.latest_version else []
