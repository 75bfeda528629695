from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from core.serializer_fields import LanguageField, ParamsField, StrictCharField, StrictChoiceField, StrictUUIDField
from core.serializers import ModelSerializer as StrictModelSerializer
from core.serializers import Serializer as StrictSerializer
from speech import audio as audiomod
from speech import markup
from synthesis.models import SynthesisJob
from voices.selectors import spoken_languages


class DictionaryLocatorSerializer(StrictSerializer):
    pronunciation_dictionary_id = StrictUUIDField(help_text="A pronunciation dictionary of yours.")
    version_id = StrictUUIDField(
        required=False, allow_null=True, help_text="One of its versions; left out: its latest."
    )


class JobCreateSerializer(StrictSerializer):
    text = StrictCharField(
        trim_whitespace=False,
        help_text="Text to speak: at least one letter or digit outside emotion tags (a 400 otherwise). "
        "Emotion tags like `(happy)` switch the style.",
    )
    voice = StrictCharField(help_text="A built-in voice name (e.g. `joe`) or the id or name of one of your voices.")
    language = LanguageField(
        languages=spoken_languages,
        component="SpokenLanguage",
        required=False,
        allow_null=True,
        help_text="Defaults to the voice's language. One this server's engines speak; the voice's own engine must "
        "speak it, else a 400 naming the ones it does (built-in voices: GET /api/v1/voices `languages`). "
        "Case and a region (`en-US`, `en_us`) do not matter: they resolve to the engine's code (`en`).",
    )
    format = StrictChoiceField(choices=audiomod.FORMATS, default="wav")
    params = ParamsField(
        required=False,
        help_text="speed, temperature, top_p, top_k, repetition_penalty, length_penalty, seed, do_sample, "
        "variability, sentence_silence, emotion",
    )
    text_format = StrictChoiceField(
        choices=markup.FORMATS,
        default=markup.TEXT,
        help_text="`text`: plain text, where the tags `<break>`, `<phoneme>`, `<sub>`, `<say-as>` and `<prosody>` "
        "may stand inline; `ssml`: the text is a whole SSML document (`<speak>`). Markup that is not well-formed is "
        "a 400 naming its line and column (docs/pronunciation.md).",
    )
    pronunciation_dictionary_locators = serializers.ListField(
        child=DictionaryLocatorSerializer(),
        required=False,
        max_length=3,
        help_text="Up to 3 of your pronunciation dictionaries, applied in order (the first rule for a word wins). "
        "Left out: your default dictionary, if you have one; an empty list: none. "
        "Another account's dictionary is a 404.",
    )


class StreamCreateSerializer(JobCreateSerializer):
    """A stream's formats are the ones that can be encoded while the engine speaks."""

    format = StrictChoiceField(choices=audiomod.STREAM_FORMATS, default="wav")


class JobSerializer(StrictModelSerializer):
    format = serializers.CharField(source="output_format")
    voice_id = serializers.UUIDField(allow_null=True)
    voice = serializers.CharField(source="voice_name")
    error = serializers.SerializerMethodField()
    urls = serializers.SerializerMethodField()
    realtime_factor = serializers.FloatField(allow_null=True)
    instructions = serializers.CharField(
        help_text="What the client asked for beyond params, kept as sent (OpenAI's instructions); usually empty"
    )
    audio_expired = serializers.BooleanField(
        help_text="The audio was deleted by the server's retention policy (AUDIO_RETENTION_DAYS): the job stays "
        "in history and its audio download answers 410 (docs/privacy.md)."
    )
    status_note = serializers.CharField(
        help_text="What the job waited for beyond its turn, e.g. its engine's model loading again after idle "
        "unloading (ENGINE_IDLE_UNLOAD_SECONDS); usually empty"
    )

    class Meta:
        model = SynthesisJob
        fields = (
            "id",
            "status",
            "progress",
            "status_note",
            "mode",
            "voice",
            "voice_id",
            "engine",
            "language",
            "text",
            "text_format",
            "status_note",
            "params",
            "format",
            "instructions",
            "word_count",
            "character_count",
            "attempts",
            "audio_duration",
            "audio_expired",
            "sample_rate",
            "time_to_first_audio",
            "synthesis_seconds",
            "realtime_factor",
            "queued_at",
            "started_at",
            "finished_at",
            "error",
            "urls",
        )
        read_only_fields = fields

    def get_error(self, job: SynthesisJob) -> dict | None:
        return {"code": job.error_code, "message": job.error_message} if job.status == job.Status.FAILED else None

    def get_urls(self, job: SynthesisJob) -> dict:
        base = f"/api/v1/synthesis/{job.pk}"
        urls = {"self": base, "cancel": f"{base}/cancel", "events": "/ws/events/"}
        if job.status == job.Status.COMPLETED:
            if not job.audio_expired:
                urls["audio"] = f"{base}/audio"
            urls["timings"] = f"{base}/timings"
            urls["captions"] = f"{base}/captions?format=vtt"
        return urls


class WordTimingSerializer(StrictSerializer):
    text = serializers.CharField(help_text="The word as written, with punctuation written against it.")
    start = serializers.FloatField(help_text="Seconds from the start of the audio.")
    end = serializers.FloatField(help_text="Seconds from the start of the audio.")


class TimingsSerializer(StrictSerializer):
    method = serializers.ChoiceField(
        choices=["exact", "estimated"],
        help_text="exact: every word from the engine's own phoneme alignment (Piper); estimated: sentence "
        "boundaries exact, words inside a sentence estimated from their share of it and the pauses in the audio "
        "(XTTS, and jobs made before timings were stored).",
    )
    words = WordTimingSerializer(many=True)


class BulkDeleteSerializer(StrictSerializer):
    ids = serializers.ListField(child=StrictUUIDField(), min_length=1, max_length=500)


class BulkDeletedSerializer(StrictSerializer):
    deleted = serializers.IntegerField(help_text="How many of the given jobs were yours and are now deleted.")


class UsageFiguresSerializer(StrictSerializer):
    characters = serializers.IntegerField()
    words = serializers.IntegerField()
    audio_seconds = serializers.FloatField()
    jobs = serializers.IntegerField()
    failures = serializers.IntegerField()


class UsageGroupSerializer(UsageFiguresSerializer):
    key = serializers.CharField(
        help_text="The day (YYYY-MM-DD), the key's prefix (\"session\" for the dashboard), or the voice's name."
    )


class QuotaSerializer(StrictSerializer):
    limit = serializers.IntegerField(help_text="Characters per calendar month (UTC).")
    used = serializers.IntegerField(help_text="Characters billed or reserved by running jobs this month.")
    remaining = serializers.IntegerField()
    resets_at = serializers.DateTimeField()


# `from` is a Python keyword, so the usage body is declared inline (schema only).
UsageSerializer = inline_serializer(
    name="Usage",
    fields={
        "from": serializers.DateTimeField(allow_null=True, help_text="Start of the period (inclusive), or null."),
        "to": serializers.DateTimeField(allow_null=True, help_text="End of the period (exclusive), or null."),
        "group_by": serializers.ChoiceField(choices=["day", "key", "voice"]),
        "totals": UsageFiguresSerializer(),
        "groups": UsageGroupSerializer(many=True),
        "quota": QuotaSerializer(),
    },
)
