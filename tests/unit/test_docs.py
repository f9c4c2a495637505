"""The documentation holds together: every relative link and anchor leads somewhere, every
``BANTIN_*`` variable it names is a real setting, every decision the code cites has its file
and is listed in ARCHITECTURE.md, and the README stays a front door."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
DECISIONS = DOCS / "decisions"
PAGES = [REPO / "README.md", REPO / "ARCHITECTURE.md", *sorted(DOCS.rglob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# The test suite's own variables (docs/development.md), read by tests/, not by Settings.
TEST_VARIABLES = {"BANTIN_TEST_POSTGRES_URL", "BANTIN_TEST_REDIS_URL", "BANTIN_TEST_RABBITMQ_HOST"}
CITATION = re.compile(r"\bdecisions? (\d+)(?: and (\d+))?")


def anchors(page: Path) -> set[str]:
    """The ids GitHub gives a Markdown page's headings: lower case, punctuation dropped, spaces as -."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def decision_files() -> dict[int, Path]:
    return {int(path.name[:4]): path for path in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md")}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_relative_links_and_their_anchors_lead_somewhere(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not ours to check here
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no heading #{anchor}")
    assert broken == []


def test_every_variable_the_docs_name_is_a_setting() -> None:
    settings = {f"BANTIN_{name.upper()}" for name in Settings.model_fields}
    unknown = {
        f"{page.relative_to(REPO)}: {name}"
        for page in PAGES
        for name in re.findall(r"\bBANTIN_[A-Z0-9_]*[A-Z0-9]\b", page.read_text(encoding="utf-8"))
        if name not in settings | TEST_VARIABLES
    }
    assert sorted(unknown) == []


def test_each_decision_has_its_sections_and_is_listed_in_architecture() -> None:
    numbers = sorted(int(path.name[:4]) for path in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert len(numbers) == len(set(numbers)), f"two decisions share a number: {numbers}"
    assert [p.name for p in DECISIONS.iterdir() if not re.fullmatch(r"\d{4}-[a-z0-9-]+\.md", p.name)] == []
    files = decision_files()
    architecture = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for number, path in files.items():
        text = path.read_text(encoding="utf-8")
        assert text.startswith(f"# {number}. "), path.name
        assert [line for line in text.splitlines() if line.startswith("## ")] == [
            "## Context",
            "## Decision",
            "## Consequences",
        ], path.name
        assert f"{number}. [" in architecture and f"](docs/decisions/{path.name})" in architecture, path.name


def test_every_decision_cited_in_code_or_docs_has_its_file() -> None:
    files = decision_files()
    sources = [*PAGES, REPO / "bench" / "README.md"]
    for folder in ("service", "workers", "config", "bench", "tests", "deploy"):
        sources += [p for p in (REPO / folder).rglob("*") if p.suffix in {".py", ".md", ".yaml", ".html", ".js"}]
    cited = {
        f"{source.relative_to(REPO)}: decision {number}"
        for source in sources
        for match in CITATION.finditer(source.read_text(encoding="utf-8"))
        for number in filter(None, match.groups())
        if int(number) not in files
    }
    assert sorted(cited) == []


def test_the_readme_is_a_front_door() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 250
    assert "make run" in readme and "make test" in readme
    for page in sorted(DOCS.glob("*.md")):
        assert f"](docs/{page.name})" in readme, f"README does not lead to docs/{page.name}"
