"""The speech library: engines, text splitting and tags, audio encode/decode, params,
prosody. Django-free; importing it loads no model and no torch (docs/ARCHITECTURE.md)."""
