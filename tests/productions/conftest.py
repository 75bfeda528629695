from __future__ import annotations

from typing import Any

import pytest

from productions.models import Production

BOOK = """Before the first chapter there is a short note. It is read first.

# The first chapter
It was a bright cold day in April. The clocks were striking thirteen. Nobody minded.
(happy) The sun came out at last! Everyone smiled.

## The second chapter [voice: joe]
The second chapter begins here. It is short. It ends quickly.
"""


@pytest.fixture
def post_production(owner_api):  # type: ignore[no-untyped-def]
    def _post(text: str = BOOK, **body: Any):  # type: ignore[no-untyped-def]
        return owner_api.post(
            "/api/v1/productions", {"text": text, "voice": "joe", "title": "A book", **body}, format="json"
        )

    return _post


def production(production_id: str) -> Production:
    return Production.objects.get(pk=production_id)
