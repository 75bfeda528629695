"""Shared helpers for the deploy tests.

These tests read files (compose, Dockerfile, k8s manifests, Prometheus rules, Grafana
JSON) and import `monitoring.metrics`, which needs only prometheus_client: none of them
touches Django's database, so they run with or without pytest-django.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DIR = REPO_ROOT / "deploy"

# `python -m pytest` puts the working directory on sys.path, plain `pytest` may not;
# `monitoring.metrics` must import either way.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def deploy_dir() -> Path:
    return DEPLOY_DIR
