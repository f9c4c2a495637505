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


def test_a_generated_secret_is_random_owner_only_and_kept(tmp_path: Path, open_umask: None) -> None:
    from service.private_files import private_secret

    path = tmp_path / "var" / "secret_key"
    secret = private_secret(path)
    assert len(secret) == 64 and mode(path) == 0o600 and mode(path.parent) == 0o700
    assert private_secret(path) == secret
    assert private_secret(tmp_path / "other" / "secret_key") != secret
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".secret-")]  # no candidates left
    os.chmod(path, 0o644)
    assert private_secret(path) == secret and mode(path) == 0o600  # loosened by hand: tightened again


def test_processes_starting_together_all_read_one_generated_secret(tmp_path: Path) -> None:
    """``bantin up`` starts the API, a worker and beat at once (and the CLI may run beside them):
    each builds its settings from the same var dir, and all must sign with the same key."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("BANTIN_")}
    env.update(BANTIN_ENVIRONMENT="development", BANTIN_VAR_DIR=str(tmp_path / "var"))
    code = "from config.settings import get_settings; print(get_settings().secret_key.get_secret_value())"
    started = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True) for _ in range(8)
    ]
    secrets = {process.communicate(timeout=60)[0].strip() for process in started}
    assert all(process.returncode == 0 for process in started)
    assert secrets == {(tmp_path / "var" / "secret_key").read_text().strip()} and len(secrets.pop()) == 64
