"""The pool pings a connection only after it sat idle, and replaces one that fails the ping."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, text

from service.db import engine as engine_module
from service.db.engine import PING_AFTER_IDLE_SECONDS, make_engine


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(engine_module, "time", SimpleNamespace(monotonic=clock))
    return clock


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return make_engine(f"sqlite:///{tmp_path / 'pings.db'}")


def count_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    pings: list[object] = []
    real = engine.dialect.do_ping

    def ping(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", ping)
    return pings


def test_a_new_or_recently_used_connection_is_not_pinged(
    engine: Engine, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = count_pings(engine, monkeypatch)
    for _ in range(3):
        with engine.connect() as connection:
            assert connection.execute(text("select 1")).scalar() == 1
        clock.now += PING_AFTER_IDLE_SECONDS / 2
    assert pings == []


def test_a_connection_idle_in_the_pool_is_pinged_before_use(
    engine: Engine, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = count_pings(engine, monkeypatch)
    with engine.connect() as connection:
        connection.execute(text("select 1"))
    clock.now += PING_AFTER_IDLE_SECONDS
    with engine.connect() as connection:
        assert connection.execute(text("select 2")).scalar() == 2
    assert len(pings) == 1


def test_an_idle_connection_that_died_is_replaced_before_use(
    engine: Engine, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = count_pings(engine, monkeypatch)
    with engine.connect() as connection:
        connection.execute(text("create table notes (body text)"))
        connection.execute(text("insert into notes values ('còn đây')"))
        connection.commit()
        dead = connection.connection.dbapi_connection
    assert dead is not None
    dead.close()  # as a server restart would leave it, while it sits in the pool
    clock.now += PING_AFTER_IDLE_SECONDS + 1
    with engine.connect() as connection:
        assert connection.execute(text("select body from notes")).scalar() == "còn đây"
        assert connection.connection.dbapi_connection is not dead
    assert pings[0] is dead and len(pings) >= 1
