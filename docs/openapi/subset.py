"""Regenerate docs/openapi/elevenlabs.json and docs/openapi/openai.json: the operations
Speaker serves, cut from the vendors' published OpenAPI documents with every schema they
reference, so that tests/web_platform/test_compat_fuzz_live.py fuzzes the compatible
routes against what the vendors' clients were generated from.

    python docs/openapi/subset.py elevenlabs path/to/elevenlabs-docs/fern/apis/api/openapi.json
    python docs/openapi/subset.py openai path/to/openai-openapi/openapi.json

The upstream files come from github.com/elevenlabs/elevenlabs-docs (fern/apis/api/openapi.json)
and github.com/openai/openai-openapi (openapi.json); pass the commit with --source-commit
so the subset says which one it was cut from. Only three edits are made, each so that the
document describes the wire Speaker answers on:
- ElevenLabs declares its `xi-api-key` header as an optional parameter of every operation;
  it becomes one `apiKey` security scheme (a fuzzer then sends the key instead of
  generating one, and checks that a request without it is refused).
- OpenAI's paths are relative to its `/v1` server; they are prefixed with `/v1` and the
  server is Speaker's root, as for ElevenLabs (whose paths already start with `/v1`, `/v2`).
- Operations Speaker does not serve, and the schemas only they reference, are left out.
- The vendors document only their success (and ElevenLabs its 422); the errors Speaker
  answers on these routes are added to every operation in the vendor's own error shape
  (`{"detail": {"status", "message"}}` for ElevenLabs, OpenAI's `ErrorResponse`), so a
  fuzzer checks that every refusal is a documented status with the family's body.
  GET /v1/models is one route for both families, told apart by the credentials: a
  request without any is refused in either shape, and both documents say so.
- ElevenLabs' streaming with-timestamps documents `application/json`; Speaker sends the
  same objects one per line as `application/x-ndjson` (what the SDKs read line by line),
  documented beside it; its audio routes document `audio/mpeg` only, and Speaker answers
  each `output_format` in its own type (elevenlabs_api/formats.py): those are documented
  beside it. OpenAI's speech documents `application/octet-stream` (and SSE); Speaker
  answers each `response_format` in its own audio type: those are documented beside it.
  OpenAI's `text/event-stream` schema is that of each event's JSON data; it becomes the
  event (`data`: a JSON text with that schema as its contentSchema), as SSE readers check it."""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# (method, path as published) for every operation Speaker serves (elevenlabs_api/urls.py,
