"""On PostgreSQL: a pooled connection whose server process is gone is replaced before use
once it has sat idle; one that dies while busy fails one statement, then the pool recovers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from service.db.engine import PING_AFTER_IDLE_SECONDS, make_engine
from tests.integration.conftest import POSTGRES_ADMIN_URL, create_database, drop_database


@pytest.fixture
def engine() -> Iterator[Engine]:
    name = f"bantin_it_pings_{uuid.uuid4().hex[:8]}"
    engine = make_engine(create_database(name))
    yield engine
    engine.dispose()
    drop_database(name)


def backend_of(engine: Engine) -> int:
    with engine.connect() as connection:
        pid = connection.execute(text("select pg_backend_pid()")).scalar_one()
    return int(pid)


def terminate(pid: int) -> None:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    admin.dispose()


def test_an_idle_connection_whose_server_process_ended_is_replaced(engine: Engine) -> None:
    killed = backend_of(engine)
    terminate(killed)
    time.sleep(PING_AFTER_IDLE_SECONDS + 0.2)
    assert backend_of(engine) != killed


def test_a_connection_killed_while_hot_fails_once_and_the_pool_recovers(engine: Engine) -> None:
    killed = backend_of(engine)
    terminate(killed)
    # Checked out again at once: no ping (the price of skipping it), so the statement fails...
    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.execute(text("select 1"))
    # ...and the pool has dropped the dead connection: the next checkout works at once.
    assert backend_of(engine) != killed
