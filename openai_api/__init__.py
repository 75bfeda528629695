"""OpenAI-compatible API (docs/compatibility.md "OpenAI-compatible endpoint"): `POST /v1/audio/speech`,
`GET /v1/audio/voices` and `GET /v1/models`, so that the official `openai` client and the
tools built on it work against Speaker unchanged, on synthesis' stream jobs."""
