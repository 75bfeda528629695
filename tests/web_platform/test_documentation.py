"""The documentation holds together: the README is a front door that reaches every page of
docs/ in one click, every link in README.md and docs/ leads to a file and a heading that
exist, and every pointer from the code (`docs/api.md "Errors"`) names a section that does."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOC_PAGES = sorted((ROOT / "docs").glob("*.md"))
# A pointer from code or configuration to a section: README "Title", docs/api.md "Title",
# docs/ARCHITECTURE.md, "Title" (a comment may break the line between the two).
POINTER = re.compile(r'\b(README|docs/[\w.-]+\.md)(?:[\s,:*]|#|//)*"(\w[^"]{0,99})"')


def tracked_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / name for name in names if (ROOT / name).is_file()]


def prose_lines(page: Path) -> list[str]:
    """The page's lines outside fenced code blocks (a `# comment` in a shell block is no heading)."""
    lines, fenced = [], False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def headings(page: Path) -> list[tuple[int, str]]:
    """(level, title) of each heading."""
    found = (re.match(r"(#{1,6}) (.*)", line) for line in prose_lines(page))
    return [(len(match.group(1)), match.group(2).strip()) for match in found if match]


def anchors(page: Path, *, levels: range = range(1, 7)) -> set[str]:
    """The ids GitHub gives the page's headings: lower case, punctuation dropped, spaces to
    hyphens, a repeated one numbered."""
    seen: dict[str, int] = {}
    ids = set()
    for level, title in headings(page):
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        if level in levels:
            ids.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return ids


def links(page: Path) -> list[str]:
    return [target for line in prose_lines(page) for target in re.findall(r"\]\(([^)\s]+)\)", line)]


def test_the_readme_is_a_front_door_of_at_most_250_lines():
    assert len(README.read_text().splitlines()) <= 250


def test_the_readme_keeps_the_two_commands():
    text = README.read_text()
    assert re.search(r"^make run ", text, re.M) and re.search(r"^make test ", text, re.M)


def test_every_page_of_docs_is_one_click_from_the_readme():
    linked = {(ROOT / target.split("#")[0]).resolve() for target in links(README) if target.startswith("docs/")}
    assert DOC_PAGES, "docs/ has no pages"
    assert not [page.name for page in DOC_PAGES if page.resolve() not in linked]


def test_every_section_of_a_reference_page_is_one_click_from_the_readme():
    # The pages the README's reference moved to: each of their sections has its own link.
    reference = {"api.md", "compatibility.md", "operations.md", "performance.md", "CONTRIBUTING.md"}
    targets = set(links(README))
    missing = [
        f"docs/{page.name}#{anchor}"
        for page in DOC_PAGES
        if page.name in reference
        for anchor in anchors(page, levels=range(2, 4))  # its sections and their parts, not the title
        if f"docs/{page.name}#{anchor}" not in targets
    ]
    assert not missing, missing


def test_every_link_in_the_readme_and_docs_leads_to_a_file_and_heading_that_exist():
    broken = []
    for page in [README, *DOC_PAGES]:
        for target in links(page):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            destination = (page.parent / path).resolve() if path else page
            if not destination.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken


def test_every_page_of_docs_that_the_code_names_exists():
    missing = set()
    for path in tracked_files():
        if path.suffix in {".png", ".svg", ".wav", ".onnx", ".ico"}:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        missing |= {
            f"{path.relative_to(ROOT)}: {name}"
            for name in re.findall(r"\bdocs/[\w.-]+\.md", text)
            if not (ROOT / name).is_file()
        }
    assert not missing, sorted(missing)


def test_every_pointer_to_a_documented_section_names_one_that_exists():
    sections = {page: {title for _, title in headings(page)} for page in [README, *DOC_PAGES]}
    missing = []
    for path in tracked_files():
        # This file's own pattern is not a pointer.
        if path.suffix in {".png", ".svg", ".wav", ".onnx", ".ico"} or path == Path(__file__):
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for name, raw in POINTER.findall(text):
            # A title broken over two comment lines reads as one.
            title = re.sub(r"\s*\n\s*(?:#|//)?\s*", " ", raw).strip()
            page = README if name == "README" else ROOT / name
            if title not in sections.get(page, set()):
                missing.append(f"{path.relative_to(ROOT)}: {name} {title!r}")
    assert not missing, missing


def test_a_services_package_names_each_of_its_modules_in_its_docstring():
    missing = [
        f"{module.relative_to(ROOT)}"
        for package in sorted(ROOT.glob("*/services/__init__.py"))
        for module in sorted(package.parent.glob("*.py"))
        if module.name != "__init__.py" and module.name not in (ast.get_docstring(ast.parse(package.read_text())) or "")
    ]
    assert not missing, missing
