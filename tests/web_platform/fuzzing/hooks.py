"""Schemathesis hooks for tests/web_platform/test_schemathesis_live.py (SCHEMATHESIS_HOOKS).

A rule JSON Schema cannot state, told to the generator instead of relaxing a check:
an API key's `expires_at` must be in the future ("expires_at must be in the future" is
a 400), and a schema has no "after now". A generated date-time in the past is moved to
the same moment of a future year, so positive data stays schema-valid and must still be
accepted (no 400 is allowed for key creation); anything that is not a date-time (a
negative case) is left exactly as generated."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import schemathesis

KEY_CREATION = "api_v1_keys_create"


def _in_the_future(body: Any) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get("expires_at"), str):
        return body
    text = body["expires_at"]
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return body
    now = datetime.now(moment.tzinfo or timezone.utc)
    if moment > now:
        return body
    # Keep the generated spelling (offset, fraction, separator); only the year changes, to
    # a leap year so that a generated 29 February stays a real day.
    year = next(y for y in range(now.year + 1, now.year + 9) if y % 4 == 0 and (y % 100 or y % 400 == 0))
    return {**body, "expires_at": f"{year:04d}{text[4:]}"}


@schemathesis.hook("map_body").apply_to(operation_id=KEY_CREATION)
def expires_at_in_the_future(context: Any, body: Any) -> Any:
    return _in_the_future(body)


@schemathesis.hook("map_case").apply_to(operation_id=KEY_CREATION)
def expires_at_in_the_future_case(context: Any, case: Any) -> Any:
    case.body = _in_the_future(case.body)
    return case
