from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.errors import Unprocessable
from core.serializer_fields import LanguageField, StrictCharField, params_schema
from core.serializers import ModelSerializer as StrictModelSerializer
from core.serializers import Serializer as StrictSerializer
from speech.text import EMOTIONS
from voices.models import CLONING_ATTESTATION_STATEMENT, Voice, VoiceSample
from voices.selectors import clone_languages

CONSENT_HELP = (
    "Must be true: you attest that the person whose voice is in the samples agreed to have it "
    "recorded, uploaded and cloned. Stored with your user, the time, your IP and user agent, and "
    "each sample's sha256."
)
SAMPLES_HELP = (
    "Audio files (repeat the field for several): WAV, FLAC, OGG Vorbis/Opus, MP3 or WebM/Opus, "
    "each 3-30 s of speech (VOICE_SAMPLE_MIN/MAX_SECONDS) and at most VOICE_SAMPLE_MAX_BYTES. "
    "The format is detected from the content, not the name."
)
CLONE_LANGUAGE_HELP = (
    "Primary language: one the cloning engine speaks (GET /api/v1/languages, `clone_languages`); "
    "any other is a 400 listing them. Case and `_` for `-` do not matter (`ZH_CN` is `zh-cn`)."
)
EMOTIONS_HELP = (
    f"Optional emotion label per sample, in the order of the samples: repeat the field, one "
    f"label each, exactly one of {', '.join(EMOTIONS)}. Give one label per sample or none "
    f"(every sample is then neutral); any other count is a 400."
)


class VoiceSampleSerializer(StrictModelSerializer):
    audio_url = serializers.SerializerMethodField()

    class Meta:
        model = VoiceSample
        fields = (
            "id",
            "emotion",
            "duration_seconds",
            "speech_seconds",
            "sample_rate",
            "sha256",
            "original_format",
            "original_name",
            "size_bytes",
            "created_at",
            "audio_url",
        )
        read_only_fields = fields

    def get_audio_url(self, sample: VoiceSample) -> str:
        return reverse("api-voice-sample-audio", kwargs={"voice_id": sample.voice_id, "sample_id": sample.pk})


SETTINGS_HELP = (
    "The voice's default generation parameters (the keys of a synthesis request's `params`, each in its range). "
    "A request's own `params` win over them; they win over the engine's defaults."
)


@extend_schema_field({**params_schema(), "description": SETTINGS_HELP})
class _SettingsOutField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        **params_schema(all_nullable=True),
        "description": SETTINGS_HELP + " A merge patch: a key with a value sets it, a key with null removes it (the "
        "engine's default applies again), a key left out is kept. A value out of its range is a 400 naming it.",
    }
)
class _SettingsPatchField(serializers.DictField):
    """Checked as a whole by the service (voices.services.voice_settings)."""


class BlendSourceSerializer(StrictSerializer):
    voice_id = serializers.UUIDField(help_text="The source voice's id (it may have been deleted since).")
    name = serializers.CharField()
    builtin = serializers.BooleanField(help_text="A built-in XTTS speaker rather than one of your cloned voices.")
    weight = serializers.FloatField(help_text="Its share of the blend, normalised: the weights add up to 1.")
    consent_record_ids = serializers.ListField(
        child=serializers.UUIDField(), help_text="The consent records the source rests on (none for a built-in)."
    )


class VoiceSerializer(StrictModelSerializer):
    samples = VoiceSampleSerializer(many=True, read_only=True)
    builtin_key = serializers.SerializerMethodField()
    settings = _SettingsOutField(read_only=True)
    blended_from = BlendSourceSerializer(
        many=True, read_only=True, help_text="A blended voice's sources, as they were when it was made; else empty."
    )

    class Meta:
        model = Voice
        fields = (
            "id",
            "name",
            "description",
            "language",
            "languages",
            "engine",
            "is_builtin",
            "builtin_key",
            "status",
            "status_message",
            "samples",
            "settings",
            "blended_from",
            "conditioned_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_builtin_key(self, voice: Voice) -> str | None:
        return voice.builtin_key if voice.is_builtin else None


@extend_schema_field({"type": "array", "items": {"type": "string", "enum": list(EMOTIONS)}})
class _EmotionsField(serializers.ListField):
    """Labels exactly as the schema's enum spells them, one per form field: no comma lists,
    no other case, no empty items, so that what the schema allows and what is accepted are
    one set (a generated client sends an enum value per field)."""

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, str):
            data = [data]
        return super().to_internal_value(data)


@extend_schema_field({"type": "boolean", "enum": [True]})
class _ConsentField(serializers.BooleanField):
    """Only `true` is accepted (the field's validator says why), and the schema says so."""


