"""Migrations from an empty database match the models, and every revision goes down and
up again, on PostgreSQL and on SQLite. Generic over the revisions: a new migration is
covered by adding it, with no change here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect

from config.settings import get_settings
from service.db.migrate import alembic_config
from service.db.models import Base
from service.search.index import owned_by_search
from tests.integration.conftest import create_database, drop_database
from tests.integration.stack import bantin, clean_env


@pytest.fixture
def empty_database() -> Iterator[str]:
    name = f"bantin_it_migrate_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    yield url
    drop_database(name)


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bantin.db'}"
        return
    name = f"bantin_it_migrate_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    yield url
    drop_database(name)


def models_diff(connection: Any) -> list[Any]:
    """What differs between the database and the models, leaving out the search index's
    tables (no model: FTS5 has no place in the metadata; tests/integration/test_search_pg.py
    covers them, and the stairway below their upgrade and downgrade)."""

    def include_name(name: str | None, kind: str, _parents: Any) -> bool:
        return not (kind == "table" and name is not None and owned_by_search(name))

    context = MigrationContext.configure(connection, opts={"include_name": include_name})
    return list(compare_metadata(context, Base.metadata))


def revisions_base_to_head() -> list[tuple[str, str | None]]:
    """(revision, its down revision) for every migration, oldest first."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    steps: list[tuple[str, str | None]] = []
    for found in reversed(list(script.walk_revisions("base", "heads"))):
        down = found.down_revision
        assert down is None or isinstance(down, str), f"{found.revision} merges branches; give it a test of its own"
        steps.append((found.revision, down))
    return steps


def schema(engine: Engine) -> dict[str, Any]:
    """Tables with their columns, indexes, unique constraints and foreign keys, for comparison."""
    inspector = inspect(engine)
    shape: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        shape[table] = {
            "columns": sorted((c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)),
            "indexes": sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)),
            "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            "foreign_keys": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"]) for f in inspector.get_foreign_keys(table)
            ),
        }
    return shape


