"""What Bantin keeps on disk is owner-only: the var directory, the SQLite database (and its
WAL), the embedded Redis socket — whatever the umask."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from service.cli import embedded_redis
from service.db.engine import make_engine


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the usual default: files 0644, directories 0755
    yield
    os.umask(previous)


def test_a_new_database_and_its_directory_are_owner_only(tmp_path: Path, open_umask: None) -> None:
    var = tmp_path / "var"
    engine = make_engine(f"sqlite:///{var / 'bantin.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE secrets (value TEXT)"))
        connection.execute(text("INSERT INTO secrets VALUES ('whsec_x')"))
        assert mode(var) == 0o700
        assert mode(var / "bantin.db") == 0o600
        assert mode(var / "bantin.db-wal") == 0o600  # SQLite copies the database's mode
    engine.dispose()


def test_a_world_readable_database_left_by_an_older_version_is_tightened(tmp_path: Path, open_umask: None) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    (var / "bantin.db").touch(mode=0o644)
    os.chmod(var, 0o755)  # noqa: S103 - the loose mode an older version left
    os.chmod(var / "bantin.db", 0o644)
    make_engine(f"sqlite:///{var / 'bantin.db'}").dispose()
    assert mode(var) == 0o700 and mode(var / "bantin.db") == 0o600


def test_the_embedded_redis_socket_is_owner_only(tmp_path: Path, open_umask: None) -> None:
    socket_path = tmp_path / "var" / "redis.sock"
    process = embedded_redis.start(socket_path)
    try:
        assert mode(socket_path.parent) == 0o700
        assert mode(socket_path) & 0o077 == 0
    finally:
        process.terminate()
        process.wait(timeout=10)
