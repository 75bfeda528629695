"""People's data exports (docs/privacy.md, "Export"): asked for by the owner
(export_request), built by an engine worker's periodic sweep (export_claim_next, then
export_build, in the worker's own thread), downloadable by the owner for EXPORT_LIFETIME,
then deleted by the sweep (exports_purge)."""

from __future__ import annotations

import json
import logging
import zipfile
from datetime import datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core import media
from core.errors import Conflict
from core.wakeup import wake_worker
from monitoring.services import audit_record
from privacy.collect import ExportFile, export_contents
from privacy.models import DataExport

logger = logging.getLogger("speaker.privacy")

Status = DataExport.Status

EXPORT_LIFETIME = timedelta(hours=24)
# A build whose worker died is started again after this long (a build takes seconds to
# minutes: it copies files already on disk).
BUILD_STALE_AFTER = timedelta(hours=1)
# Failed exports are kept this long so their owner sees why, then deleted.
FAILED_KEPT = timedelta(hours=24)


def export_request(*, user: User, include_audio: bool) -> DataExport:
    """Queue an export of everything of `user`; 409 while another one is being made.
    The workers' next sweep builds it (woken now)."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one request at a time per account
        pending = DataExport.objects.filter(owner=user, status__in=DataExport.ACTIVE).first()
        if pending is not None:
            raise Conflict(
                "An export of your data is already being made; download it when it is ready.",
                details={"export_id": str(pending.pk)},
            )
        export = DataExport.objects.create(owner=user, include_audio=include_audio)
        audit_record(
            action="data_export.requested",
            user=user,
            target_type="data_export",
            target_id=str(export.pk),
            details={"include_audio": include_audio},
        )
        transaction.on_commit(wake_worker)
    return export


def export_claim_next(*, worker_id: str, now: datetime | None = None) -> DataExport | None:
    """Take the oldest queued export for `worker_id` (a conditional update: two workers
    never build the same one), first putting back builds whose worker died."""
    now = now or timezone.now()
    DataExport.objects.filter(status=Status.BUILDING, started_at__lt=now - BUILD_STALE_AFTER).update(
        status=Status.QUEUED, builder=""
    )
    for export_id in (
        DataExport.objects.filter(status=Status.QUEUED).order_by("created_at").values_list("pk", flat=True)[:5]
    ):
        if DataExport.objects.filter(pk=export_id, status=Status.QUEUED).update(
            status=Status.BUILDING, builder=worker_id, started_at=now
        ):
            return DataExport.objects.select_related("owner").get(pk=export_id)
    return None


def export_build(*, export: DataExport, worker_id: str) -> DataExport | None:
    """Write the zip of a claimed export and make it downloadable; a failure is kept on
    the row with its message. Returns None when the export went meanwhile (its owner
    erased the account): the file written for it is removed."""
    relative = media.export_relative(owner_id=export.owner_id, export_id=export.pk)
    target = media.absolute(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = media.temp_beside(target)
    try:
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, item in export_contents(export.owner, include_audio=export.include_audio):
                if isinstance(item, ExportFile):
                    if item.path.is_file():
                        archive.write(item.path, name, compress_type=zipfile.ZIP_STORED)  # audio: already dense
                elif isinstance(item, str):
                    archive.writestr(name, item)
                else:
                    archive.writestr(name, json.dumps(item, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
        temp.replace(target)
    except Exception as exc:
        logger.exception("data export %s failed", export.pk)
        media.unlink_quietly(temp)
        DataExport.objects.filter(pk=export.pk, status=Status.BUILDING, builder=worker_id).update(
            status=Status.FAILED, finished_at=timezone.now(), error_message=f"{type(exc).__name__}: {exc}"
        )
        return DataExport.objects.filter(pk=export.pk).first()
    now = timezone.now()
    done = DataExport.objects.filter(pk=export.pk, status=Status.BUILDING, builder=worker_id).update(
        status=Status.READY,
        file=relative,
        size_bytes=target.stat().st_size,
        finished_at=now,
        expires_at=now + EXPORT_LIFETIME,
    )
    if not done:
        # Deleted (an erased account) or taken over by another worker after a stall.
        if not DataExport.objects.filter(pk=export.pk, file=relative).exists():
            media.unlink_quietly(target)
            media.remove_dir_if_empty(target.parent)
        return None
    return DataExport.objects.get(pk=export.pk)


def export_delete(*, export: DataExport) -> None:
    """Delete an export's row and its file."""
    if export.file:
        try:
            media.unlink_quietly(media.absolute(export.file))
        except ValueError:
            pass
    DataExport.objects.filter(pk=export.pk).delete()


def exports_purge(*, now: datetime | None = None) -> int:
    """Delete the exports past their lifetime (and failed ones after FAILED_KEPT), files
    first; returns how many went."""
    now = now or timezone.now()
    gone = DataExport.objects.filter(status=Status.READY, expires_at__lt=now) | DataExport.objects.filter(
        status=Status.FAILED, finished_at__lt=now - FAILED_KEPT
    )
    count = 0
    for export in list(gone[:500]):
        export_delete(export=export)
        if export.file:
            media.remove_dir_if_empty(media.absolute(export.file).parent)
        count += 1
    return count


def export_downloaded(*, export: DataExport) -> None:
    audit_record(
        action="data_export.downloaded", user=export.owner, target_type="data_export", target_id=str(export.pk)
    )
