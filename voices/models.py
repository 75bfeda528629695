"""Voices (built-in and cloned), their reference samples, and the consent behind them."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from speech.text import DEFAULT_EMOTION, EMOTIONS

# What a caller attests with `consent=true`. Stored verbatim on every ConsentRecord so
# that a later rewording never changes what someone agreed to.
CONSENT_STATEMENT = (
    "I confirm that the person whose voice is in these samples has given explicit consent "
    "for it to be recorded, uploaded to Speaker and cloned, and that the cloned voice will "
    "only be used as that person agreed."
)

# What the consent record of a blended voice says (voices.services.blends): a blend
# rests on its sources' own consent, each named in the record with its consent records.
BLEND_CONSENT_STATEMENT = (
    "I confirm that this voice is a blend of the voices listed with it, each either my own cloned voice, made "
    "under the consent recorded for it (listed), or a built-in speaker, and that the blended voice will only be "
    "used as every person whose voice is in it agreed."
)


class VoiceQuerySet(models.QuerySet["Voice"]):
    def visible_to(self, user: object) -> VoiceQuerySet:
        """Built-in voices plus the user's own: everything a user may read."""
        if not getattr(user, "is_authenticated", False):
            return self.filter(is_builtin=True)
        return self.filter(models.Q(is_builtin=True) | models.Q(owner=user))

    def owned_by(self, user: object) -> VoiceQuerySet:
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(owner=user, is_builtin=False)


