"""docker-compose.yml, checked by reading it (there is no Docker engine on these machines).

The file is interpolated the way Compose does it (`${VAR:-default}`, `${VAR:?error}`),
validated against the Compose Specification's JSON schema, then checked for what the
stack needs: services, ports, named volumes, healthchecks, the GPU reservation, settings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SCHEMA_FILE = Path(__file__).resolve().parent / "schemas" / "compose-spec.json"

# What an operator's .env must provide (the `${VAR:?...}` ones).
REQUIRED_VARS = {
    "SECRET_KEY": "x" * 60,
    "POSTGRES_PASSWORD": "pg-password",
    "METRICS_TOKEN": "metrics-token",
    "GRAFANA_ADMIN_PASSWORD": "grafana-password",
}

_VAR = re.compile(r"\$(?:\$|\{(?P<braced>[^}]+)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


class MissingVariable(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable substitution, enough of it for this file."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("plain"):
            return env.get(match.group("plain"), "")
        expr = match.group("braced")
        for op in (":?", "?", ":-", "-"):
            if op in expr:
                name, arg = expr.split(op, 1)
                value = env.get(name)
                unset_or_empty = value is None or (op.startswith(":") and value == "")
                if op.endswith("?"):
                    if unset_or_empty:
                        raise MissingVariable(f"{name}: {arg}")
                    return value  # type: ignore[return-value]
                return arg if unset_or_empty else value  # type: ignore[return-value]
        return env.get(expr, "")

    return _VAR.sub(substitute, text)


def variables_used(text: str) -> set[str]:
    names = set()
    for match in _VAR.finditer(text):
        if match.group("plain"):
            names.add(match.group("plain"))
        elif match.group("braced"):
            names.add(re.split(r":?[-?]", match.group("braced"), maxsplit=1)[0])
    return names


@pytest.fixture(scope="module")
def raw() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(raw: str) -> dict[str, Any]:
    return yaml.safe_load(interpolate(raw, REQUIRED_VARS))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def _env(service: dict[str, Any]) -> dict[str, str | None]:
    """The service's environment; None marks a pass-through (`KEY:` takes .env's value)."""
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {key: None if value is None else str(value) for key, value in env.items()}


def _published(service: dict[str, Any]) -> set[tuple[int, int]]:
    """(host port, container port) pairs; the short syntax may carry a host IP in front."""
    pairs = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            pairs.add((int(port["published"]), int(port["target"])))
            continue
        match = re.search(r"(\d+):(\d+)(?:/\w+)?$", str(port))
        assert match, f"unparseable port {port!r}"
        pairs.add((int(match.group(1)), int(match.group(2))))
    return pairs


def _volume_sources(service: dict[str, Any]) -> dict[str, str]:
    """target path -> source (named volume or ./path)."""
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            mounts[volume["target"]] = volume["source"]
        else:
            source, target = str(volume).split(":")[:2]
            mounts[target] = source
    return mounts


def test_it_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_it_refuses_to_start_without_the_secrets(raw: str) -> None:
    for name in REQUIRED_VARS:
        with pytest.raises(MissingVariable, match=name):
            interpolate(raw, {k: v for k, v in REQUIRED_VARS.items() if k != name})


def test_it_has_the_whole_stack(services: dict[str, Any]) -> None:
    assert {"web", "worker", "worker-gpu", "migrate", "postgres", "redis", "prometheus", "grafana"} <= set(services)


def test_it_publishes_the_original_ports(services: dict[str, Any]) -> None:
    assert (8010, 8010) in _published(services["web"])
    assert (9090, 9090) in _published(services["prometheus"])
    assert (3000, 3000) in _published(services["grafana"])
    # Worker metrics are for Prometheus on the internal network only.
    assert not _published(services["worker"])
    assert "9101" in [str(p) for p in services["worker"].get("expose", [])]


def test_it_keeps_state_in_named_volumes(compose: dict[str, Any], services: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    assert {"postgres_data", "media", "models", "prometheus_data", "grafana_data"} <= declared
    assert _volume_sources(services["postgres"])["/var/lib/postgresql/data"] == "postgres_data"
    assert _volume_sources(services["prometheus"])["/prometheus"] == "prometheus_data"
    assert _volume_sources(services["grafana"])["/var/lib/grafana"] == "grafana_data"
    for name in ("web", "worker", "worker-gpu"):
        mounts = _volume_sources(services[name])
        env = _env(services[name])
        assert mounts[env["MEDIA_ROOT"]] == "media", name
        assert env["XTTS_MODEL_DIR"].startswith("/models/") and mounts["/models"] == "models", name
    for name, service in services.items():
        for target, source in _volume_sources(service).items():
            if source.startswith((".", "/")):
                assert (REPO_ROOT / source).exists(), f"{name}: bind mount source {source} is missing"
            else:
                assert source in declared, f"{name}: volume {source} for {target} is not declared"


@pytest.mark.parametrize("name", ["web", "worker", "postgres", "redis", "prometheus", "grafana"])
def test_long_running_services_have_healthchecks(services: dict[str, Any], name: str) -> None:
    check = services[name]["healthcheck"]
    assert check.get("test") and not check.get("disable")


def test_the_web_healthcheck_asks_the_liveness_endpoint(services: dict[str, Any]) -> None:
    test = services["web"]["healthcheck"]["test"]
    assert test[0] == "CMD" and "/app/deploy/healthcheck.py" in test
    assert "http://127.0.0.1:8010/health" in test
    assert (REPO_ROOT / "deploy" / "healthcheck.py").is_file()


def test_postgres_and_redis_healthchecks_use_their_own_clients(services: dict[str, Any]) -> None:
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_processes_and_order(services: dict[str, Any]) -> None:
    assert services["web"]["command"][:1] == ["daphne"]
    assert "8010" in services["web"]["command"] and "speaker_site.asgi:application" in services["web"]["command"]
    assert services["worker"]["command"] == ["python", "manage.py", "runengine"]
    assert services["worker-gpu"]["command"] == services["worker"]["command"]
    assert services["migrate"]["command"][:3] == ["python", "manage.py", "migrate"]
    for name in ("web", "worker", "worker-gpu"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
    assert services["migrate"]["restart"] == "no"
    # The commands exist in the code base (an image is only as good as what it runs).
    assert (REPO_ROOT / "speaker_site" / "asgi.py").is_file()
    assert (REPO_ROOT / "engine_host" / "management" / "commands" / "runengine.py").is_file()


def test_the_gpu_worker_reserves_an_nvidia_device(services: dict[str, Any]) -> None:
    gpu = services["worker-gpu"]
    assert gpu["profiles"] == ["gpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)
    assert _env(gpu)["XTTS_DEVICE"] == "cuda"
    # Prometheus finds workers by the DNS name "worker".
    assert "worker" in gpu["networks"]["default"]["aliases"]
    assert "profiles" not in services["worker"]


@pytest.mark.parametrize("name", ["web", "worker", "worker-gpu", "migrate"])
def test_app_services_get_production_settings(services: dict[str, Any], name: str) -> None:
    env = _env(services[name])
    for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "METRICS_TOKEN", "MEDIA_ROOT"):
        assert env.get(key), f"{name}: {key} is empty"
    assert env["ENVIRONMENT"] == "production"
    assert env["EMBEDDED_WORKER"] == "false"
    assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["WORKER_METRICS_PORT"] == "9101"
    assert env["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
    hosts = env["ALLOWED_HOSTS"].split(",")
    # The healthcheck sends Host: localhost; Prometheus scrapes web:8010.
    assert "localhost" in hosts and "web" in hosts
    assert len(env["SECRET_KEY"]) >= 50


def test_prometheus_gets_the_metrics_token_as_a_secret(compose: dict[str, Any], services: dict[str, Any]) -> None:
    assert compose["secrets"]["metrics_token"] == {"environment": "METRICS_TOKEN"}
    assert "metrics_token" in services["prometheus"]["secrets"]
    prometheus_yml = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus.yml").read_text(encoding="utf-8"))
    web_job = next(job for job in prometheus_yml["scrape_configs"] if job["job_name"] == "speaker-web")
    assert web_job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"


def test_prometheus_and_grafana_mounts_match_their_configs(services: dict[str, Any]) -> None:
    prometheus_mounts = _volume_sources(services["prometheus"])
    assert prometheus_mounts["/etc/prometheus/prometheus.yml"] == "./deploy/prometheus.yml"
    # rule_files are relative to the config file: the same layout in the repo and in the container.
    prometheus_yml = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus.yml").read_text(encoding="utf-8"))
    for rule_file in prometheus_yml["rule_files"]:
        top = rule_file.split("/")[0]
        assert prometheus_mounts[f"/etc/prometheus/{top}"] == f"./deploy/{top}"
        assert (REPO_ROOT / "deploy" / rule_file).is_file()

    grafana = services["grafana"]
    grafana_mounts = _volume_sources(grafana)
    assert grafana_mounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    providers = yaml.safe_load(
        (REPO_ROOT / "deploy/grafana/provisioning/dashboards/dashboards.yml").read_text(encoding="utf-8")
    )["providers"]
    for provider in providers:
        assert grafana_mounts[provider["options"]["path"]] == "./deploy/grafana/dashboards"
    env = _env(grafana)
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == REQUIRED_VARS["GRAFANA_ADMIN_PASSWORD"]
    home = env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (REPO_ROOT / "deploy/grafana/dashboards" / Path(home).name).is_file()


def _documented() -> set[str]:
    example = REPO_ROOT / ".env.example"
    if not example.is_file():
        pytest.skip(".env.example not written yet")
    return set(re.findall(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", example.read_text(encoding="utf-8"), re.MULTILINE))


def test_every_variable_it_reads_is_documented_in_env_example(raw: str, services: dict[str, Any]) -> None:
    passed_through = {key for key, value in _env(services["web"]).items() if value is None}
    missing = (variables_used(raw) | passed_through) - _documented()
    assert not missing, f".env.example does not document: {sorted(missing)}"


# Settings the stack decides itself rather than taking from .env: where the services and
# files are, and the production switches.
FIXED_BY_THE_STACK = {
    "ENVIRONMENT", "DEBUG", "HOST", "PORT", "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT",
    "AUDIT_LOG_FILE", "XTTS_MODEL_DIR", "PIPER_VOICES_DIR", "EMBEDDED_WORKER",
    "PROMETHEUS_MULTIPROC_DIR", "WORKER_METRICS_PORT", "WYOMING_URI",
}  # fmt: skip


def test_every_setting_in_env_example_reaches_the_containers(raw: str, services: dict[str, Any]) -> None:
    """A setting added to .env.example but not to docker-compose.yml would silently do
    nothing in containers: each one must be interpolated, passed through or fixed here."""
    reaches = set(_env(services["web"])) | variables_used(raw) | FIXED_BY_THE_STACK
    dropped = _documented() - reaches
    assert not dropped, f"set in .env but never given to the containers: {sorted(dropped)}"
    app_env = set(_env(services["web"]))
    assert app_env == set(_env(services["worker"])) == set(_env(services["migrate"]))


# --- multi-host files (docs/operations.md "Scale-out") ---------------------------------------
GPU_HOST_VARS = {
    "SECRET_KEY": "x" * 60,
    "METRICS_TOKEN": "metrics-token",
    "REMOTE_DATABASE_URL": "postgres://speaker:pw@10.0.0.10:5432/speaker",
    "REMOTE_REDIS_URL": "redis://10.0.0.10:6379/0",
    "SHARED_MEDIA_PATH": "/mnt/speaker-media",
    "WORKER_METRICS_BIND": "10.0.0.21",
}


def _validate(document: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_gpu_host_file_runs_pinned_workers_against_the_main_host(services: dict[str, Any]) -> None:
    raw_gpu = (REPO_ROOT / "deploy" / "compose.gpu-host.yml").read_text(encoding="utf-8")
    gpu_host = yaml.safe_load(interpolate(raw_gpu, GPU_HOST_VARS))
    _validate(gpu_host)
    workers = {name: service for name, service in gpu_host["services"].items() if name.startswith("worker-gpu")}
    assert workers and set(gpu_host["services"]) == set(workers), "workers only: no database or web here"
    main_env = _env(services["worker-gpu"])
    for name, worker in workers.items():
        env = _env(worker)
        assert env["DATABASE_URL"] == GPU_HOST_VARS["REMOTE_DATABASE_URL"]
        assert env["REDIS_URL"] == GPU_HOST_VARS["REMOTE_REDIS_URL"]
        assert worker["command"] == services["worker"]["command"]
        [device] = worker["deploy"]["resources"]["reservations"]["devices"]
        assert device["driver"] == "nvidia" and len(device["device_ids"]) == 1
        assert _volume_sources(worker)["/data/media"] == GPU_HOST_VARS["SHARED_MEDIA_PATH"]
        assert all(port.startswith(GPU_HOST_VARS["WORKER_METRICS_BIND"] + ":") for port in worker["ports"])
        # Same settings as the main stack's GPU worker, except where the services are.
        differing = {key for key in main_env if main_env[key] != env.get(key)}
        assert differing <= {
            "DATABASE_URL",
            "REDIS_URL",
            "ALLOWED_HOSTS",
            "CSRF_TRUSTED_ORIGINS",
            "HOST",
            "PORT",
            "METRICS_ALLOWED_IPS",
            "SECURE_SSL_REDIRECT",
        }, (name, differing)
    assert (REPO_ROOT / "deploy" / gpu_host["services"]["worker-gpu0"]["build"]["context"] / "Dockerfile").is_file()
    for name in GPU_HOST_VARS:
        with pytest.raises(MissingVariable, match=name):
            interpolate(raw_gpu, {k: v for k, v in GPU_HOST_VARS.items() if k != name})


def test_the_main_host_override_publishes_postgres_and_redis_privately(services: dict[str, Any]) -> None:
    raw_main = (REPO_ROOT / "deploy" / "compose.main-host.yml").read_text(encoding="utf-8")
    override = yaml.safe_load(interpolate(raw_main, {"PRIVATE_BIND": "10.0.0.10"}))
    _validate(override)
    assert set(override["services"]) <= set(services)
    assert override["services"]["postgres"]["ports"] == ["10.0.0.10:5432:5432"]
    assert override["services"]["redis"]["ports"] == ["10.0.0.10:6379:6379"]
    with pytest.raises(MissingVariable, match="PRIVATE_BIND"):
        interpolate(raw_main, {})


def test_the_wyoming_server_is_an_opt_in_service_published_on_this_host_by_default(services: dict[str, Any]) -> None:
    wyoming = services["wyoming"]
    assert wyoming["profiles"] == ["wyoming"] and wyoming["command"] == ["python", "manage.py", "runwyoming"]
    assert (10200, 10200) in _published(wyoming)
    assert all(str(port).startswith("127.0.0.1:") for port in wyoming["ports"])  # no authentication: opt in to more
    env = _env(wyoming)
    assert env["WYOMING_URI"] == "tcp://0.0.0.0:10200" and env["EMBEDDED_WORKER"] == "false"
    assert "WYOMING_API_KEY" in env and env["WYOMING_API_KEY"] is None  # from .env
    assert wyoming["healthcheck"]["test"] and not wyoming["healthcheck"].get("disable")
