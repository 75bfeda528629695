from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializer_fields import LanguageField, StrictCharField
from core.serializers import ModelSerializer as StrictModelSerializer
from core.serializers import Serializer as StrictSerializer
from productions import assembly as assemblymod
from productions.models import Chapter, Production, ProductionSegment
from productions.selectors import chapter_list, production_chapters_embedded
from productions.services import production_progress, production_text_from_upload, segment_payload
from synthesis.serializers import DictionaryLocatorSerializer, ParamsField
from voices.selectors import spoken_languages

TEXT_HELP = (
    "The text (or send `file`): at least one letter or digit outside emotion tags. Markdown `#`/`##` headings start "
    "chapters; `[voice: Name]` switches the speaker for what follows (on a heading line: that chapter's voice); "
    "emotion tags like `(happy)` work as elsewhere."
)
FILE_HELP = "A UTF-8 .txt or .md file (another kind, or text that is not UTF-8, is a 415; an empty one a 422)."


class _ProductionFields(StrictSerializer):
    voice = StrictCharField(
        help_text="The default voice: a built-in voice name (e.g. `joe`) or the id or name of one of yours."
    )
    title = StrictCharField(required=False, allow_blank=True, max_length=200)
    language = LanguageField(
        languages=spoken_languages,
        component="SpokenLanguage",
        required=False,
        allow_null=True,
        help_text="Default: each voice's own language. One this server's engines speak.",
    )
    pronunciation_dictionary_locators = serializers.ListField(
        child=DictionaryLocatorSerializer(),
        required=False,
        max_length=3,
        help_text="Up to 3 of your pronunciation dictionaries for every segment, applied in order (named once, "
        "kept for regenerations). Left out: your default dictionary, if you have one.",
    )


class ProductionCreateSerializer(_ProductionFields):
    """What POST /api/v1/productions reads, JSON or multipart: `text` or `file`, one of
    the two. The schema shows each body with what it must carry (below)."""

    text = StrictCharField(required=False, trim_whitespace=False, allow_blank=True, help_text=TEXT_HELP)
    # An empty file is well-formed: refused for its meaning (422) where it is read.
    file = serializers.FileField(required=False, allow_empty_file=True, help_text=FILE_HELP)
    params = ParamsField(required=False, help_text="Synthesis params for every segment (as POST /api/v1/synthesis).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_text = bool(attrs.get("text"))
        if has_text == ("file" in attrs):
            raise serializers.ValidationError(
                {"text": ["Send the text as `text` (JSON or form) or as an uploaded `file`, one of the two."]}
            )
        upload = attrs.pop("file", None)
        if upload is not None:
            text = production_text_from_upload(name=upload.name or "", size=upload.size or 0, chunks=upload.chunks())
            # An uploaded text meets the rule of the JSON `text` (no NUL, no lone
            # surrogates: the field's own validators), refused here, before anything is billed.
            try:
                attrs["text"] = self.fields["text"].run_validation(text)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"file": exc.detail}) from exc
        return attrs


class ProductionTextSerializer(_ProductionFields):
    """The JSON body, for the schema: the text itself."""

    text = StrictCharField(trim_whitespace=False, help_text=TEXT_HELP)
    params = ParamsField(required=False, help_text="Synthesis params for every segment (as POST /api/v1/synthesis).")


class ProductionUploadSerializer(_ProductionFields):
    """The multipart body, for the schema: the text as a file. Dictionary locators are
    objects, which a form cannot carry: an upload gets the account's default dictionary."""

    file = serializers.FileField(allow_empty_file=True, help_text=FILE_HELP)
    pronunciation_dictionary_locators = None  # type: ignore[assignment]


class SegmentRegenerateSerializer(StrictSerializer):
    text = StrictCharField(
        required=False,
        trim_whitespace=False,
        help_text="New text for this segment only; omitted: the same text with a new seed.",
    )
    seed = serializers.IntegerField(
        required=False, min_value=0, max_value=2**63 - 1, help_text="Omitted with no text: a random one."
    )


class ChapterSerializer(StrictModelSerializer):
    duration = serializers.SerializerMethodField()
    urls = serializers.SerializerMethodField()

    class Meta:
        model = Chapter
        fields = ("index", "title", "duration", "urls")
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_duration(self, chapter: Chapter) -> float | None:
        assembly = chapter.production.assembly or {}
        return (assembly.get("chapter_durations") or {}).get(str(chapter.index))

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_urls(self, chapter: Chapter) -> dict[str, str]:
        if chapter.production.status != Production.Status.COMPLETED:
            return {}
        return {"audio": f"/api/v1/productions/{chapter.production_id}/chapters/{chapter.index}/audio"}


