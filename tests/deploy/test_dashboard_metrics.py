"""Every metric the Grafana dashboard and the alert rules query must be one Speaker exports.

`metric_names_used_by_deploy()` is the reusable part: it returns the series names exactly
as the queries use them (`tts_requests_total`, `tts_request_duration_seconds_bucket`,
`up`, ...), so a test that scrapes the live `/prometheus` endpoint can look each one up
in the exposition text. `base_metric_name()` maps a histogram series back to its family.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitoring import metrics

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DIR = REPO_ROOT / "deploy"
DASHBOARD_DIR = DEPLOY_DIR / "grafana" / "dashboards"
PROMETHEUS_CONFIG = DEPLOY_DIR / "prometheus.yml"

# Series Prometheus itself adds for every target.
PROMETHEUS_SYNTHETIC = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})
# Labels Prometheus attaches to every scraped series (job/instance, plus the `component`
# label deploy/prometheus.yml sets) and histogram bucket bounds.
TARGET_LABELS = frozenset({"job", "instance", "component", "le", "__name__"})
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count", "_created")

# --- PromQL scanning ------------------------------------------------------------------
# Everything that looks like an identifier in PromQL but is not a metric name.
PROMQL_KEYWORDS = frozenset(
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
        "unless", "offset", "atan2", "inf", "nan", "start", "end", "step", "limitk", "limit_ratio",
        # aggregation operators
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
        "bottomk", "topk", "quantile",
    }
)  # fmt: skip
PROMQL_FUNCTIONS = frozenset(
    {
        "abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh",
        "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh",
        "count_over_time", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "deg",
        "delta", "deriv", "exp", "floor", "histogram_avg", "histogram_count", "histogram_fraction",
        "histogram_quantile", "histogram_stddev", "histogram_stdvar", "histogram_sum",
        "holt_winters", "double_exponential_smoothing", "hour", "idelta", "increase", "irate",
        "label_join", "label_replace", "last_over_time", "ln", "log10", "log2", "mad_over_time",
        "max_over_time", "min_over_time", "minute", "month", "pi", "predict_linear",
        "present_over_time", "quantile_over_time", "rad", "rate", "resets", "round", "scalar",
        "sgn", "sin", "sinh", "sort", "sort_desc", "sort_by_label", "sort_by_label_desc", "sqrt",
        "stddev_over_time", "stdvar_over_time", "sum_over_time", "tan", "tanh", "time",
        "timestamp", "vector", "year",
    }
)  # fmt: skip
# Grafana's built-in interval variables stand where PromQL expects a duration.
_GRAFANA_DURATION = re.compile(
    r"\$__(?:rate_interval|interval|range)(?:_ms|_s)?|\$\{__(?:rate_interval|interval|range)\}"
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_NAME_MATCHER = re.compile(r'__name__\s*=\s*"([A-Za-z_:][A-Za-z0-9_:]*)"')
_BRACES = re.compile(r"\{[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")
_IDENTIFIER = re.compile(r"(?<![\w.$])([A-Za-z_:][A-Za-z0-9_:]*)(?!\w)")
# A selector with its matchers: name{label="value", ...}
_SELECTOR = re.compile(r"(?<![\w.$])([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^{}]*)\}")
_MATCHER_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")


def _grafana_to_promql(expr: str) -> str:
    """Replace Grafana variables so the text is plain PromQL (their values don't matter)."""
    expr = _GRAFANA_DURATION.sub("5m", expr)
    # Inside strings ("$engine" in a matcher) variables are harmless text; outside one
    # (`topk($n, ...)`) a number stands in for them.
    parts, last = [], 0
    for string in _STRING.finditer(expr):
        parts.append(re.sub(r"\$\{[^}]*\}|\$[A-Za-z_]\w*", "1", expr[last : string.start()]))
        parts.append(string.group(0))
        last = string.end()
    parts.append(re.sub(r"\$\{[^}]*\}|\$[A-Za-z_]\w*", "1", expr[last:]))
    return "".join(parts)


def metric_names_in_promql(expr: str) -> set[str]:
    """Metric names an expression selects: identifiers left once strings, label
    matchers, ranges, grouping label lists, functions and keywords are taken out."""
    expr = _grafana_to_promql(expr)
    names = set(_NAME_MATCHER.findall(expr))
    text = _STRING.sub('""', expr)
    text = _BRACES.sub(" ", text)
    text = _BRACKETS.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    for match in _IDENTIFIER.finditer(text):
        word = match.group(1)
        following = text[match.end() :].lstrip()
        if word in PROMQL_KEYWORDS or word in PROMQL_FUNCTIONS:
            continue
        if following.startswith("("):  # any other call is a function we don't know yet
            continue
        names.add(word)
    return names


def grouping_labels_in_promql(expr: str) -> set[str]:
    """Labels named in `by (...)`, `without (...)`, `on (...)` and friends."""
    text = _STRING.sub('""', _grafana_to_promql(expr))
    return {label.strip() for group in _GROUPING.findall(text) for label in group.split(",") if label.strip()}


def matcher_labels_in_promql(expr: str) -> Iterator[tuple[str, str]]:
    """(metric name, label) for every label matcher written on a named selector."""
    text = _grafana_to_promql(expr)
    for match in _SELECTOR.finditer(text):
        if match.group(1) in PROMQL_KEYWORDS:  # `... or {__name__="x"}`
            continue
        body = _STRING.sub('""', match.group(2))
        for label in _MATCHER_LABEL.findall(body):
            yield match.group(1), label


# --- where the expressions live --------------------------------------------------------
def _dashboard_files() -> list[Path]:
    return sorted(DASHBOARD_DIR.glob("*.json"))


def _walk_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _walk_panels(panel.get("panels", []))  # rows hold their panels when collapsed


_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.+),\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$", re.DOTALL)
_QUERY_RESULT = re.compile(r"^\s*query_result\((.*)\)\s*$", re.DOTALL)


