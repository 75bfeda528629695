"""The layering of docs/ARCHITECTURE.md holds: every import points down, no module
imports itself in a circle, and imports inside functions are only for optional heavy
modules. The contract lives in `.importlinter` at the repository root."""

from __future__ import annotations

import ast
import configparser
import subprocess
import sys
import textwrap
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".importlinter"


def _config() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    return parser


def lint_imports(config: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    # A process of its own: in-process, import-linter trips over classes that
    # zope.interface (loaded by daphne's Twisted in this test session) has decorated.
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", str(config)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _packages() -> list[str]:
    return _config()["importlinter"]["root_packages"].split()


def test_every_import_points_down_the_layers() -> None:
    result = lint_imports(CONFIG, ROOT)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_layer_contract_catches_an_import_that_goes_up(tmp_path: Path) -> None:
    # The same layers section, on two tiny packages where the bottom one imports the top.
    for name, body in {"speech": "import core\n", "core": ""}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(body)
    config = tmp_path / ".importlinter"
    config.write_text(
        textwrap.dedent(
            """
            [importlinter]
            root_packages =
                speech
                core
            [importlinter:contract:layers]
            name = layers
            type = layers
            layers =
                core
                speech
            """
        )
    )
    result = lint_imports(config, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "speech is not allowed to import core" in result.stdout


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(start: str) -> None:
        # Iterative Tarjan: the module graph is deep enough to hit the recursion limit.
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start) & modules)))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child) & modules))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_in_a_circle() -> None:
    graph = grimp.build_graph(*_packages(), exclude_type_checking_imports=True)
    # A package's __init__ re-exporting its own submodules is not a circle of design.
    modules = {m for m in graph.modules}
    cycles = [c for c in _cycles(graph, modules) if not _only_package_reexports(c)]
    assert cycles == []


def _only_package_reexports(component: list[str]) -> bool:
    return any(all(m == p or m.startswith(p + ".") for m in component) and p in component for p in component)


def test_the_cycle_finder_finds_a_circle() -> None:
    class Graph:
        edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

        def find_modules_directly_imported_by(self, module: str) -> set[str]:
            return self.edges.get(module, set())

    assert _cycles(Graph(), {"a", "b", "c", "d"}) == [["a", "b", "c"]]  # type: ignore[arg-type]


def _function_level_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if path.name == "apps.py" and getattr(node, "name", "") == "ready":
            continue  # AppConfig.ready(): where Django apps import their receivers
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    found += [(inner.lineno, alias.name) for alias in inner.names]
                elif isinstance(inner, ast.ImportFrom):
                    found.append((inner.lineno, "." * inner.level + (inner.module or "")))
    return found


def test_imports_inside_functions_are_only_for_optional_heavy_modules() -> None:
    allowed = set(_config()["function_level_imports"]["allowed"].split())
    offenders = []
    for package in _packages():
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for line, module in _function_level_imports(path):
                if module.split(".")[0] not in allowed:
                    offenders.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offenders == []


def test_the_queue_never_imports_the_job_services() -> None:
    """The queue and the services each send their transitions' events through
    synthesis.job_events, below both (the `jobs` contract in .importlinter): no chain of
    imports leads from the queue to the services, nor from job_events to either."""
    graph = grimp.build_graph(*_packages(), exclude_type_checking_imports=True)
    assert graph.find_shortest_chain(importer="synthesis.queue", imported="synthesis.services") is None
    for above in ("synthesis.queue", "synthesis.services"):
        assert graph.find_shortest_chain(importer="synthesis.job_events", imported=above) is None


# Jobs and usage rows have one writer, synthesis (docs/ARCHITECTURE.md, "Long-form
# productions"): productions asks synthesis.segment_jobs and synthesis.usage, so every
# job transition sends the same events, metrics and audit entries whoever asks for it.
# productions may read jobs through its segments (`segment.job`, `job__status` lookups)
# and use SynthesisJob's constants (Status, ACTIVE, Mode); it never names UsageRecord,
# never reaches SynthesisJob's manager, never builds a SynthesisJob, and never calls a
# writing method on a job.
_WRITES = {"save", "delete", "update", "create", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}


def _names_a_job(node: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.Name) and "job" in n.id.lower()) or (isinstance(n, ast.Attribute) and n.attr == "job")
        for n in ast.walk(node)
    )


def _model_name(node: ast.AST) -> str:
    """`SynthesisJob` for `SynthesisJob` and for `models.SynthesisJob`."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def _direct_job_writes(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.alias) and node.name.split(".")[-1] == "UsageRecord":
            found.append((0, "imports UsageRecord"))
        elif _model_name(node) == "UsageRecord":
            found.append((node.lineno, "uses UsageRecord"))
        elif isinstance(node, ast.Attribute) and node.attr == "objects" and _model_name(node.value) == "SynthesisJob":
            found.append((node.lineno, "uses SynthesisJob.objects"))
        elif isinstance(node, ast.Call) and _model_name(node.func) == "SynthesisJob":
            found.append((node.lineno, "builds a SynthesisJob"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _WRITES:
            if _names_a_job(node.func.value):
                found.append((node.lineno, f"calls {node.func.attr}() on a job"))
    return found


def test_productions_never_writes_a_job_or_a_usage_row_itself() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} {what}"
        for path in sorted((ROOT / "productions").rglob("*.py"))
        if "migrations" not in path.parts
        for line, what in _direct_job_writes(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "source",
    [
        "from synthesis.models import UsageRecord\n",
        "from synthesis import models\nmodels.UsageRecord.objects.filter(job_id=1).update(characters=0)\n",
        "SynthesisJob.objects.filter(pk=1).update(status='cancelled')\n",
        "SynthesisJob.objects.bulk_create(jobs)\n",
        "job = SynthesisJob(owner_id=1)\n",
        "segment.job.save()\n",
        "old_job.delete()\n",
    ],
)
def test_the_job_writer_check_catches_a_direct_write(source: str) -> None:
    assert _direct_job_writes(source) != []


def test_the_job_writer_check_lets_productions_read_jobs_through_its_segments() -> None:
    source = (
        "ProductionSegment.objects.filter(production=p, job__status=SynthesisJob.Status.COMPLETED).count()\n"
        "ProductionSegment.objects.bulk_update(segments, ['job'])\n"
        "segment.save(update_fields=['text', 'job'])\n"
        "segment_jobs_cancel(job_ids=ids, statuses=SynthesisJob.ACTIVE)\n"
    )
    assert _direct_job_writes(source) == []
