"""The top layer's engine side: the worker loop, its hosting (embedded, runengine,
in-process streams) and the stream relays (docs/ARCHITECTURE.md)."""
