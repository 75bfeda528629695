"""OpenAI-compatible API (docs/compatibility.md "OpenAI-compatible endpoint"): `POST /v1/audio/speech`
(with OpenAI's current options: docs/compatibility.md "OpenAI's current speech API"),
`GET /v1/audio/voices`, `GET /v1/models`, and custom voices with consent
(docs/compatibility.md "Custom voices"), so that the official `openai` client and the
tools built on it work against Speaker unchanged, on synthesis' stream jobs and voices'
cloning services."""