def _variable_query_exprs(variable: dict[str, Any]) -> Iterator[str]:
    if variable.get("type") != "query":
        return
    query = variable.get("query")
    text = query.get("query", "") if isinstance(query, dict) else (query or "")
    if match := _LABEL_VALUES.match(text):
        if match.group(1):
            yield match.group(1)
    elif match := _QUERY_RESULT.match(text):
        yield match.group(1)
    elif text.strip() and not text.strip().startswith(("label_names(", "metrics(")):
        yield text


def dashboard_expressions() -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and query variable of every dashboard."""
    found = []
    for path in _dashboard_files():
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        for panel in _walk_panels(dashboard.get("panels", [])):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    found.append((f"{path.name}: {panel.get('title')!r} {target.get('refId')}", target["expr"]))
        for variable in dashboard.get("templating", {}).get("list", []):
            for expr in _variable_query_exprs(variable):
                found.append((f"{path.name}: variable ${variable['name']}", expr))
    return found


def _rule_files() -> list[Path]:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    files: list[Path] = []
    for pattern in config.get("rule_files", []):
        files.extend(sorted(PROMETHEUS_CONFIG.parent.glob(pattern)))  # relative to the config file
    return files


def alert_rules() -> list[dict[str, Any]]:
    rules = []
    for path in _rule_files():
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            rules.extend(group["rules"])
    return rules


def rule_expressions() -> list[tuple[str, str]]:
    return [(f"rule {rule.get('alert') or rule.get('record')}", rule["expr"]) for rule in alert_rules()]


def all_expressions() -> list[tuple[str, str]]:
    return dashboard_expressions() + rule_expressions()


def metric_names_used_by_deploy() -> set[str]:
    """Series names the dashboards and alert rules query, as written (e.g. `..._bucket`)."""
    return {name for _, expr in all_expressions() for name in metric_names_in_promql(expr)}


# --- what is exported ------------------------------------------------------------------
def base_metric_name(name: str) -> str:
    """`tts_x_seconds_bucket` -> `tts_x_seconds` for histograms; other names unchanged."""
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in metrics.HISTOGRAM_NAMES:
            return name[: -len(suffix)]
    return name


@functools.cache
def django_prometheus_series() -> frozenset[str]:
    """Series names django-prometheus can expose, read from its source (importing it
    needs configured Django settings, which these tests do without)."""
    import importlib.util

    spec = importlib.util.find_spec("django_prometheus")
    assert spec and spec.submodule_search_locations, "django-prometheus is not installed"
    root = Path(next(iter(spec.submodule_search_locations)))
    series: set[str] = set()
    declaration = re.compile(r'(Counter|Histogram|Gauge|Summary)\s*,\s*"(django_[a-z0-9_]+)"')
    for source in root.rglob("*.py"):
        for kind, name in declaration.findall(source.read_text(encoding="utf-8")):
            if kind == "Counter":
                series.add(name if name.endswith("_total") else f"{name}_total")
            elif kind in ("Histogram", "Summary"):
                series.update({name, *(name + suffix for suffix in HISTOGRAM_SUFFIXES)})
            else:
                series.add(name)
    return frozenset(series)


def is_exported(name: str) -> bool:
    if name in PROMETHEUS_SYNTHETIC or name in django_prometheus_series():
        return True
    if name in metrics.EXPORTED_METRIC_NAMES:
        # A histogram has no series under its bare name, only _bucket/_sum/_count.
        return name not in metrics.HISTOGRAM_NAMES
    return name in _histogram_series()


@functools.cache
def _histogram_series() -> frozenset[str]:
    return frozenset(h + s for h in metrics.HISTOGRAM_NAMES for s in HISTOGRAM_SUFFIXES)


@functools.cache
def labels_of_tts_series() -> dict[str, frozenset[str]]:
    """Series name -> label names, from the metric objects in monitoring.metrics."""
    from prometheus_client.metrics import MetricWrapperBase

    labels: dict[str, frozenset[str]] = {}
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        names = frozenset(value._labelnames)
        if value._type == "counter":
            labels[f"{value._name}_total"] = names
        elif value._type == "histogram":
            labels[value._name] = names
            for suffix in HISTOGRAM_SUFFIXES:
                labels[value._name + suffix] = names | ({"le"} if suffix == "_bucket" else set())
        else:
            labels[value._name] = names
    return labels


# --- tests -----------------------------------------------------------------------------
def test_the_scanner_finds_metric_names_and_nothing_else() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (le, word_range) (rate(tts_word_count_duration_seconds_bucket"
        '{engine=~"$engine", word_range=~"1-10|200+"}[$__rate_interval]))) / on(instance) group_left '
        'max(up{job="speaker-worker"} offset 5m) > bool 1e-9 and absent(foo_total) or {__name__="bar"}'
    )
    assert metric_names_in_promql(expr) == {"tts_word_count_duration_seconds_bucket", "up", "foo_total", "bar"}
    assert grouping_labels_in_promql(expr) == {"le", "word_range", "instance"}
    assert set(matcher_labels_in_promql(expr)) == {
        ("tts_word_count_duration_seconds_bucket", "engine"),
        ("tts_word_count_duration_seconds_bucket", "word_range"),
        ("up", "job"),
    }


def test_there_is_something_to_check() -> None:
    assert _dashboard_files(), "no dashboard JSON under deploy/grafana/dashboards"
    assert alert_rules(), "no alert rules reachable from deploy/prometheus.yml"
    used = metric_names_used_by_deploy()
    # The dashboard must show the numbers the issue asks for.
    for name in (
        "tts_requests_total",
        "tts_word_count_duration_seconds_bucket",
        "tts_errors_total",
        "tts_system_cpu_usage_percent",
        "tts_system_memory_usage_bytes",
        "tts_gpu_memory_used_bytes",
        "tts_queue_depth",
        "tts_time_to_first_audio_seconds_bucket",
        "tts_realtime_factor_bucket",
        "tts_voice_request_duration_seconds_bucket",
    ):
        assert name in used, f"nothing queries {name}"


def test_every_metric_name_in_dashboards_and_alerts_is_exported() -> None:
    unknown = {
        (where, name)
        for where, expr in all_expressions()
        for name in metric_names_in_promql(expr)
        if not is_exported(name)
    }
    assert not unknown, "queries use metrics nobody exports:\n" + "\n".join(sorted(f"{w}: {n}" for w, n in unknown))


def test_label_matchers_use_labels_the_metric_has() -> None:
    known = labels_of_tts_series()
    wrong = [
        (where, name, label)
        for where, expr in all_expressions()
        for name, label in matcher_labels_in_promql(expr)
        if name in known and label not in known[name] | TARGET_LABELS
    ]
    assert not wrong, wrong


def test_grouping_labels_exist_on_some_metric_of_the_expression() -> None:
    known = labels_of_tts_series()
    wrong = []
    for where, expr in all_expressions():
        names = metric_names_in_promql(expr)
        if not names or not names <= set(known):
            continue  # django-prometheus / up: labels not modelled here
        available = set(TARGET_LABELS).union(*(known[name] for name in names))
        wrong.extend((where, label) for label in grouping_labels_in_promql(expr) - available)
    assert not wrong, wrong


def test_word_range_values_in_the_dashboard_are_the_exported_ones() -> None:
    for path in _dashboard_files():
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable["name"] == "word_range":
                assert tuple(variable["query"].split(",")) == metrics.WORD_RANGES


def test_every_expression_parses_as_promql() -> None:
    promql_parser = pytest.importorskip("promql_parser", reason="promql-parser not installed")
    failures = []
    for where, expr in all_expressions():
        try:
            promql_parser.parse(_grafana_to_promql(expr))
        except Exception as exc:  # the parser raises ValueError / its own errors
            failures.append(f"{where}: {exc}")
    assert not failures, "\n".join(failures)


def test_the_regex_scanner_agrees_with_a_real_promql_parser() -> None:
    promql_parser = pytest.importorskip("promql_parser", reason="promql-parser not installed")
    for where, expr in all_expressions():
        parsed: set[str] = set()

        def visit(node: Any, found: set[str] = parsed) -> None:
            if type(node).__name__ == "VectorSelector":
                if node.name:
                    found.add(node.name)
                for matcher in node.matchers.matchers:
                    if matcher.name == "__name__":
                        found.add(matcher.value)

        promql_parser.walk(promql_parser.parse(_grafana_to_promql(expr)), visit)
        assert metric_names_in_promql(expr) == parsed, where


def test_alert_rules_are_complete() -> None:
    rules = alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), "duplicate alert names"
    for rule in rules:
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), rule["alert"]
        assert rule["annotations"].get("summary"), rule["alert"]
        assert re.fullmatch(r"\d+[smh]", rule.get("for", "")), f"{rule['alert']}: give it a `for:`"
    used = {name for rule in rules for name in metric_names_in_promql(rule["expr"])}
    # The four alerts the issue asks for: worker heartbeat, queue age, errors, GPU memory.
    assert "up" in used
    assert "tts_queue_oldest_age_seconds" in used
    assert "tts_requests_total" in used or "tts_errors_total" in used
    assert {"tts_gpu_memory_used_bytes", "tts_gpu_memory_total_bytes"} <= used


def test_job_labels_in_queries_are_scrape_jobs() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    for where, expr in all_expressions():
        for job in re.findall(r'\bjob\s*=\s*"([^"]+)"', expr):
            assert job in jobs, f"{where}: job {job!r} is not scraped"


def test_prometheus_scrapes_the_web_and_the_workers() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    web = jobs["speaker-web"]
    assert web["metrics_path"] == "/prometheus"
    assert web["static_configs"][0]["targets"] == ["web:8010"]
    assert web["authorization"]["type"] == "Bearer" and "credentials_file" in web["authorization"]
    worker = jobs["speaker-worker"]
    [dns] = worker["dns_sd_configs"]
    assert dns["names"] == ["worker"] and dns["port"] == 9101
    # Workers on other hosts (docs/operations.md "Scale-out"): a file_sd list, empty until filled in.
    for file_sd in worker.get("file_sd_configs", []):
        for name in file_sd["files"]:
            targets = yaml.safe_load((PROMETHEUS_CONFIG.parent / name).read_text(encoding="utf-8"))
            assert isinstance(targets, list)
            assert all(re.search(r":\d+$", target) for group in targets for target in group["targets"])
    for rule_file in config["rule_files"]:
        assert (PROMETHEUS_CONFIG.parent / rule_file).is_file()


def test_the_dashboard_is_provisionable() -> None:
    [path] = _dashboard_files()
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    assert dashboard["uid"] and dashboard["title"]
    panels = list(_walk_panels(dashboard["panels"]))
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    for panel in panels:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"]), panel["title"]
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        if panel.get("repeat"):
            assert panel["repeat"] in variables
    titles = " | ".join(panel["title"].lower() for panel in panels)
    for wanted in (
        "request rate", "latency heatmap", "per-voice", "error rate", "cpu", "memory", "gpu",
        "queue depth", "time to first audio", "real-time factor",
    ):  # fmt: skip
        assert wanted in titles, f"no panel for {wanted}"
    heatmaps = [panel for panel in panels if panel["type"] == "heatmap"]
    assert any("tts_word_count_duration_seconds_bucket" in t["expr"] for p in heatmaps for t in p["targets"])


def test_grafana_provisioning_points_at_prometheus() -> None:
    datasources = yaml.safe_load(
        (DEPLOY_DIR / "grafana/provisioning/datasources/prometheus.yml").read_text(encoding="utf-8")
    )["datasources"]
    [prometheus] = [ds for ds in datasources if ds["type"] == "prometheus"]
    assert prometheus["url"] == "http://prometheus:9090"
    dashboard = json.loads(_dashboard_files()[0].read_text(encoding="utf-8"))
    datasource_variable = next(v for v in dashboard["templating"]["list"] if v["type"] == "datasource")
    assert datasource_variable["current"]["value"] == prometheus["uid"]
