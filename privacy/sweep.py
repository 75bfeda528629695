"""What the engine workers' periodic sweep does for people's data (engine_host.worker):
build queued exports, delete the expired ones, and delete generated audio past
AUDIO_RETENTION_DAYS (synthesis.retention)."""

from __future__ import annotations

import logging

from privacy.exports import export_build, export_claim_next, exports_purge
from synthesis.retention import audio_retention_sweep

logger = logging.getLogger("speaker.privacy")


def data_retention_sweep() -> tuple[int, int]:
    """Expired exports and audio past its retention deleted; returns (exports, jobs)."""
    exports = exports_purge()
    jobs = audio_retention_sweep()
    if exports or jobs:
        logger.info("retention sweep: %d export(s) and the audio of %d job(s) deleted", exports, jobs)
    return exports, jobs


def export_build_next(*, worker_id: str) -> bool:
    """Claim and build one queued export; False when none waits."""
    export = export_claim_next(worker_id=worker_id)
    if export is None:
        return False
    export_build(export=export, worker_id=worker_id)
    return True