class Voice(models.Model):
    class Status(models.TextChoices):
        PROCESSING = "processing"
        READY = "ready"
        PENDING_ENGINE = "pending_engine"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="voices"
    )  # None for built-in voices
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, max_length=1000)
    language = models.CharField(max_length=16)  # primary language code, e.g. "en", "zh-cn"
    languages = models.JSONField(default=list, blank=True)  # every language it can speak
    engine = models.CharField(max_length=32)  # "piper" for its built-ins, "xtts" for clones
    is_builtin = models.BooleanField(default=False)
    builtin_key = models.CharField(max_length=100, blank=True)  # the engine's own voice name
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING, db_index=True)
    status_message = models.TextField(blank=True)
    # Engine.prepare_voice output: one blob holding every emotion label's conditioning.
    conditioning = models.BinaryField(null=True, blank=True, editable=False)
    conditioning_engine = models.CharField(max_length=32, blank=True)
    conditioned_at = models.DateTimeField(null=True, blank=True)
    # Bumped whenever the samples change: conditioning made from an older version is stale.
    samples_version = models.PositiveIntegerField(default=0)
    # The voice's default generation parameters (a subset of SynthesisParams' keys): a
    # request's own values win over them, they win over the engine's defaults
    # (synthesis.services.job_params_resolve; docs/voice-cloning.md "Voice settings").
    settings = models.JSONField(default=dict, blank=True)
    # ElevenLabs' voice settings that no engine knob matches (similarity_boost, style,
    # use_speaker_boost), kept so that an ElevenLabs client reads back what it saved.
    elevenlabs_settings = models.JSONField(default=dict, blank=True)
    # A blended voice's sources as they were when it was made (voices.services.blends):
    # [{"voice_id", "name", "builtin", "weight", "consent_record_ids"}]; empty otherwise.
    # By value, so deleting a source leaves the record (and the blend's own conditioning).
    blended_from = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-is_builtin", "name", "created_at"]
        indexes = [models.Index(fields=["owner", "name"]), models.Index(fields=["is_builtin", "language"])]
        constraints = [
            models.UniqueConstraint(
                fields=["engine", "builtin_key"],
                condition=models.Q(is_builtin=True),
                name="unique_builtin_voice_per_engine",
            ),
            # Voices can be named in a synthesis request, so a name must say one voice.
            models.UniqueConstraint(
                "owner",
                Lower("name"),
                condition=models.Q(is_builtin=False),
                name="unique_voice_name_per_owner",
            ),
            models.CheckConstraint(
                condition=models.Q(is_builtin=True, owner__isnull=True)
                | models.Q(is_builtin=False, owner__isnull=False),
                name="builtin_voices_have_no_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({'built-in ' if self.is_builtin else ''}{self.engine}, {self.status})"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    @property
    def is_blend(self) -> bool:
        return bool(self.blended_from)


# What an account accepts once, in the dashboard or with POST /api/v1/cloning-attestation,
# before it may clone through APIs that carry no consent field of their own (the
# ElevenLabs-compatible POST /v1/voices/add). Stored verbatim on every attestation.
CLONING_ATTESTATION_STATEMENT = (
    "For every voice I clone through an API that has no consent field of its own (such as "
    "the ElevenLabs-compatible /v1/voices/add), I confirm that the person whose voice is in "
    "the samples has given explicit consent for it to be recorded, uploaded to Speaker and "
    "cloned, and that the cloned voice will only be used as that person agreed. Each such "
    "upload is recorded with the hashes of its samples under this attestation."
)


class CloningAttestation(models.Model):
    """An account's standing attestation for cloning without a per-request consent field:
    who, when, from where, and what was accepted. Each clone made under it writes a
    ConsentRecord (with its sample hashes) that points back here. Revoking sets
    `revoked_at`; the row stays, as evidence."""

    class Via(models.TextChoices):
        DASHBOARD = "dashboard"
        API = "api"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="cloning_attestations"
    )
    username = models.CharField(max_length=150)  # kept when the user is deleted
    accepted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    via = models.CharField(max_length=16, choices=Via.choices)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    api_key_prefix = models.CharField(max_length=32, blank=True)
    statement = models.TextField()

    class Meta:
        ordering = ["-accepted_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"cloning attestation by {self.username} at {self.accepted_at:%Y-%m-%d %H:%M}"


class VoiceConsent(models.Model):
    """A recording of the speaker saying they consent to their voice being cloned (the
    OpenAI-compatible /v1/audio/voice_consents). Decoded, validated and stored like a
    voice sample; a voice cloned under it names it in its ConsentRecord, so it cannot be
    deleted while such a voice exists (docs/compatibility.md, "Custom voices")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="voice_consents")
    name = models.CharField(max_length=100)
    language = models.CharField(max_length=35)  # the BCP 47 tag as given, e.g. "en-US"
    # Relative to MEDIA_ROOT, always a server-made name: voices/consents/<id>.wav
    file = models.CharField(max_length=255, unique=True)
    duration_seconds = models.FloatField()
    speech_seconds = models.FloatField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField()  # of the stored file
    sha256 = models.CharField(max_length=64, db_index=True)  # of the bytes as uploaded
    original_format = models.CharField(max_length=32)
    original_name = models.CharField(max_length=255, blank=True)  # shown only, never used as a path
    size_bytes = models.PositiveIntegerField(default=0)
    username = models.CharField(max_length=150)  # the uploader, kept in the audit log too
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    api_key_prefix = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"voice consent {self.name!r} by {self.username}"

    @property
    def path(self) -> Path:
        """Absolute path, checked to stay inside MEDIA_ROOT."""
        root = Path(settings.MEDIA_ROOT).resolve()
        path = (root / self.file).resolve()
        if not path.is_relative_to(root):
            raise ValueError(f"consent path escapes MEDIA_ROOT: {self.file!r}")
        return path


class ConsentRecord(models.Model):
    """The attestation a user made when uploading samples: who, when, from where, what
    they attested, and exactly which audio (sha256 of each uploaded file). Kept when the
    voice or the user is deleted: it is the evidence."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="consent_records"
    )
    username = models.CharField(max_length=150)  # kept when the user is deleted
    voice = models.ForeignKey(Voice, null=True, on_delete=models.SET_NULL, related_name="consent_records")
    voice_name = models.CharField(max_length=100)  # kept when the voice is deleted
    attested_at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    api_key_prefix = models.CharField(max_length=32, blank=True)
    statement = models.TextField()
    sample_sha256 = models.JSONField(default=list)  # [hex digest of each uploaded file]
    # Set when the upload came through an API without a consent field (the ElevenLabs-
    # compatible one): the account's standing attestation it was made under.
    attestation = models.ForeignKey(
        CloningAttestation, null=True, blank=True, on_delete=models.PROTECT, related_name="consent_records"
    )
    # Set when the voice was cloned under a recorded consent (/v1/audio/voices): the
    # recording, and its hash, kept here should the recording be deleted with the voice gone.
    voice_consent = models.ForeignKey(
        VoiceConsent, null=True, blank=True, on_delete=models.SET_NULL, related_name="consent_records"
    )
    voice_consent_sha256 = models.CharField(max_length=64, blank=True)
    # Set for a blended voice: the voices it was blended from and the consent records
    # each rests on (the same list as Voice.blended_from), kept when any of them goes.
    blend_sources = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-attested_at"]

    def __str__(self) -> str:
        return f"consent by {self.username} for {self.voice_name} at {self.attested_at:%Y-%m-%d %H:%M}"


class VoiceSample(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    voice = models.ForeignKey(Voice, on_delete=models.CASCADE, related_name="samples")
    # Relative to MEDIA_ROOT, always a server-made name: voices/<voice_id>/<uuid>.wav
    file = models.CharField(max_length=255, unique=True)
    emotion = models.CharField(max_length=16, choices=[(e, e) for e in EMOTIONS], default=DEFAULT_EMOTION)
    duration_seconds = models.FloatField()
    speech_seconds = models.FloatField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField()  # of the stored file
    sha256 = models.CharField(max_length=64, db_index=True)  # of the bytes as uploaded
    original_format = models.CharField(max_length=32)  # e.g. "wav/pcm_16", "ogg/opus", "webm/opus"
    original_name = models.CharField(max_length=255, blank=True)  # shown only, never used as a path
    size_bytes = models.PositiveIntegerField(default=0)  # of the upload
    consent = models.ForeignKey(ConsentRecord, on_delete=models.PROTECT, related_name="samples")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"sample {self.id} of {self.voice_id} ({self.emotion})"

    @property
    def path(self) -> Path:
        """Absolute path, checked to stay inside MEDIA_ROOT."""
        root = Path(settings.MEDIA_ROOT).resolve()
        path = (root / self.file).resolve()
        if not path.is_relative_to(root):
            raise ValueError(f"sample path escapes MEDIA_ROOT: {self.file!r}")
        return path
