"""Engine setup: installing what an engine needs to run and reporting whether it can
(docs/ARCHITECTURE.md, "Engines"). Today the XTTS v2 checkpoint: `services.py` (licence
acceptance, audit log, progress events, the voices waiting for the engine queued again),
`manage.py xtts` and the staff Engines page (dashboard) call it. An app layer package
beside synthesis: it builds on voices and the engine registry, and the top layer calls it."""