# the OpenAI-compatible urls). Speaker's GET /v1/audio/voices and GET/DELETE
# /v1/audio/voices/{voice_id} have no published counterpart (OpenAI publishes only the POST
# that creates a voice): /openapi.json describes them.
OPERATIONS: dict[str, list[tuple[str, str]]] = {
    "elevenlabs": [
        ("post", "/v1/text-to-speech/{voice_id}"),
        ("post", "/v1/text-to-speech/{voice_id}/stream"),
        ("post", "/v1/text-to-speech/{voice_id}/with-timestamps"),
        ("post", "/v1/text-to-speech/{voice_id}/stream/with-timestamps"),
        ("get", "/v1/voices"),
        ("post", "/v1/voices/add"),
        ("get", "/v1/voices/{voice_id}"),
        ("delete", "/v1/voices/{voice_id}"),
        ("get", "/v2/voices"),
        ("get", "/v1/models"),
        ("get", "/v1/user"),
        ("get", "/v1/user/subscription"),
        ("get", "/v1/history"),
        ("get", "/v1/history/{history_item_id}"),
        ("delete", "/v1/history/{history_item_id}"),
        ("get", "/v1/history/{history_item_id}/audio"),
        ("post", "/v1/pronunciation-dictionaries/add-from-file"),
        ("post", "/v1/pronunciation-dictionaries/add-from-rules"),
        ("get", "/v1/pronunciation-dictionaries"),
        ("get", "/v1/pronunciation-dictionaries/{pronunciation_dictionary_id}"),
        ("post", "/v1/pronunciation-dictionaries/{pronunciation_dictionary_id}/add-rules"),
        ("post", "/v1/pronunciation-dictionaries/{pronunciation_dictionary_id}/remove-rules"),
        ("get", "/v1/pronunciation-dictionaries/{dictionary_id}/{version_id}/download"),
        ("get", "/v1/voices/settings/default"),
        ("get", "/v1/voices/{voice_id}/settings"),
        ("post", "/v1/voices/{voice_id}/settings/edit"),
    ],
    "openai": [
        ("post", "/audio/speech"),
        ("get", "/models"),
        ("post", "/audio/voice_consents"),
        ("get", "/audio/voice_consents"),
        ("get", "/audio/voice_consents/{consent_id}"),
        ("post", "/audio/voice_consents/{consent_id}"),
        ("delete", "/audio/voice_consents/{consent_id}"),
        ("post", "/audio/voices"),
    ],
}
# The refusals Speaker answers on every compatible route (core/errors.py, the families'
# error renderers): bad input, credentials, scope, not found, method, conflict (an engine
# that is not loaded), size, media type, meaning, rate limit, an engine that is busy.
ERROR_STATUSES = ("400", "401", "403", "404", "405", "409", "413", "415", "422", "429", "503")
ELEVENLABS_ERROR = {
    "type": "object",
    "description": "Speaker's refusals on the ElevenLabs-compatible routes, in ElevenLabs' shape.",
    "properties": {
        "detail": {
            "type": "object",
            "properties": {"status": {"type": "string"}, "message": {"type": "string"}},
            "required": ["status", "message"],
        }
    },
    "required": ["detail"],
}
OPENAI_ERROR = {
    "type": "object",
    "description": "OpenAI's error body, as OpenAI's published document describes it (ErrorResponse, Error).",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "message": {"type": "string"},
                "param": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "type": {"type": "string"},
            },
            "required": ["type", "message", "param", "code"],
        }
    },
    "required": ["error"],
}
PATH_PREFIX = {"elevenlabs": "", "openai": "/v1"}
TITLES = {
    "elevenlabs": "ElevenLabs-compatible API served by Speaker",
    "openai": "OpenAI-compatible API served by Speaker",
}
SOURCES = {
    "elevenlabs": "https://github.com/elevenlabs/elevenlabs-docs/blob/{commit}/fern/apis/api/openapi.json",
    "openai": "https://github.com/openai/openai-openapi/blob/{commit}/openapi.json",
}


def _refs(value: Any) -> set[str]:
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/"):
                found.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _without_xi_api_key(operation: dict[str, Any]) -> dict[str, Any]:
    parameters = [p for p in operation.get("parameters", []) if p.get("name", "").lower() != "xi-api-key"]
    operation = {**operation, "parameters": parameters}
    if not parameters:
        del operation["parameters"]
    return operation


def _with_errors(family: str, operation: dict[str, Any]) -> dict[str, Any]:
    responses = operation.setdefault("responses", {})
    if family == "elevenlabs":
        body: dict[str, Any] = {"$ref": "#/components/schemas/SpeakerErrorResponse"}
    else:
        body = {"$ref": "#/components/schemas/ErrorResponse"}
    for status in ERROR_STATUSES:
        if status in responses:
            # ElevenLabs' 422 is its validation error (`detail` a list); Speaker's own are
            # in the same `detail` object as its other refusals: either.
            existing = responses[status].get("content", {}).get("application/json", {}).get("schema")
            schema = {"anyOf": [existing, body]} if existing and existing != body else body
            responses[status] = {**responses[status], "content": {"application/json": {"schema": schema}}}
        else:
            responses[status] = {"description": "Refused by Speaker", "content": {"application/json": {"schema": body}}}
    return operation


def _shared_models_401(paths: dict[str, Any]) -> None:
    either = {
        "anyOf": [{"$ref": "#/components/schemas/SpeakerErrorResponse"}, {"$ref": "#/components/schemas/ErrorResponse"}]
    }
    paths["/v1/models"]["get"]["responses"]["401"]["content"]["application/json"]["schema"] = either


def _ndjson_stream(paths: dict[str, Any]) -> None:
    content = paths["/v1/text-to-speech/{voice_id}/stream/with-timestamps"]["post"]["responses"]["200"]["content"]
    content["application/x-ndjson"] = copy.deepcopy(content["application/json"])


