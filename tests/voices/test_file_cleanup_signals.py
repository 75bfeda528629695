"""voices.signals: files follow their rows, whatever deletes them."""

from __future__ import annotations

import pytest
from django.conf import settings

from voices.models import ConsentRecord, Voice, VoiceSample

from .conftest import media_files

pytestmark = pytest.mark.usefixtures("piper_only_engines")


def test_deleting_the_owner_removes_their_sample_files(create_voice, owner, django_capture_on_commit_callbacks) -> None:
    assert create_voice().status_code == 201
    assert len(media_files(settings.MEDIA_ROOT)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        owner.delete()

    assert not Voice.objects.filter(is_builtin=False).exists()
    assert media_files(settings.MEDIA_ROOT) == []
    assert ConsentRecord.objects.get().user is None  # the evidence stays


def test_a_deletion_that_rolls_back_keeps_the_files(create_voice, django_capture_on_commit_callbacks) -> None:
    from django.db import transaction

    assert create_voice().status_code == 201

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                VoiceSample.objects.all().delete()
                raise RuntimeError("roll back")
        except RuntimeError:
            pass

    assert callbacks == []
    assert len(media_files(settings.MEDIA_ROOT)) == 1