class _SampleUploadSerializer(StrictSerializer):
    samples = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), allow_empty=False, min_length=1, help_text=SAMPLES_HELP
    )
    emotions = _EmotionsField(
        child=serializers.ChoiceField(choices=list(EMOTIONS)), required=False, allow_empty=True, help_text=EMOTIONS_HELP
    )
    consent = _ConsentField(help_text=CONSENT_HELP)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # At most VOICE_MAX_SAMPLES in one request (the schema's maxItems), read per
        # instance so that the schema and the check follow the setting.
        limit = settings.VOICE_MAX_SAMPLES
        samples = self.fields["samples"]
        samples.max_length = limit
        samples.validators.append(
            MaxLengthValidator(limit, message=f"At most {limit} samples in one request (VOICE_MAX_SAMPLES).")
        )

    def validate_consent(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError(
                "consent=true is required: attest that the person whose voice is in the samples agreed "
                "to have it recorded and cloned."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        emotions = attrs.get("emotions") or []
        if emotions and len(emotions) != len(attrs["samples"]):
            # Each list is well-formed on its own; their counts disagree, a cross-field rule
            # a schema cannot state: refused for its meaning (422, like the samples' content).
            count = len(attrs["samples"])
            raise Unprocessable(
                f"emotions: give one label per sample ({count}), in the same order, or none.",
                details={"emotions": [f"give one label per sample ({count}), in the same order, or none"]},
            )
        return attrs


class VoiceCreateSerializer(_SampleUploadSerializer):
    name = serializers.CharField(max_length=100)
    language = LanguageField(languages=clone_languages, component="CloneLanguage", help_text=CLONE_LANGUAGE_HELP)
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class SampleAddSerializer(_SampleUploadSerializer):
    pass


class VoiceUpdateSerializer(StrictSerializer):
    name = StrictCharField(max_length=100, required=False)
    description = StrictCharField(max_length=1000, required=False, allow_blank=True)
    language = LanguageField(
        languages=clone_languages, component="CloneLanguage", required=False, help_text=CLONE_LANGUAGE_HELP
    )
    settings = _SettingsPatchField(required=False)


class EngineLanguagesSerializer(StrictSerializer):
    name = serializers.CharField()
    available = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True, help_text="Why the engine cannot run here; null when it can.")
    languages = serializers.ListField(child=serializers.CharField())
    clones = serializers.BooleanField(help_text="Whether the engine clones voices from samples.")


class LanguagesSerializer(StrictSerializer):
    engines = EngineLanguagesSerializer(many=True)
    clone_languages = serializers.ListField(
        child=serializers.CharField(), help_text="Languages a cloned voice may be created with."
    )


class CloningAttestationSerializer(StrictSerializer):
    """The account's standing cloning attestation (voices.services.attestation)."""

    accepted = serializers.BooleanField(help_text="Whether an attestation is in force")
    id = serializers.UUIDField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    via = serializers.CharField(allow_null=True, help_text="dashboard or api")
    statement = serializers.CharField(help_text="What is (or would be) attested, verbatim")

    @staticmethod
    def of(record: Any) -> dict[str, Any]:
        if record is None:
            return {
                "accepted": False,
                "id": None,
                "accepted_at": None,
                "via": None,
                "statement": CLONING_ATTESTATION_STATEMENT,
            }
        return {
            "accepted": True,
            "id": record.pk,
            "accepted_at": record.accepted_at,
            "via": record.via,
            "statement": record.statement,
        }


class CloningAttestationAcceptSerializer(StrictSerializer):
    accept = _ConsentField(
        help_text="Must be true: you accept the statement of GET /api/v1/cloning-attestation for every voice you "
        "clone through an API without a consent field (the ElevenLabs-compatible /v1/voices/add)."
    )

    def validate_accept(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError("accept=true is required to accept the cloning attestation.")
        return value


class BlendSourceInSerializer(StrictSerializer):
    voice = StrictCharField(
        help_text="The id or name of one of your ready cloned voices, or a built-in XTTS speaker (`xtts:<name>` or "
        "its id). Another user's voice is a 404, as if it did not exist."
    )
    weight = serializers.FloatField(
        min_value=0, help_text="How much of this voice (at least 0; normalised so the weights add up to 1)."
    )


class VoiceBlendSerializer(StrictSerializer):
    name = StrictCharField(max_length=100)
    description = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    language = LanguageField(
        languages=clone_languages,
        component="CloneLanguage",
        required=False,
        help_text="Defaults to the first source's language. " + CLONE_LANGUAGE_HELP,
    )
    sources = serializers.ListField(
        child=BlendSourceInSerializer(),
        min_length=2,
        max_length=4,
        error_messages={
            "min_length": "A blend takes 2 to 4 source voices: pick at least {min_length}.",
            "max_length": "A blend takes 2 to 4 source voices: pick at most {max_length}.",
        },
        help_text="2 to 4 voices and their weights; at least one weight above 0, each voice once.",
    )