# The audio types of ElevenLabs' output formats as Speaker sends them (elevenlabs_api/formats.py).
AUDIO_TYPES = ("audio/ogg", "audio/wav", "audio/pcm", "audio/basic", "audio/x-alaw-basic")


def _audio_types(paths: dict[str, Any]) -> None:
    for path in ("/v1/text-to-speech/{voice_id}", "/v1/text-to-speech/{voice_id}/stream"):
        content = paths[path]["post"]["responses"]["200"]["content"]
        for media_type in AUDIO_TYPES:
            content[media_type] = copy.deepcopy(content["audio/mpeg"])


# The audio types of OpenAI's response formats as Speaker sends them (openai_api/api.py FORMATS).
OPENAI_AUDIO_TYPES = ("audio/mpeg", "audio/wav", "audio/flac", "audio/ogg", "audio/pcm")


def _openai_audio_types(paths: dict[str, Any]) -> None:
    content = paths["/v1/audio/speech"]["post"]["responses"]["200"]["content"]
    for media_type in OPENAI_AUDIO_TYPES:
        content[media_type] = copy.deepcopy(content["application/octet-stream"])
    # OpenAI gives the schema of each event's JSON data; a reader of text/event-stream
    # (OpenAPI 3.2's itemSchema, schemathesis) checks each event: its `data` is that JSON.
    payload = content["text/event-stream"]["schema"]
    content["text/event-stream"]["schema"] = {
        "type": "object",
        "properties": {
            "event": {"type": "string"},
            "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": payload},
        },
        "required": ["data"],
    }


def subset(family: str, upstream: dict[str, Any], commit: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path in OPERATIONS[family]:
        item = upstream["paths"][path]
        operation = copy.deepcopy(item[method])
        if family == "elevenlabs":
            operation = _without_xi_api_key(operation)
        operation = _with_errors(family, operation)
        target = paths.setdefault(PATH_PREFIX[family] + path, {})
        if "parameters" in item:  # path-level parameters
            target["parameters"] = copy.deepcopy(item["parameters"])
        target[method] = operation

    if family == "elevenlabs":
        _shared_models_401(paths)
        _ndjson_stream(paths)
        _audio_types(paths)
    else:
        _openai_audio_types(paths)
    components: dict[str, dict[str, Any]] = {}
    pending = _refs(paths)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen or (family == "elevenlabs" and ref.endswith(("/SpeakerErrorResponse", "/ErrorResponse"))):
            continue
        seen.add(ref)
        _, _, kind, name = ref.split("/", 3)
        value = copy.deepcopy(_resolve(upstream, ref))
        components.setdefault(kind, {})[name] = value
        pending |= _refs(value) - seen

    if family == "elevenlabs":
        components["schemas"]["SpeakerErrorResponse"] = ELEVENLABS_ERROR
        # OpenAI's error body, for the shared GET /v1/models (_shared_models_401).
        components["schemas"]["ErrorResponse"] = OPENAI_ERROR
        components["securitySchemes"] = {"ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "xi-api-key"}}
    else:
        schemes = upstream["components"]["securitySchemes"]
        components["securitySchemes"] = {"ApiKeyAuth": copy.deepcopy(schemes["ApiKeyAuth"])}
    return {
        "openapi": upstream["openapi"],
        "info": {
            "title": TITLES[family],
            "version": str(upstream.get("info", {}).get("version", "")),
            "description": (
                f"The operations Speaker serves, cut from {SOURCES[family].format(commit=commit)} "
                "by docs/openapi/subset.py (its docstring lists the edits)."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"ApiKeyAuth": []}],
        "paths": paths,
        "components": {kind: dict(sorted(items.items())) for kind, items in sorted(components.items())},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("family", choices=sorted(OPERATIONS))
    parser.add_argument("upstream", type=Path, help="the vendor's published openapi.json")
    parser.add_argument("--source-commit", default="main", help="the upstream commit the file comes from")
    parser.add_argument("--output", type=Path, help="default: docs/openapi/<family>.json")
    args = parser.parse_args(argv)
    document = subset(args.family, json.loads(args.upstream.read_text()), args.source_commit)
    output = args.output or HERE / f"{args.family}.json"
    output.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"{output}: {sum(len([m for m in v if m != 'parameters']) for v in document['paths'].values())} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
