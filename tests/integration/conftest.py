"""Integration fixtures: a fresh PostgreSQL database, the machine's Redis, and the
real API, worker and beat processes. Nothing of ours is mocked."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

# In-process checks (settings, the claim/record scenarios on PostgreSQL) read the same
# environment as the unit tests, whether or not the unit tests are collected in this run;
# the stacks' processes build theirs from scratch (stack.clean_env).
import tests.unit.conftest  # noqa: F401 - importing it sets that environment
from tests.integration.announce import Subscriber
from tests.integration.receivers import Receivers
from tests.integration.stack import Stack
from tests.unit.conftest import settings_override  # noqa: F401 - the same fixture for in-process tests

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

POSTGRES_ADMIN_URL = os.environ.get("BANTIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BANTIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def create_database(name: str) -> str:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure here means "no PostgreSQL", said plainly
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is needed for integration tests: {exc}")
    finally:
        admin.dispose()
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def api_alone(log_dir: Path, redis_url: str, **settings: str) -> Iterator[Stack]:
    """``bantin api`` alone (no worker, no beat) on a fresh, migrated PostgreSQL database,
    with ``settings`` (BANTIN_*) added; its log is printed if the block fails."""
    name = f"bantin_it_{uuid.uuid4().hex[:10]}"
    stack = Stack(create_database(name), redis_url, log_dir, **settings)
    try:
        assert stack.run("db", "upgrade").returncode == 0
        stack.start_api()
        yield stack
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.stop_all()
        drop_database(name)


@contextmanager
def in_process_database(kind: str, directory: Path | None = None) -> Iterator[str]:
    """This process's settings, engine and sessions pointed at a fresh, migrated database
    for the block (tests that call the domain code in-process, without a worker); the
    previous environment and caches come back afterwards. Yields the database URL.

    ``kind``: "postgresql" (a new database on the machine's server, dropped afterwards) or
    "sqlite" (a file in ``directory``, as the embedded default keeps it: never ``:memory:``,
    whose one connection would hide every question of locking).
    """
    from config.settings import get_settings
    from service.db.engine import get_engine, get_sessionmaker
    from service.db.migrate import upgrade

    if kind == "postgresql":
        name = f"bantin_it_{uuid.uuid4().hex[:10]}"
        url = create_database(name)
    elif kind == "sqlite" and directory is not None:
        url = f"sqlite:///{directory / f'bantin_{uuid.uuid4().hex[:10]}.db'}"
    else:
        raise ValueError(f"no in-process database of kind {kind!r} (sqlite needs a directory)")
    saved = dict(os.environ)
    os.environ.update(
        BANTIN_ENVIRONMENT="test",
        BANTIN_DATABASE_URL=url,
        BANTIN_BROKER_URL="memory://",
        BANTIN_BASE_URL="https://bantin.example.vn",
    )
    caches = (get_settings, get_engine, get_sessionmaker)
    for cache in caches:
        cache.cache_clear()
    try:
        assert get_engine().dialect.name == kind
        upgrade()
        yield url
    finally:
        get_engine().dispose()
        os.environ.clear()
        os.environ.update(saved)
        for cache in caches:
            cache.cache_clear()
        if kind == "postgresql":
            drop_database(name)


DATABASE_KINDS = ("sqlite", "postgresql")


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def each_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The module's tests once on a SQLite file and once on PostgreSQL, in-process
    (``in_process_database``): concurrency holds on both or on neither. Yields the kind."""
    kind: str = request.param
    with in_process_database(kind, tmp_path_factory.mktemp(kind)):
        yield kind


def empty_all_tables() -> None:
    """Delete every row of the in-process database, children first (between tests sharing it)."""
    from service.db.engine import get_engine
    from service.db.models import APPEND_ONLY_TABLES, Base
    from tests.append_only import empty_audit_log

    with get_engine().begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in APPEND_ONLY_TABLES:  # their triggers refuse a plain DELETE
                connection.execute(table.delete())
        empty_audit_log(connection)


@pytest.fixture(scope="session")
def fresh_database() -> Iterator[str]:
    name = f"bantin_it_{uuid.uuid4().hex[:10]}"
    url = create_database(name)
    yield url
    drop_database(name)


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is needed for integration tests: {exc}")
    return REDIS_URL


@pytest.fixture(scope="session")
def receivers() -> Iterator[Receivers]:
    servers = Receivers()
    servers.start()
    yield servers
    servers.stop()


# Short enough that retries, dead batches and timeouts play out within a test.
ANNOUNCEMENT_TEST_SETTINGS = {
    "BANTIN_EGRESS_ALLOW": "127.0.0.1/32",
    "BANTIN_DELIVERY_RETRY_SCHEDULE": "[1, 1, 1, 1]",
    "BANTIN_DELIVERY_TIMEOUT_SECONDS": "2",
    "BANTIN_TASK_TIME_LIMIT_SECONDS": "20",
    "BANTIN_DELIVERY_LEASE_SECONDS": "25",
    "BANTIN_TELEGRAM_PER_BOT_PER_SECOND": "1000",
    "BANTIN_WEBSUB_PENDING_PER_HOST": "10",
}


@pytest.fixture(scope="session")
def stack(
    fresh_database: str, redis_url: str, receivers: Receivers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    stack = Stack(
        fresh_database, redis_url, tmp_path_factory.mktemp("stack"), **ANNOUNCEMENT_TEST_SETTINGS, **receivers.env()
    )
    with stack.running() as running:
        yield running


# Module-scoped, so a module that brings a stack of its own (RabbitMQ) gets clients for it.
@pytest.fixture(scope="module")
def publisher(stack: Stack) -> Iterator[httpx.Client]:
    token = stack.create_token("publish")
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def admin(stack: Stack) -> Iterator[httpx.Client]:
    token = stack.create_token("admin")
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        yield client


@pytest.fixture
def anonymous(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        yield client


@pytest.fixture
def subscriber(admin: httpx.Client, unique: str) -> Iterator[Subscriber]:
    helper = Subscriber(admin, f"Tin {unique}")
    yield helper
    helper.cleanup()


@pytest.fixture
def unique() -> str:
    """A short random word, so tests sharing one stack never see each other's categories."""
    return uuid.uuid4().hex[:8]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # On an integration failure, the processes' logs are what explain it.
    if report.failed and report.when == "call":
        for path in sorted(Path("/tmp").glob("pytest-of-*/pytest-current/stack*/*.log")):
            report.sections.append((f"log {path.name}", path.read_text(errors="replace")[-3000:]))


# Debian's chromium, driven by Playwright (its own browser download cannot work here).
# The flags keep a headless root run from reaching for Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium per test module (the pages, console and reader tests share it)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is needed for the browser tests: `make browser` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, stack: Stack) -> Iterator[BrowserContext]:
    """A fresh browser context on the module's stack: desktop width, Vietnamese locale, 15 s waits."""
    ctx = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 900}, locale="vi-VN")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()
