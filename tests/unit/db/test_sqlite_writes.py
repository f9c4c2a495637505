"""SQLite write transactions hold the write lock from their first statement; autocommit
reads hold nothing (decision 0027). Checked against the file with a second, plain sqlite3
connection that does not wait (``timeout=0``), so each answer is immediate."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing

import pytest
from sqlalchemy import func, select, text

from service.db.engine import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    NestedWriteTransaction,
    get_engine,
    get_sessionmaker,
    read_scope,
    session_scope,
)
from service.db.models import Category
from service.db.types import utcnow


@pytest.fixture
def other() -> Iterator[sqlite3.Connection]:
    """Another process's view of the file: a connection that never waits for a lock."""
    path = get_engine().url.database
    assert path
    with closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as connection:
        yield connection


def can_write(connection: sqlite3.Connection) -> bool:
    """Whether ``connection`` gets the write lock right now (taken and given back at once)."""
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    connection.execute("ROLLBACK")
    return True


def test_a_unit_of_work_holds_the_write_lock_from_its_first_read(other: sqlite3.Connection) -> None:
    # Through a pooled connection that served an autocommit read before (SQLAlchemy puts
    # pysqlite's own BEGIN handling back on it when that read ends).
    with read_scope() as session:
        session.execute(text("SELECT 1"))
    with session_scope() as session:
        session.scalar(select(func.count()).select_from(Category))
        assert not can_write(other)
    assert can_write(other)


def test_a_failed_unit_of_work_gives_the_lock_back(other: sqlite3.Connection) -> None:
    with pytest.raises(ZeroDivisionError), session_scope() as session:
        session.execute(text("SELECT 1"))
        assert not can_write(other)
        _ = 1 / 0
    assert can_write(other)


def test_autocommit_reads_take_no_lock_and_never_wait_for_a_writer(other: sqlite3.Connection) -> None:
    with read_scope() as session:
        session.execute(text("SELECT 1"))
        assert can_write(other)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO categories (name, slug, created_at) VALUES ('Chưa lưu', 'chua-luu', '2027-01-01')")
    try:
        with read_scope() as session:
            # Answered at once, from the last commit (WAL): the writer's row is not there yet.
            assert session.scalar(select(func.count()).select_from(Category)) == 0
    finally:
        other.execute("ROLLBACK")


def test_a_nested_unit_of_work_joins_the_outer_one_and_an_error_undoes_only_its_own_part() -> None:
    with session_scope() as outer:
        outer.add(Category(name="Thời sự", slug="thoi-su", created_at=utcnow()))
        with session_scope() as inner:
            assert inner is outer
            inner.add(Category(name="Kinh tế", slug="kinh-te", created_at=utcnow()))
        with pytest.raises(ZeroDivisionError), session_scope() as failing:
            failing.add(Category(name="Bỏ đi", slug="bo-di", created_at=utcnow()))
            failing.flush()
            _ = 1 / 0
    with read_scope() as session:
        assert sorted(session.scalars(select(Category.slug))) == ["kinh-te", "thoi-su"]


def test_a_second_write_transaction_on_one_thread_fails_at_once_instead_of_waiting_for_itself() -> None:
    with session_scope() as session:
        session.execute(text("SELECT 1"))
        second = get_sessionmaker()()
        try:
            with pytest.raises(NestedWriteTransaction):
                second.execute(text("SELECT 1"))
        finally:
            second.close()
    # Once the first has ended, the thread begins again as usual.
    with closing(get_sessionmaker()()) as third:
        third.execute(text("SELECT 1"))
        third.commit()


def test_every_connection_is_set_up_alike() -> None:
    with read_scope() as session:
        assert session.scalar(text("PRAGMA journal_mode")) == "wal"
        assert session.scalar(text("PRAGMA foreign_keys")) == 1
        assert session.scalar(text("PRAGMA busy_timeout")) == SQLITE_BUSY_TIMEOUT_SECONDS * 1000


def test_another_thread_waits_for_the_lock_and_then_goes_on() -> None:
    """Two threads, one pooled connection passed between them: the second thread's unit of
    work queues behind the first one's (the busy timeout), it is not taken for a nested one."""
    with session_scope() as session:
        session.execute(text("SELECT 1"))  # this thread's last unit of work ended here
    holding, waited = threading.Event(), threading.Event()
    outcome: list[object] = []

    def other_thread() -> None:
        try:
            with session_scope() as session:
                session.add(Category(name="Thời sự", slug="thoi-su", created_at=utcnow()))
                session.flush()
                holding.set()
                waited.wait(10)
            outcome.append("committed")
        except Exception as exc:  # noqa: BLE001 - the assertion below names it
            outcome.append(exc)

    thread = threading.Thread(target=other_thread)
    thread.start()
    assert holding.wait(10)
    releaser = threading.Timer(0.2, waited.set)
    releaser.start()
    with session_scope() as session:  # waits in BEGIN IMMEDIATE until the other commits
        assert session.scalar(select(func.count()).select_from(Category)) == 1
    thread.join(10)
    assert outcome == ["committed"]