class StatementLog:
    """Every SQL statement any engine in this process runs while it is open."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __enter__(self) -> StatementLog:
        event.listen(Engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(" ".join(statement.split()))


CREATE_INDEX = re.compile(r'CREATE (?:UNIQUE )?INDEX (CONCURRENTLY )?(?:IF NOT EXISTS )?"?(\w+)"? ON "?(\w+)"?', re.I)


def test_every_revision_upgrades_downgrades_and_upgrades_again(empty_url: str) -> None:
    """The "stairway": for each revision, oldest first, upgrade to it, downgrade one step
    (the schema must be exactly what it was) and upgrade again. On PostgreSQL, an index
    on a table that already existed before the revision is built CONCURRENTLY."""
    config = alembic_config(empty_url)
    engine = create_engine(empty_url)
    revisions = revisions_base_to_head()
    assert len(revisions) >= 5
    try:
        for revision, down in revisions:
            before = schema(engine)
            with StatementLog() as log:
                command.upgrade(config, revision)
            after = schema(engine)
            if engine.dialect.name == "postgresql":
                for statement in log.statements:
                    match = CREATE_INDEX.match(statement)
                    if match and match.group(3) in before:
                        assert match.group(1), (
                            f"{revision}: index {match.group(2)} on the existing table "
                            f"{match.group(3)} must be built CONCURRENTLY (create_index_on_existing_table)"
                        )
            command.downgrade(config, down or "base")
            assert schema(engine) == before, f"downgrade of {revision} did not restore the schema before it"
            command.upgrade(config, revision)
            assert schema(engine) == after, f"{revision} upgraded again differs from its first upgrade"
        with engine.connect() as connection:
            diff = models_diff(connection)
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        assert version == revisions[-1][0]
        assert diff == [], f"models and migrations disagree at head: {diff}"
    finally:
        engine.dispose()


def test_cli_upgrade_from_empty_matches_the_models(empty_database: str) -> None:
    result = bantin(clean_env(BANTIN_DATABASE_URL=empty_database), "db", "upgrade")
    assert result.returncode == 0, result.stderr
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        tables = {name for name in inspect(connection).get_table_names() if not owned_by_search(name)}
        diff = models_diff(connection)
    engine.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"} == tables
    assert diff == [], f"models and migrations disagree: {diff}"


def test_cli_rolls_back_one_release_and_forward_again(empty_url: str) -> None:
    env = clean_env(BANTIN_DATABASE_URL=empty_url)
    head, previous = revisions_base_to_head()[-1][0], revisions_base_to_head()[-2][0]
    assert bantin(env, "db", "upgrade").returncode == 0
    back = bantin(env, "db", "downgrade", previous)
    assert back.returncode == 0 and f"database at {previous}" in back.stdout, back.stderr
    engine = create_engine(empty_url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == previous
    again = bantin(env, "db", "upgrade")
    assert again.returncode == 0 and "database at head" in again.stdout, again.stderr
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head
    engine.dispose()
    bad = bantin(env, "db", "downgrade", "9999")
    assert bad.returncode != 0


def test_downgrade_to_base_and_upgrade_again(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = create_engine(empty_database)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    command.upgrade(config, "head")
    assert "articles" in inspect(engine).get_table_names()
    engine.dispose()


def test_two_api_processes_seeding_key_dates_at_once_both_start(empty_database: str) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from service.calendar.loader import load_key_dates
    from service.calendar.service import sync_seed_file
    from service.db.models import KeyDate
    from service.db.types import utcnow

    command.upgrade(alembic_config(empty_database), "head")
    engine = create_engine(empty_database)
    entries = load_key_dates(Path(__file__).resolve().parents[2] / "config" / "key_dates.yaml")

    def seed(_: int) -> list[str]:
        with Session(engine) as session, session.begin():
            return sync_seed_file(session, entries, utcnow(), get_settings())

    with ThreadPoolExecutor(max_workers=2) as pool:
        added = list(pool.map(seed, range(2)))
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(KeyDate)) == 17
    engine.dispose()
    assert sorted(len(ids) for ids in added) == [0, 17]  # one added them all, the other found them


def test_0006_compresses_the_documents_rendered_before_it(empty_database: str) -> None:
    import gzip

    import brotli
    from sqlalchemy import text

    config = alembic_config(empty_database)
    command.upgrade(config, "0005")
    engine = create_engine(empty_database)
    body = "<feed>Bản tin cũ</feed>".encode()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO feed_documents (scope, format, body, etag, last_modified, rendered_at) "
                "VALUES ('site', 'atom', :body, '\"old\"', now(), now())"
            ),
            {"body": body},
        )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        row = connection.execute(text("SELECT body_gzip, body_br, version FROM feed_documents")).one()
    engine.dispose()
    assert gzip.decompress(row[0]) == body and brotli.decompress(row[1]) == body and row[2] == 1


def test_0015_counts_and_dates_the_articles_written_before_it(empty_database: str) -> None:
    from sqlalchemy import text

    config = alembic_config(empty_database)
    command.upgrade(config, "0010")
    engine = create_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO categories (id, name, slug, created_at) VALUES (1, 'Thời sự', 'thoi-su', now())")
        )
        connection.execute(
            text(
                "INSERT INTO articles (id, guid, slug, title, body_html, status, published_at, created_at, updated_at,"
                " search_text) SELECT n, 'urn:uuid:' || md5(n::text)::uuid, 'bai', 'Bài', '<p>x</p>',"
                " CASE WHEN n = 3 THEN 'withdrawn' WHEN n = 4 THEN 'draft' ELSE 'published' END,"
                " CASE WHEN n = 4 THEN NULL ELSE '2026-11-01'::timestamptz + n * interval '1 hour' END,"
                " now(), now(), '' FROM generate_series(1, 4) AS n"
            )
        )
        connection.execute(text("INSERT INTO article_categories (article_id, category_id) VALUES (1, 1), (3, 1)"))
    command.upgrade(config, "0015")
    with engine.connect() as connection:
        counts = {
            (row.status, row.category_id): row.articles
            for row in connection.execute(text("SELECT status, category_id, articles FROM article_counts"))
        }
        dates = {
            row.article_id: row.published_at
            for row in connection.execute(text("SELECT article_id, published_at FROM article_categories"))
        }
        generation = connection.scalar(text("SELECT generation FROM site_generation"))
    engine.dispose()
    assert counts == {
        ("published", 0): 2,
        ("withdrawn", 0): 1,
        ("draft", 0): 1,
        ("published", 1): 1,
        ("withdrawn", 1): 1,
    }
    assert dates[3] is None and dates[1] is not None  # only what is published is listed
    assert generation == 1


def test_0019_indexes_the_articles_published_before_it(empty_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from service.search.query import parse_query, search

    config = alembic_config(empty_url)
    command.upgrade(config, "0018")
    engine = create_engine(empty_url)
    with engine.begin() as connection:
        for n, (title, status) in enumerate(
            (("Kỷ niệm ngày thành lập Đảng", "published"), ("Nháp về Đảng", "draft"), ("Đã gỡ về Đảng", "withdrawn")),
            start=1,
        ):
            connection.execute(
                text(
                    "INSERT INTO articles (id, guid, slug, title, body_html, status, published_at, created_at,"
                    " updated_at, search_text) VALUES (:id, :guid, 'bai', :title, '<p>Đảng Cộng sản</p>', :status,"
                    " :at, :at, :at, '')"
                ),
                {
                    "id": n,
                    "guid": f"urn:uuid:{uuid.UUID(int=n)}",
                    "title": title,
                    "status": status,
                    "at": "2026-11-01 00:00:00",
                },
            )
    command.upgrade(config, "0019")
    with Session(engine) as session:
        found = search(session, parse_query("dang cong san", None, None, {}), 10)
    engine.dispose()
    assert [r.id for r in found.results] == [1]
