"""Engine and session factory built from the settings."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from config.settings import get_settings
from service.db import after_commit
from service.private_files import private_file

# What code that commits several times takes instead of opening sessions itself:
# ``session_scope`` in the service, a test's own factory in tests.
UnitOfWork = Callable[[], AbstractContextManager[Session]]

# A pooled connection checked in less than this long ago is handed out without a ping.
PING_AFTER_IDLE_SECONDS = 1.0


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite the file is owner-only, connections are shared across
    threads and set up by ``_sqlite_pragmas``. A connection idle in the pool for
    ``PING_AFTER_IDLE_SECONDS`` or more is pinged before use (``_ping_when_idle``).
    """
    kwargs: dict[str, Any] = {"future": True}
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
    event.listen(engine.pool, "checkin", _note_checkin)
    event.listen(engine.pool, "checkout", _ping_when_idle(engine))
    return engine


def _note_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_when_idle(engine: Engine) -> Any:
    """A pool ``checkout`` listener: SQLAlchemy's ``pool_pre_ping``, except for a connection
    just made or checked in within the last ``PING_AFTER_IDLE_SECONDS``.

    Why: the ping is a round trip of its own, as long as a page's whole query, on every
    request; what it guards against (a server restart, an idle connection cut by a
    firewall or a pooler) happens to connections that sat idle. A connection that died
    while busy fails its statement, and SQLAlchemy then discards the whole pool, as it
    would with ``pool_pre_ping``. A failed ping raises DisconnectionError, on which the
    pool retries with a new connection.
    """

    def checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        # None: a connection just made (SQLAlchemy clears ``info`` when it replaces one).
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc

    return checkout


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
