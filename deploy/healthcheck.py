"""Container healthcheck: exit 0 when a URL answers 2xx, 1 otherwise.

    python deploy/healthcheck.py                          # web: http://127.0.0.1:$PORT/health
    python deploy/healthcheck.py http://127.0.0.1:9101/   # engine worker's metrics port

Standard library only (the slim image has no curl). It sends `Host: localhost` because
Django rejects Host headers missing from ALLOWED_HOSTS with a 400, and the compose file and
the k8s ConfigMap always include "localhost" there; an operator's own ALLOWED_HOSTS value
can then stay the public hostname only.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 4.0


def default_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('PORT', '8010')}/health"


def check(url: str, *, host: str = "localhost", timeout: float = TIMEOUT_SECONDS) -> bool:
    request = urllib.request.Request(url, headers={"Host": host, "User-Agent": "speaker-healthcheck"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (fixed local URL)
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"healthcheck {url}: {exc}", file=sys.stderr)
        return False


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else default_url()
    return 0 if check(url, host=os.environ.get("HEALTHCHECK_HOST", "localhost")) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
