from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.serializer_fields import StrictCharField, StrictChoiceField
from pronunciation.models import PronunciationDictionary
from speech.pronunciation import ALPHABETS, MAX_ALIAS_CHARS, MAX_GRAPHEME_CHARS, MAX_PHONEME_CHARS

RULE_TYPES = ("alias", "phoneme")


class RuleSerializer(serializers.Serializer):
    """One rule, as ElevenLabs writes it; checked by speech.pronunciation.Rule."""

    string_to_replace = StrictCharField(
        max_length=MAX_GRAPHEME_CHARS,
        trim_whitespace=False,
        help_text="The text as written; matched case-sensitively on word boundaries.",
    )
    type = StrictChoiceField(choices=RULE_TYPES)
    alias = StrictCharField(max_length=MAX_ALIAS_CHARS, required=False, help_text="For an alias rule: what to say.")
    phoneme = StrictCharField(max_length=MAX_PHONEME_CHARS, required=False, help_text="For a phoneme rule.")
    alphabet = StrictChoiceField(choices=ALPHABETS, required=False, help_text="For a phoneme rule.")


class DictionaryCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True, max_length=2000, default="")
    rules = serializers.ListField(child=RuleSerializer(), help_text="Applied in order: the first rule for a word wins.")
    is_default = serializers.BooleanField(
        required=False, default=False, help_text="Apply it to every request that names no dictionary."
    )


class DictionaryFileSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True, max_length=2000, default="")
    file = serializers.FileField(allow_empty_file=True, help_text="A W3C PLS lexicon (XML).")


class DictionaryUpdateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200, required=False)
    description = StrictCharField(required=False, allow_blank=True, max_length=2000)
    is_default = serializers.BooleanField(required=False)


class RulesAddSerializer(serializers.Serializer):
    rules = serializers.ListField(child=RuleSerializer())


class RulesRemoveSerializer(serializers.Serializer):
    rule_strings = serializers.ListField(child=StrictCharField(max_length=MAX_GRAPHEME_CHARS, trim_whitespace=False))


class DictionarySerializer(serializers.ModelSerializer):
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