class ProductionSerializer(StrictModelSerializer):
    voice = serializers.CharField(source="voice_name")
    segments_done = serializers.SerializerMethodField()
    segments_failed = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    eta_seconds = serializers.SerializerMethodField()
    loudness_lufs = serializers.SerializerMethodField()
    chapters = serializers.SerializerMethodField()
    chapters_total = serializers.SerializerMethodField()
    error = serializers.CharField(source="error_message")
    urls = serializers.SerializerMethodField()

    class Meta:
        model = Production
        fields = (
            "id",
            "title",
            "status",
            "voice",
            "language",
            "params",
            "character_count",
            "word_count",
            "segments_total",
            "segments_done",
            "segments_failed",
            "progress",
            "eta_seconds",
            "audio_duration",
            "loudness_lufs",
            "chapters",
            "chapters_total",
            "created_at",
            "finished_at",
            "error",
            "urls",
        )
        read_only_fields = fields

    def _progress(self, production: Production) -> Any:
        cache = self.context.setdefault("_progress", {})
        if production.pk not in cache:
            cache[production.pk] = production_progress(production=production)
        return cache[production.pk]

    @extend_schema_field(ChapterSerializer(many=True))
    def get_chapters(self, production: Production) -> list[dict[str, Any]]:
        """The first CHAPTERS_EMBEDDED chapters; every one is in GET …/chapters (paginated)."""
        return ChapterSerializer(production_chapters_embedded(production=production), many=True).data

    def get_chapters_total(self, production: Production) -> int:
        return chapter_list(production=production).count()

    def get_segments_done(self, production: Production) -> int:
        return self._progress(production).done

    def get_segments_failed(self, production: Production) -> int:
        return self._progress(production).failed

    def get_progress(self, production: Production) -> float:
        return self._progress(production).to_dict()["progress"]

    @extend_schema_field(
        serializers.FloatField(allow_null=True, help_text="Estimated seconds left (null: not known yet).")
    )
    def get_eta_seconds(self, production: Production) -> float | None:
        return self._progress(production).to_dict()["eta_seconds"]

    @extend_schema_field(
        serializers.FloatField(allow_null=True, help_text="Integrated loudness of the whole (EBU R128 target -23).")
    )
    def get_loudness_lufs(self, production: Production) -> float | None:
        value = (production.assembly or {}).get("loudness_lufs")
        return round(value, 2) if isinstance(value, float) else None

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_urls(self, production: Production) -> dict[str, str]:
        base = f"/api/v1/productions/{production.pk}"
        urls = {
            "self": base,
            "chapters": f"{base}/chapters",
            "segments": f"{base}/segments",
            "pause": f"{base}/pause",
            "resume": f"{base}/resume",
            "cancel": f"{base}/cancel",
            "events": "/ws/events/",
        }
        if production.status == Production.Status.COMPLETED:
            urls["audio"] = f"{base}/audio"
            urls["captions"] = f"{base}/captions"
        return urls


class SegmentSerializer(StrictModelSerializer):
    chapter = serializers.IntegerField(source="chapter.index")
    voice = serializers.CharField(source="voice_name")
    status = serializers.SerializerMethodField()
    audio_duration = serializers.SerializerMethodField()
    audio_url = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = ProductionSegment
        fields = (
            "index",
            "chapter",
            "text",
            "voice",
            "character_count",
            "revision",
            "seed",
            "status",
            "audio_duration",
            "audio_url",
            "error",
        )
        read_only_fields = fields

    @extend_schema_field(
        serializers.ChoiceField(choices=["pending", "queued", "running", "completed", "failed", "cancelled"])
    )
    def get_status(self, segment: ProductionSegment) -> str:
        return segment_payload(segment)["status"]

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_audio_duration(self, segment: ProductionSegment) -> float | None:
        return segment.job.audio_duration if segment.job is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_audio_url(self, segment: ProductionSegment) -> str | None:
        return segment_payload(segment)["audio_url"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error(self, segment: ProductionSegment) -> str | None:
        job = segment.job
        return job.error_message if job is not None and job.status == job.Status.FAILED else None


FORMAT_CHOICES = list(assemblymod.FORMATS)
