"""Files follow their rows: however a sample or voice row goes (the API, the admin, a
user deleted with everything they own), its files are removed once the deletion has
committed, and kept if it rolls back."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from core import media
from voices.models import Voice, VoiceConsent, VoiceSample


@receiver(post_delete, sender=VoiceSample, dispatch_uid="voices.sample_file_cleanup")
def _remove_sample_file(sender: Any, instance: VoiceSample, **kwargs: Any) -> None:
    try:
        path = instance.path
    except ValueError:  # a path outside MEDIA_ROOT is never touched
        return
    transaction.on_commit(lambda: media.unlink_quietly(path))


@receiver(post_delete, sender=Voice, dispatch_uid="voices.voice_dir_cleanup")
def _remove_voice_dir(sender: Any, instance: Voice, **kwargs: Any) -> None:
    if not instance.is_builtin:
        voice_id = instance.pk
        transaction.on_commit(lambda: media.remove_voice_dir(voice_id))


@receiver(post_delete, sender=VoiceConsent, dispatch_uid="voices.consent_file_cleanup")
def _remove_consent_file(sender: Any, instance: VoiceConsent, **kwargs: Any) -> None:
    try:
        path = instance.path
    except ValueError:  # a path outside MEDIA_ROOT is never touched
        return
    transaction.on_commit(lambda: media.unlink_quietly(path))
