from __future__ import annotations

from rest_framework import serializers

from core.serializer_fields import StrictBooleanField, StrictCharField
from core.serializers import ModelSerializer as StrictModelSerializer
from core.serializers import Serializer as StrictSerializer
from privacy.models import DataExport


class ExportCreateSerializer(StrictSerializer):
    include_audio = StrictBooleanField(
        default=False, help_text="Add the audio of every generation in your history (a bigger file)."
    )


class ExportSerializer(StrictModelSerializer):
    download_url = serializers.SerializerMethodField(
        help_text="Where to download the zip while `status` is ready (your session or key); null otherwise."
    )

    class Meta:
        model = DataExport
        fields = (
            "id",
            "status",
            "include_audio",
            "size_bytes",
            "error_message",
            "created_at",
            "finished_at",
            "expires_at",
            "download_url",
        )
        read_only_fields = fields

    def get_download_url(self, export: DataExport) -> str | None:
        if export.status != DataExport.Status.READY:
            return None
        return f"/api/v1/account/exports/{export.pk}/download"


class EraseSerializer(StrictSerializer):
    password = StrictCharField(
        max_length=4096, trim_whitespace=False, help_text="Your current password: erasing asks who you are again."
    )
    confirm_username = StrictCharField(
        max_length=150, trim_whitespace=False, help_text="Your username, typed exactly, to confirm."
    )
