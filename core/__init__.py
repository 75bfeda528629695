"""Leaf modules of the platform: HTTP helpers, errors, request context, events, settings
helpers. They import no app (docs/ARCHITECTURE.md, "Layers")."""
