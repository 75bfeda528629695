"""docs/openapi/elevenlabs.json and openai.json describe the routes Speaker serves, no
more and no fewer: every documented operation resolves to a view that answers its method,
and every ElevenLabs-compatible route is documented (a new route goes into
docs/openapi/subset.py's OPERATIONS and the documents are regenerated)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.urls import resolve

from elevenlabs_api.urls import urlpatterns as elevenlabs_routes

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi"
METHODS = ("get", "post", "put", "patch", "delete")


def _operations(document: str) -> list[tuple[str, str]]:
    paths = json.loads((DOCS / document).read_text())["paths"]
    return [(method, path) for path, item in paths.items() for method in METHODS if method in item]


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}|<[^>]+>", "{}", path.strip("/"))


@pytest.mark.parametrize("document", ["elevenlabs.json", "openai.json"])
def test_every_documented_operation_is_served(document):
    for method, path in _operations(document):
        match = resolve(re.sub(r"\{[^}]+\}", "some-id", path))
        view = match.func.view_class
        assert hasattr(view, method), f"{method.upper()} {path} is documented but {view.__name__} does not answer it"


def test_every_elevenlabs_compatible_route_is_documented():
    documented = {(method, _shape(path)) for method, path in _operations("elevenlabs.json")}
    for route in elevenlabs_routes:
        view = route.callback.view_class
        for method in METHODS:
            if hasattr(view, method):
                assert (method, _shape(str(route.pattern))) in documented, f"{method.upper()} /{route.pattern}"
