"""Search on PostgreSQL: every scenario of tests/unit/search/test_search.py, and the proof
that PostgreSQL (tsvectors, GIN) and SQLite (FTS5) give the same results, rank by rank
and page by page, for every query of the shared fixture (decision 33)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.integration.pg_scenarios import empty_tables, postgres_database, run_on_postgresql, scenario_names
from tests.unit.search import test_search as scenarios

__all__ = ["empty_tables", "postgres_database"]  # the module's fixtures
SCENARIOS = scenario_names(scenarios)


def test_every_scenario_of_the_unit_file_is_run_here() -> None:
    assert len(SCENARIOS) >= 12, SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_on_postgresql(scenario: str, request: pytest.FixtureRequest) -> None:
    run_on_postgresql(scenarios, scenario, request)


@pytest.fixture
def articles() -> dict[str, int]:
    from service.db.engine import session_scope
    from tests.search_fixture import load

    with session_scope() as session:
        return load(session)


Answer = tuple[str, str | None, int | None, int, bool, list[object]]


def answers(session: Session) -> list[Answer]:
    """Every query of the fixture, every page of three, each tier read whole and in two
    parts split after the newest 2 or 5 articles: tiers, titles and snippets (ids differ
    between the databases: PostgreSQL's sequence is not reset between tests)."""
    from service.search.query import parse_query, search
    from service.site.navigation import read_navigation
    from tests.search_fixture import QUERIES

    seen: list[Answer] = []
    categories = read_navigation(session).ids_by_slug()
    for text, category in QUERIES:
        for recent in (None, 2, 5):
            page = 1
            while True:
                query = parse_query(text, category, str(page), categories)
                results = search(session, query, 3, recent=recent)
                shown: list[object] = [(r.tier, r.title, r.snippet) for r in results.results]
                seen.append((text, category, recent, page, results.more, shown))
                if not results.more:
                    break
                page += 1
    return seen


def test_postgresql_and_sqlite_give_the_same_results(tmp_path: Path) -> None:
    from service.db.engine import get_engine, make_engine
    from service.db.migrate import upgrade
    from tests.search_fixture import load

    sqlite_url = f"sqlite:///{tmp_path / 'search.db'}"
    upgrade(sqlite_url)
    engines = {"postgresql": get_engine(), "sqlite": make_engine(sqlite_url)}
    results = {}
    for name, engine in engines.items():
        with Session(engine) as session:
            load(session)
            session.commit()
            results[name] = answers(session)
    engines["sqlite"].dispose()
    found = sum(len(entry[-1]) for entry in results["sqlite"])
    assert found > 50, "the fixture's queries should find plenty"
    assert results["postgresql"] == results["sqlite"]


def test_recount_rebuilds_the_index_to_the_same_results(articles: dict[str, int]) -> None:
    from sqlalchemy import text

    from service.articles.derived import recount
    from service.db.engine import session_scope
    from service.search.index import entry_count

    with session_scope() as session:
        before = answers(session)
        published = entry_count(session)
        session.execute(text("DELETE FROM article_search"))
    with session_scope() as session:
        assert answers(session) != before
        recount(session)
    with session_scope() as session:
        assert entry_count(session) == published
        assert answers(session) == before
