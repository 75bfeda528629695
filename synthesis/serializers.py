from __future__ import annotations

from rest_framework import serializers

from synthesis import audio as audiomod
from synthesis.models import SynthesisJob


class JobCreateSerializer(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=False, help_text="Text to speak. Emotion tags like `(happy)` switch the style.")
    voice = serializers.CharField(help_text="A built-in voice name (e.g. `joe`) or the id or name of one of your voices.")
    language = serializers.CharField(required=False, allow_null=True, help_text="Defaults to the voice's language.")
    format = serializers.ChoiceField(choices=audiomod.FORMATS, default="wav")
    params = serializers.DictField(
        required=False,
        help_text="speed, temperature, top_p, top_k, repetition_penalty, length_penalty, seed, do_sample, "
        "variability, sentence_silence, emotion",
    )


class JobSerializer(serializers.ModelSerializer):
    format = serializers.CharField(source="output_format")
    voice_id = serializers.UUIDField(allow_null=True)
    voice = serializers.CharField(source="voice_name")
    error = serializers.SerializerMethodField()
    urls = serializers.SerializerMethodField()
    realtime_factor = serializers.FloatField(allow_null=True)

    class Meta:
        model = SynthesisJob
        fields = (
            "id", "status", "progress", "mode", "voice", "voice_id", "engine", "language", "text", "params", "format",
            "word_count", "character_count", "attempts", "audio_duration", "sample_rate", "time_to_first_audio",
            "synthesis_seconds", "realtime_factor", "queued_at", "started_at", "finished_at", "error", "urls",
        )
        read_only_fields = fields

    def get_error(self, job: SynthesisJob) -> dict | None:
        return {"code": job.error_code, "message": job.error_message} if job.status == job.Status.FAILED else None

    def get_urls(self, job: SynthesisJob) -> dict:
        base = f"/api/v1/synthesis/{job.pk}"
        urls = {"self": base, "cancel": f"{base}/cancel", "events": "/ws/events/"}
        if job.status == job.Status.COMPLETED:
            urls["audio"] = f"{base}/audio"
        return urls


class BulkDeleteSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=500)
