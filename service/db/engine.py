"""Engine and session factory built from the settings."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from config.settings import get_settings
from service.db import after_commit
from service.private_files import private_file

log = logging.getLogger(__name__)

# What code that commits several times takes instead of opening sessions itself:
# ``session_scope`` in the service, a test's own factory in tests.
UnitOfWork = Callable[[], AbstractContextManager[Session]]

# A pooled connection checked in less than this long ago is handed out without a ping.
PING_AFTER_IDLE_SECONDS = 1.0


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite the file is owner-only, connections are shared across
    threads, set up by ``_sqlite_connection`` and every transaction but an autocommit one
    begins with ``BEGIN IMMEDIATE`` (``_SqliteWriteLock``, decision 0027). A
    connection idle in the pool for ``PING_AFTER_IDLE_SECONDS`` or more is pinged before
    use (``_ping_when_idle``).
    """
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            # It holds webhook secrets and subscriber addresses: owner-only, like its directory.
            private_file(Path(path))
        # The API serves requests from a thread pool; SQLite connections are per thread.
        # ``timeout`` is SQLite's busy timeout (sqlite3_busy_timeout): see SQLITE_BUSY_TIMEOUT_SECONDS.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_connection)
        event.listen(engine, "connect", _report_first_sqlite_connection(path), once=True)
        write_lock = _SqliteWriteLock()
        event.listen(engine, "begin", write_lock.begin)
        event.listen(engine, "commit", write_lock.end)
        event.listen(engine, "rollback", write_lock.end)
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


# How long a SQLite connection waits for the write lock (or, rarely, a checkpoint) before
# giving up with "database is locked". With BEGIN IMMEDIATE every writer waits here, in
# BEGIN, so this is the queue of the embedded default's writers: long enough that a burst
# of saves, a 2,000-reader digest chunk or a migration is waited out rather than turned into
# errors; short enough that a thread stuck behind a dead lock holder fails within a task's
# time limit. A write transaction here takes milliseconds (decision 0027 has the figures).
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


class NestedWriteTransaction(RuntimeError):
    """A thread that holds SQLite's write lock began a second write transaction on another
    connection: the second would wait for the first, which cannot end while its thread waits."""


def _sqlite_connection(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """Set up a new SQLite connection (the API, the worker's pool processes and the CLI all
    open the file through ``make_engine``, so all of them get these).

    - pysqlite's own transaction handling off (``isolation_level = None``): it would
      ``BEGIN`` only before the first INSERT/UPDATE/DELETE, so every SELECT before it read
      outside any transaction and outside the write lock; ``_SqliteWriteLock``
      emits our BEGIN instead (SQLAlchemy's documented pysqlite recipe).
    - WAL: readers never wait for the writer and the writer never waits for readers, so
      feeds, pages and the autocommit reads stay lock-free while writes are serialised.
    - foreign keys: off by default in SQLite.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _report_first_sqlite_connection(path: str) -> Callable[[Any, ConnectionPoolEntry], None]:
    """A ``connect`` listener (run once per engine, so once per process) that logs how the
    connection it just set up reads back: every process that opens the file (API, each of
    the worker's pool processes, the CLI) says so in its own log (decision 0027)."""

    def report(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        try:
            (journal_mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
            (busy_ms,) = cursor.execute("PRAGMA busy_timeout").fetchone()
            (foreign_keys,) = cursor.execute("PRAGMA foreign_keys").fetchone()
        finally:
            cursor.close()
        log.info(
            "SQLite %s opened by process %d: journal_mode=%s busy_timeout=%d ms foreign_keys=%d "
            "pysqlite_begin=%s; write transactions begin IMMEDIATE",
            path,
            os.getpid(),
            journal_mode,
            busy_ms,
            foreign_keys,
            "off" if dbapi_connection.isolation_level is None else "on",
        )

    return report


class _SqliteWriteLock:
    """The engine's ``begin``, ``commit`` and ``rollback`` listeners for SQLite.

    ``begin`` emits ``BEGIN IMMEDIATE``, so a transaction holds SQLite's write lock from its
    first statement to its end and every read-check-write in it holds, as ``SELECT … FOR
    UPDATE`` and conditional UPDATEs make it hold on PostgreSQL (decision 0027). An
    autocommit connection (``read_scope``) begins nothing: its reads take no lock.

    Each thread's open write transaction is remembered until it commits or rolls back, so
    that a second one begun by the same thread raises NestedWriteTransaction at once rather
    than waiting the busy timeout for the lock its own thread holds.
    """

    def __init__(self) -> None:
        self._held = threading.local()

    def begin(self, connection: Connection) -> None:
        if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return
        held = getattr(self._held, "connection", None)
        if held is not None and _in_transaction(held):
            raise NestedWriteTransaction(
                "this thread already holds the SQLite write lock through another unit of work; "
                "do the work in that one (a nested session_scope joins it)"
            )
        dbapi_connection = connection.connection.driver_connection
        assert dbapi_connection is not None  # a connection being begun is checked out
        # SQLAlchemy puts pysqlite's own handling back ("") when an autocommit checkout ends.
        dbapi_connection.isolation_level = None
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        self._held.connection = dbapi_connection

    def end(self, connection: Connection) -> None:
        if getattr(self._held, "connection", None) is connection.connection.driver_connection:
            self._held.connection = None


def _in_transaction(dbapi_connection: Any) -> bool:
    try:
        return bool(dbapi_connection.in_transaction)
    except Exception:  # noqa: BLE001 - a closed connection holds nothing
        return False


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process's engine for ``BANTIN_DATABASE_URL`` (SQLite in ``var/`` by default)."""
    return make_engine(get_settings().effective_database_url)


@lru_cache(maxsize=1)
def get_sessionmaker() -> sessionmaker[Session]:
    """The process's session factory; objects stay readable after commit."""
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


# The unit of work open on this thread, which a nested ``session_scope`` joins.
_open_unit = threading.local()


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error.

    Tasks the work deferred (``after_commit.defer``) are sent after the commit, and
    dropped with a rollback.

    Opened inside another ``session_scope`` on the same thread (a console page whose
    ``html_page`` pops the flash while the handler's unit of work is open), it joins that
    one: the same session, the block in a SAVEPOINT that an error rolls back, committed
    with the outer. Why: on SQLite a second transaction would wait for the outer one's
    write lock, which its own thread holds (decision 0027); on PostgreSQL it was a second
    connection for the same request.
    """
    outer: Session | None = getattr(_open_unit, "session", None)
    if outer is not None:
        with outer.begin_nested():
            yield outer
        return
    session = get_sessionmaker()()
    _open_unit.session = session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        _open_unit.session = None
        deferred = after_commit.take(session)
        session.close()
    after_commit.send(deferred)


@contextmanager
def read_scope() -> Iterator[Session]:
    """A session for reads only, on a connection in autocommit mode.

    No ``BEGIN`` and no ``COMMIT``: two round trips fewer than ``session_scope`` for a
    page that is one statement (each statement sees its own snapshot, so a caller that
    needs several to agree uses ``session_scope``). Nothing may be written through it.
    On SQLite it is the one path that takes no lock: with WAL it never waits for a writer,
    while a ``session_scope`` holds the write lock from its first statement (decision 0027);
    the API's GETs (not the privacy export, read in one snapshot) and the public pages use it.
    """
    connection = get_engine().connect().execution_options(isolation_level="AUTOCOMMIT")
    with connection, Session(bind=connection, expire_on_commit=False) as session:
        yield session
