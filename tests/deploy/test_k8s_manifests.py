"""deploy/k8s: every manifest parses, has what Kubernetes requires, and wires Speaker right.

Schema validation uses kubernetes-validate (it bundles the Kubernetes OpenAPI schemas, so
it works offline); without that package those tests are skipped and the structural
checks below still run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
K8S_DIR = REPO_ROOT / "deploy" / "k8s"
# Oldest Kubernetes these manifests are written for (fields used: startupProbe,
# ttlSecondsAfterFinished, kustomize `labels`): any maintained release is newer.
KUBERNETES_VERSION = "1.29"


def _manifests() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S_DIR.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        with path.open(encoding="utf-8") as fh:
            docs.extend((path.name, doc) for doc in yaml.safe_load_all(fh) if doc is not None)
    return docs


MANIFESTS = _manifests()


def _one(kind: str, name: str) -> dict[str, Any]:
    found = [doc for _, doc in MANIFESTS if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def _container(workload: dict[str, Any], name: str) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == name)


def _ids(item: tuple[str, dict[str, Any]]) -> str:
    return f"{item[0]}:{item[1].get('kind')}/{item[1].get('metadata', {}).get('name')}"


@pytest.mark.parametrize("item", MANIFESTS, ids=[_ids(m) for m in MANIFESTS])
def test_every_manifest_has_the_required_top_level_fields(item: tuple[str, dict[str, Any]]) -> None:
    _, doc = item
    assert doc.get("apiVersion") and doc.get("kind")
    assert doc["metadata"].get("name")
    # Namespace-agnostic: `kubectl apply -n` or a kustomize overlay picks it.
    assert "namespace" not in doc["metadata"]
    if doc["kind"] not in ("ConfigMap", "Secret"):
        assert "spec" in doc


@pytest.mark.parametrize("item", MANIFESTS, ids=[_ids(m) for m in MANIFESTS])
def test_every_manifest_validates_against_the_kubernetes_schema(item: tuple[str, dict[str, Any]]) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate not installed")
    _, doc = item
    # strict: unknown fields (a misspelt `livenesProbe`) fail instead of being ignored.
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest_and_the_image() -> None:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text(encoding="utf-8"))
    assert kustomization["kind"] == "Kustomization"
    assert "namespace" not in kustomization
    files = {path.name for path in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    assert [image["name"] for image in kustomization["images"]] == ["speaker"]
    for _, doc in MANIFESTS:
        if doc["kind"] in ("Deployment", "Job"):
            pod = doc["spec"]["template"]["spec"]
            for container in pod.get("initContainers", []) + pod["containers"]:
                assert container["image"] == "speaker", f"{doc['metadata']['name']}/{container['name']}"


def test_kinds_present() -> None:
    kinds = {(doc["kind"], doc["metadata"]["name"]) for _, doc in MANIFESTS}
    assert {
        ("ConfigMap", "speaker-config"),
        ("Secret", "speaker-secrets"),
        ("Deployment", "speaker-web"),
        ("Service", "speaker-web"),
        ("Deployment", "speaker-worker"),
        ("Job", "speaker-migrate"),
        ("PersistentVolumeClaim", "speaker-media"),
        ("PersistentVolumeClaim", "speaker-models"),
    } <= kinds


def test_the_secret_holds_only_marked_placeholders() -> None:
    secret = _one("Secret", "speaker-secrets")
    assert "data" not in secret  # stringData only: nothing base64-encoded to hide a real value
    assert set(secret["stringData"]) == {"SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN", "EMAIL_URL"}
    for key, value in secret["stringData"].items():
        assert "REPLACE_ME" in value, key
    # Too short to pass the production settings check: a forgotten placeholder fails loudly.
    assert len(secret["stringData"]["SECRET_KEY"]) < 50


def test_the_configmap_sets_production_and_separate_workers() -> None:
    data = _one("ConfigMap", "speaker-config")["data"]
    assert all(isinstance(value, str) for value in data.values()), "ConfigMap values must be strings"
    assert data["ENVIRONMENT"] == "production"
    assert "@" in data["DEFAULT_FROM_EMAIL"]  # account email (EMAIL_URL is a secret)
    assert data["EMBEDDED_WORKER"] == "false"
    assert data["PORT"] == "8010" and data["WORKER_METRICS_PORT"] == "9101"
    assert data["REDIS_URL"].startswith("redis://")
    assert "localhost" in data["ALLOWED_HOSTS"].split(","), "probes send Host: localhost"
    secret_keys = set(_one("Secret", "speaker-secrets")["stringData"])
    assert not secret_keys & set(data), "a setting is both in the ConfigMap and the Secret"


def _env_sources(container: dict[str, Any]) -> set[str]:
    sources = set()
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef") or source.get("secretRef")
        sources.add(ref["name"])
    return sources


def _probe_path(probe: dict[str, Any]) -> str:
    return probe["httpGet"]["path"]


def test_the_web_probes_liveness_and_readiness() -> None:
    web = _one("Deployment", "speaker-web")
    container = _container(web, "web")
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["http"] == 8010
    assert _probe_path(container["livenessProbe"]) == "/health"
    assert _probe_path(container["readinessProbe"]) == "/health/ready"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        http_get = container[probe]["httpGet"]
        assert http_get["port"] in ("http", 8010)
        assert {"name": "Host", "value": "localhost"} in http_get["httpHeaders"]
    assert container["args"][0] == "daphne" and "8010" in container["args"]
    assert "command" not in container, "args keep the image's tini entrypoint"
    assert _env_sources(container) == {"speaker-config", "speaker-secrets"}
    selector = web["spec"]["selector"]["matchLabels"]
    assert selector.items() <= web["spec"]["template"]["metadata"]["labels"].items()


def test_the_web_service_routes_port_8010_to_the_web_pods() -> None:
    service = _one("Service", "speaker-web")
    web = _one("Deployment", "speaker-web")
    assert service["spec"]["selector"] == web["spec"]["selector"]["matchLabels"]
    [port] = service["spec"]["ports"]
    assert port["port"] == 8010 and port["targetPort"] in ("http", 8010)


def test_the_worker_requests_a_gpu_and_is_probed_on_its_metrics_port() -> None:
    worker = _one("Deployment", "speaker-worker")
    container = _container(worker, "worker")
    assert container["args"] == ["python", "manage.py", "runengine"]
    assert str(container["resources"]["limits"]["nvidia.com/gpu"]) == "1"
    assert str(container["resources"]["requests"]["nvidia.com/gpu"]) == "1"
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["metrics"] == 9101
    for probe in ("livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in ("metrics", 9101)
    env = {item["name"]: item.get("value") for item in container.get("env", [])}
    assert env["XTTS_DEVICE"] == "cuda"
    assert _env_sources(container) == {"speaker-config", "speaker-secrets"}
    # Rolling out must not need a spare GPU.
    assert worker["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    claims = {
        volume["name"]: volume["persistentVolumeClaim"]["claimName"]
        for volume in worker["spec"]["template"]["spec"]["volumes"]
        if "persistentVolumeClaim" in volume
    }
    assert claims[mounts["/models"]] == "speaker-models"
    assert claims[mounts["/data/media"]] == "speaker-media"


def test_the_migration_job_runs_migrate() -> None:
    job = _one("Job", "speaker-migrate")
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in ("OnFailure", "Never")
    [container] = pod["containers"]
    assert container["args"][:3] == ["python", "manage.py", "migrate"]
    assert _env_sources(container) == {"speaker-config", "speaker-secrets"}


@pytest.mark.parametrize("name", ["speaker-web", "speaker-worker"])
def test_pods_wait_for_migrations_and_run_as_the_image_user(name: str) -> None:
    pod = _one("Deployment", name)["spec"]["template"]["spec"]
    [init] = pod["initContainers"]
    assert "migrate --check" in " ".join(init["args"])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's APP_UID
    multiproc = next(v for v in pod["volumes"] if v["name"] == "prometheus-multiproc")
    assert "emptyDir" in multiproc


def test_shared_volumes_are_read_write_many() -> None:
    for name in ("speaker-media", "speaker-models"):
        assert _one("PersistentVolumeClaim", name)["spec"]["accessModes"] == ["ReadWriteMany"]
    web_pod = _one("Deployment", "speaker-web")["spec"]["template"]["spec"]
    assert any(v.get("persistentVolumeClaim", {}).get("claimName") == "speaker-media" for v in web_pod["volumes"])


def test_volume_mounts_match_the_configured_paths() -> None:
    data = _one("ConfigMap", "speaker-config")["data"]
    for name, container_name in (("speaker-web", "web"), ("speaker-worker", "worker")):
        container = _container(_one("Deployment", name), container_name)
        mount_paths = {mount["mountPath"] for mount in container["volumeMounts"]}
        assert data["MEDIA_ROOT"] in mount_paths
        assert data["PROMETHEUS_MULTIPROC_DIR"] in mount_paths
        assert str(Path(data["AUDIT_LOG_FILE"]).parent) in mount_paths
        volumes = {v["name"] for v in _one("Deployment", name)["spec"]["template"]["spec"]["volumes"]}
        assert {mount["name"] for mount in container["volumeMounts"]} <= volumes
