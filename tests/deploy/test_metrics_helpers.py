"""monitoring.metrics: label helpers, the exported names, and multi-process rendering."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from monitoring import metrics

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (1, "1-10"),
        (10, "1-10"),
        (11, "11-25"),
        (25, "11-25"),
        (26, "26-50"),
        (50, "26-50"),
        (51, "51-100"),
        (100, "51-100"),
        (101, "101-200"),
        (200, "101-200"),
        (201, "200+"),
        (5000, "200+"),
    ],
)
def test_word_range_puts_boundaries_in_the_lower_range(words: int, expected: str) -> None:
    assert metrics.word_range(words) == expected


@pytest.mark.parametrize(
    ("chars", "expected"),
    [
        (1, "1-50"),
        (50, "1-50"),
        (51, "51-200"),
        (200, "51-200"),
        (201, "201-500"),
        (500, "201-500"),
        (501, "501-1000"),
        (1000, "501-1000"),
        (1001, "1001-2000"),
        (2000, "1001-2000"),
        (2001, "2000+"),
    ],
)
def test_char_range_puts_boundaries_in_the_lower_range(chars: int, expected: str) -> None:
    assert metrics.char_range(chars) == expected


def test_range_helpers_never_fail_on_an_empty_text() -> None:
    assert metrics.word_range(0) == "1-10"
    assert metrics.char_range(0) == "1-50"


def test_range_labels_are_the_documented_ones() -> None:
    assert metrics.WORD_RANGES == ("1-10", "11-25", "26-50", "51-100", "101-200", "200+")
    assert metrics.CHAR_RANGES == ("1-50", "51-200", "201-500", "501-1000", "1001-2000", "2000+")


def test_voice_label_keeps_builtin_names_and_hides_custom_ones() -> None:
    assert metrics.voice_label("joe", builtin=True) == "joe"
    assert metrics.voice_label("My grandmother", builtin=False) == "custom"


def test_exported_names_are_unique_and_include_the_contract() -> None:
    contract = {
        "tts_requests_total",
        "tts_request_duration_seconds",
        "tts_word_count_duration_seconds",
        "tts_character_count_duration_seconds",
        "tts_active_voices",
        "tts_system_memory_usage_bytes",
        "tts_system_cpu_usage_percent",
        "tts_errors_total",
        "tts_queue_depth",
        "tts_time_to_first_audio_seconds",
        "tts_realtime_factor",
        "tts_model_load_seconds",
        "tts_gpu_memory_used_bytes",
    }
    assert len(set(metrics.EXPORTED_METRIC_NAMES)) == len(metrics.EXPORTED_METRIC_NAMES)
    assert contract <= set(metrics.EXPORTED_METRIC_NAMES)
    assert metrics.HISTOGRAM_NAMES <= set(metrics.EXPORTED_METRIC_NAMES)


# Label values of their own, so that these observations in the shared default registry
# can't be mistaken for real traffic by other tests in the same session.
PROBE_ENGINE = "deploy-test"


def _observe_one(*, words: int = 12, status: str = "success") -> None:
    metrics.observe_generation(
        endpoint="deploy-test",
        engine=PROBE_ENGINE,
        voice=metrics.voice_label("joe", builtin=True),
        language="EN",
        words=words,
        characters=70,
        seconds=0.4,
        audio_seconds=4.0,
        first_audio_seconds=0.08,
        mode="stream",
        status=status,
    )


def _typed_names(exposition: str) -> set[str]:
    # `# TYPE name kind` lines exist for every registered metric, with or without samples.
    return set(re.findall(r"^# TYPE (\S+) ", exposition, flags=re.MULTILINE))


def test_rendering_the_default_registry_exposes_every_name_after_one_generation() -> None:
    _observe_one()
    metrics.record_error("deploy-test")
    metrics.set_gpu_memory(gpu="deploy-test", used_bytes=1, total_bytes=2)
    body = generate_latest(REGISTRY).decode()

    missing = set(metrics.EXPORTED_METRIC_NAMES) - _typed_names(body)
    assert not missing, f"not exposed: {sorted(missing)}"


def test_a_generation_lands_in_the_right_word_and_char_range() -> None:
    before = (
        REGISTRY.get_sample_value(
            "tts_word_count_duration_seconds_count", {"word_range": "101-200", "engine": PROBE_ENGINE}
        )
        or 0.0
    )
    _observe_one(words=150)
    after = REGISTRY.get_sample_value(
        "tts_word_count_duration_seconds_count", {"word_range": "101-200", "engine": PROBE_ENGINE}
    )
    assert after == before + 1
    assert REGISTRY.get_sample_value(
        "tts_character_count_duration_seconds_count", {"char_range": "51-200", "engine": PROBE_ENGINE}
    )


def test_realtime_factor_is_processing_time_over_audio_time() -> None:
    sum_before = REGISTRY.get_sample_value("tts_realtime_factor_sum", {"engine": "rtf-probe"}) or 0.0
    metrics.observe_generation(
        endpoint="e",
        engine="rtf-probe",
        voice="custom",
        language="de",
        words=3,
        characters=20,
        seconds=1.0,
        audio_seconds=4.0,
        first_audio_seconds=None,
        mode="job",
        status="success",
    )
    assert REGISTRY.get_sample_value("tts_realtime_factor_sum", {"engine": "rtf-probe"}) == pytest.approx(
        sum_before + 0.25
    )


def test_a_failure_counts_as_a_request_but_not_as_latency() -> None:
    labels = {"endpoint": "e", "engine": "fail-probe"}
    metrics.observe_generation(
        endpoint="e",
        engine="fail-probe",
        voice="custom",
        language="en",
        words=3,
        characters=20,
        seconds=0.01,
        audio_seconds=None,
        first_audio_seconds=None,
        mode="job",
        status="failure",
    )
    assert (
        REGISTRY.get_sample_value(
            "tts_requests_total", {**labels, "voice": "custom", "language": "en", "status": "failure"}
        )
        == 1.0
    )
    assert REGISTRY.get_sample_value("tts_request_duration_seconds_count", labels) is None


@pytest.mark.parametrize("bad", [{"status": "ok"}, {"mode": "batch"}])
def test_it_rejects_label_values_outside_the_closed_sets(bad: dict[str, str]) -> None:
    kwargs = dict(
        endpoint="e",
        engine="piper",
        voice="custom",
        language="en",
        words=1,
        characters=1,
        seconds=0.1,
        audio_seconds=1.0,
        first_audio_seconds=0.1,
        mode="job",
        status="success",
    )
    kwargs.update(bad)
    with pytest.raises(ValueError):
        metrics.observe_generation(**kwargs)  # type: ignore[arg-type]


def test_render_latest_uses_the_default_registry_outside_multiprocess_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.delenv("prometheus_multiproc_dir", raising=False)
    assert metrics.registry_for_scrape() is REGISTRY
    body, content_type = metrics.render_latest()
    assert content_type.startswith("text/plain; version=0.0.4")
    assert b"# TYPE tts_requests_total counter" in body


_CHILD = textwrap.dedent(
    """
    import sys
    from monitoring import metrics
    metrics.observe_generation(
        endpoint="api", engine="piper", voice="joe", language="en", words=int(sys.argv[1]),
        characters=30, seconds=0.5, audio_seconds=5.0, first_audio_seconds=0.1,
        mode="job", status="success",
    )
    metrics.record_error("engine")
    metrics.QUEUE_DEPTH.set(int(sys.argv[2]))
    metrics.set_gpu_memory(gpu="0", used_bytes=10, total_bytes=100)
    metrics.MODEL_LOAD.labels(engine="piper").set(float(sys.argv[2]))
    """
)
_RENDER = "from monitoring import metrics; import sys; sys.stdout.write(metrics.render_latest()[0].decode())"


def _run(code: str, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_multiprocess_mode_adds_up_every_process(tmp_path: Path) -> None:
    """Two processes record, a third renders: the way web processes share /prometheus."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(REPO_ROOT)}
    _run(_CHILD, "3", "7", env=env)
    _run(_CHILD, "150", "2", env=env)
    body = _run(_RENDER, env=env)

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    request_labels = (
        ("endpoint", "api"),
        ("engine", "piper"),
        ("language", "en"),
        ("status", "success"),
        ("voice", "joe"),
    )
    assert samples[("tts_requests_total", request_labels)] == 2.0
    assert samples[("tts_errors_total", (("type", "engine"),))] == 2.0
    assert samples[("tts_word_count_duration_seconds_count", (("engine", "piper"), ("word_range", "1-10")))] == 1.0
    assert samples[("tts_word_count_duration_seconds_count", (("engine", "piper"), ("word_range", "101-200")))] == 1.0
    # Gauges: the latest reading wins, not the sum of the processes' readings.
    assert samples[("tts_queue_depth", ())] == 2.0
    assert samples[("tts_gpu_memory_used_bytes", (("gpu", "0"),))] == 10.0
    # Load time: the slowest process.
    assert samples[("tts_model_load_seconds", (("engine", "piper"),))] == 7.0
