"""Migrations from an empty PostgreSQL database match the models, and go down and up again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from service.db.migrate import alembic_config
from service.db.models import Base
from tests.integration.conftest import create_database, drop_database
from tests.integration.stack import bantin, clean_env


@pytest.fixture
def empty_database() -> Iterator[str]:
    name = f"bantin_it_migrate_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    yield url
    drop_database(name)


def test_cli_upgrade_from_empty_matches_the_models(empty_database: str) -> None:
    result = bantin(clean_env(BANTIN_DATABASE_URL=empty_database), "db", "upgrade")
    assert result.returncode == 0, result.stderr
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"} == tables
    assert diff == [], f"models and migrations disagree: {diff}"


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
            return sync_seed_file(session, entries, utcnow())

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
