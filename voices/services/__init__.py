"""Voice business logic, one module per sub-domain (docs/ARCHITECTURE.md, "Layers"):

    samples.py       sample file intake: copy, check, normalise, store with its rows; consent
    voices.py        cloned voices: create, update, delete; add and delete samples
    conditioning.py  computing a voice's conditioning (the engine worker's side)
    catalogue.py     the built-in voices, synced at process start-up, never on a read
    attestation.py   the account's standing cloning attestation (accept, show, withdraw)
    consents.py      recorded consents (OpenAI's voice consents) and voices cloned under one
    voice_settings.py a voice's default generation parameters (checked merge patches)
    blends.py        blended voices: a new voice from the weighted conditioning of 2-4 others

Resolving the voice a synthesis request names is a read: voices.selectors. The public
services of the first four are re-exported here so callers write
`from voices.services import voice_create`; attestation and consents are imported from
their modules (so are voice_settings and blends).
Switching cloning on (the XTTS checkpoint installer) is engine_setup.services.
"""

from voices.services.catalogue import builtin_voices_sync, builtin_voices_sync_at_startup
from voices.services.conditioning import voice_prepare, voice_requeue_pending
from voices.services.voices import voice_create, voice_delete, voice_sample_delete, voice_samples_add, voice_update

__all__ = [
    "builtin_voices_sync",
    "builtin_voices_sync_at_startup",
    "voice_create",
    "voice_delete",
    "voice_prepare",
    "voice_requeue_pending",
    "voice_sample_delete",
    "voice_samples_add",
    "voice_update",
]
