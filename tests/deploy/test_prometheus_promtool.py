"""Prometheus' own checker on deploy/prometheus.yml and the alert rules, when it is here.

promtool is not a Python package: these tests run where it is on PATH (or PROMTOOL points
at it) and are skipped elsewhere. Debian ships it in the `prometheus` package
(`apt-get download prometheus && dpkg -x prometheus_*.deb /opt/prom` gives
/opt/prom/usr/bin/promtool without installing the server).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DIR = REPO_ROOT / "deploy"


@pytest.fixture(scope="module")
def promtool() -> str:
    path = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if not path:
        pytest.skip("promtool not installed (set PROMTOOL or put it on PATH)")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)


def test_the_alert_rules_are_valid(promtool: str) -> None:
    done = _run(promtool, "check", "rules", str(DEPLOY_DIR / "prometheus" / "alerts.yml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_alert_rules_fire_when_they_should(promtool: str) -> None:
    done = _run(promtool, "test", "rules", str(Path(__file__).parent / "promtool" / "alerts_test.yml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_scrape_config_is_valid(promtool: str, tmp_path: Path) -> None:
    # promtool insists that the bearer-token file exists; in the container compose mounts
    # it at /run/secrets/metrics_token. Check a copy that points at a stand-in file.
    config = yaml.safe_load((DEPLOY_DIR / "prometheus.yml").read_text(encoding="utf-8"))
    token = tmp_path / "metrics_token"
    token.write_text("test-token\n", encoding="utf-8")
    for job in config["scrape_configs"]:
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(token)
    shutil.copytree(DEPLOY_DIR / "prometheus", tmp_path / "prometheus")
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    done = _run(promtool, "check", "config", str(tmp_path / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
