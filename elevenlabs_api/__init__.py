"""ElevenLabs-compatible API (docs/compatibility.md "ElevenLabs-compatible API"): the routes the official
`elevenlabs` SDKs call, on Speaker's voices, jobs, quota and history."""
