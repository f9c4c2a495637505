"""Engine and session factory built from the settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from config.settings import get_settings
from service.db import after_commit
from service.private_files import private_file


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite the file is owner-only, connections are shared across
    threads and set up by ``_sqlite_pragmas``.
    """
    kwargs: dict[str, Any] = {"pool_pre_ping": True, "future": True}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            # It holds webhook secrets and subscriber addresses: owner-only, like its directory.
            private_file(Path(path))
        # The API serves requests from a thread pool; SQLite connections are per thread.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read feeds while a worker writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process's engine for ``BANTIN_DATABASE_URL`` (SQLite in ``var/`` by default)."""
    return make_engine(get_settings().effective_database_url)


@lru_cache(maxsize=1)
def get_sessionmaker() -> sessionmaker[Session]:
    """The process's session factory; objects stay readable after commit."""
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error.

    Tasks the work deferred (``after_commit.defer``) are sent after the commit, and
    dropped with a rollback.
    """
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        deferred = after_commit.take(session)
        session.close()
    after_commit.send(deferred)


@contextmanager
def read_scope() -> Iterator[Session]:
    """A session for reads only, on a connection in autocommit mode.

    No ``BEGIN`` and no ``COMMIT``: two round trips fewer than ``session_scope`` for a
    page that is one statement (each statement sees its own snapshot, so a caller that
    needs several to agree uses ``session_scope``). Nothing may be written through it.
    """
    connection = get_engine().connect().execution_options(isolation_level="AUTOCOMMIT")
    with connection, Session(bind=connection, expire_on_commit=False) as session:
        yield session
