"""Who the client is, and the limits keyed by it, against the real server that ``bantin api``
starts (uvicorn, two worker processes) and a real Redis (issue 18 items 4-6, decision 0028).

- 30 parallel wrong passwords from one client get exactly five tries (SQLite and PostgreSQL).
- From a host that is not a trusted proxy, a fresh ``X-Forwarded-For`` or ``Forwarded`` per
  request escapes no limit keyed by the client: the sign-in limits per (account, client) and
  per client, and the sign-up limit per client (every such limit Bantin has).
- Behind a trusted proxy, one client's failures do not lock out another, an account under
  attack is slowed for the attackers only, and the access line and the sign-up record name
  the client the proxy saw.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from tests.integration.conftest import create_database, drop_database
from tests.integration.stack import REPO, Stack, wait_until

PASSWORD = "Mật khẩu biên tập 2026"
WRONG = "không phải mật khẩu"
PARALLEL = 30
SIGNUPS_PER_CLIENT = 3


def _start(directory: Path, database_url: str, redis_url: str, workers: int = 1, **settings: str) -> Stack:
    """Migrate, create the editor ``bientap``, start ``bantin api --workers N``."""
    stack = Stack(database_url, redis_url, directory, **settings)
    migrated = stack.run("db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    created = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "users", "create", "--username", "bientap"],
        env=stack.env,
        cwd=REPO,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    stack.start("api", "api", "--port", str(stack.port), "--no-migrate", "--workers", str(workers))
    wait_until(stack._api_answers, 60, "the API to answer /healthz")
    return stack


@contextmanager
def running(stack: Stack) -> Iterator[Stack]:
    try:
        yield stack
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.stop_all()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def two_processes(
    request: pytest.FixtureRequest, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The API as compose runs it (two uvicorn processes, so requests really run at once), on each database."""
    directory = tmp_path_factory.mktemp(f"parallel-{request.param}")
    name = f"bantin_it_{uuid.uuid4().hex[:10]}"
    url = create_database(name) if request.param == "postgresql" else f"sqlite:///{directory / 'bantin.db'}"
    try:
        with running(_start(directory, url, redis_url, workers=2)) as stack:
            yield stack
    finally:
        if request.param == "postgresql":
            drop_database(name)


@pytest.fixture(scope="module")
def direct(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The API with clients connecting to it directly: BANTIN_TRUSTED_PROXIES unset."""
    directory = tmp_path_factory.mktemp("direct")
    limit = str(SIGNUPS_PER_CLIENT)
    stack = _start(
        directory, f"sqlite:///{directory / 'bantin.db'}", redis_url, BANTIN_SUBSCRIBE_PER_CLIENT_PER_HOUR=limit
    )
    with running(stack):
        yield stack


@pytest.fixture(scope="module")
def behind_proxy(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The API behind a reverse proxy on this host (BANTIN_TRUSTED_PROXIES=127.0.0.1/32, as with
    deploy/nginx): the test plays the proxy, writing the client's address as nginx would."""
    directory = tmp_path_factory.mktemp("proxied")
    stack = _start(directory, f"sqlite:///{directory / 'bantin.db'}", redis_url, BANTIN_TRUSTED_PROXIES="127.0.0.1/32")
    with running(stack):
        yield stack


@pytest.fixture(autouse=True)
def empty_counters(redis_url: str) -> None:
    """Every test starts with no counts (both APIs share the test's Redis database)."""
    redis.Redis.from_url(redis_url).flushdb()


def _login_token(base: str, headers: dict[str, str]) -> str:
    page = httpx.get(f"{base}/console/login", headers=headers, timeout=30)
    assert page.status_code == 200
    return page.cookies["bantin_login_csrf"]


def sign_in(
    base: str, password: str, username: str = "bientap", headers: dict[str, str] | None = None, token: str = ""
) -> httpx.Response:
    """One sign-in as a browser would make it (its own double-submit cookie), no cookie jar shared."""
    headers = headers or {}
    token = token or _login_token(base, headers)
    return httpx.post(
        f"{base}/console/login",
        data={"username": username, "password": password, "login_csrf": token},
        headers={"Origin": base, "Cookie": f"bantin_login_csrf={token}", **headers},
        timeout=120,
    )


def spoofed(number: int) -> dict[str, str]:
    """What a client may write itself: a fresh address each time, in both header forms."""
    if number % 2:
        return {"X-Forwarded-For": f"198.51.100.{number}"}
    return {"Forwarded": f'for="[2001:db8::{number:x}]:4711"'}


def test_thirty_parallel_wrong_passwords_get_five_tries(two_processes: Stack) -> None:
    """Issue 18 item 4: each attempt is counted before its password is checked."""
    base = two_processes.base_url
    token = _login_token(base, {})
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        answers = list(pool.map(lambda _: sign_in(base, WRONG, token=token), range(PARALLEL)))
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(401) == 5 and statuses.count(429) == PARALLEL - 5, statuses
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert "Hãy thử lại sau 15 phút." in refused.text and 0 < int(refused.headers["retry-after"]) <= 900
    # The right password from the same client waits too; nothing was signed in.
    assert sign_in(base, PASSWORD).status_code == 429


def test_a_fresh_forwarding_header_does_not_escape_the_account_and_client_limit(direct: Stack) -> None:
    answers = [sign_in(direct.base_url, WRONG, headers=spoofed(n)) for n in range(6)]
    assert [answer.status_code for answer in answers] == [401] * 5 + [429]
    # Refused as this client on this account: the server saw one client, not six.
    assert "quá nhiều lần từ địa chỉ mạng của bạn" in answers[-1].text


def test_a_fresh_forwarding_header_does_not_escape_the_client_limit(direct: Stack) -> None:
    """One host spraying usernames: 20 failures (CLIENT_LIMIT), then every account is refused."""
    for number in range(20):
        answer = sign_in(direct.base_url, WRONG, username=f"khach{number}", headers=spoofed(number))
        assert answer.status_code == 401, number
    refused = sign_in(direct.base_url, PASSWORD, headers=spoofed(99))
    assert refused.status_code == 429 and "từ địa chỉ mạng của bạn" in refused.text


def test_a_fresh_forwarding_header_does_not_escape_the_sign_up_limit(direct: Stack) -> None:
    def sign_up(number: int) -> httpx.Response:
        with httpx.Client(base_url=direct.base_url, headers=spoofed(number), timeout=30) as reader:
            page = reader.get("/subscribe")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token, page.text[:300]
            form = {"csrf_token": token.group(1), "email": f"doc.gia.{number}@example.vn", "consent": "yes"}
            return reader.post("/subscribe", data={**form, "frequency": "each", "lang": "vi"})

    statuses = [sign_up(number).status_code for number in range(SIGNUPS_PER_CLIENT + 1)]
    assert statuses == [303] * SIGNUPS_PER_CLIENT + [429]


def test_uvicorn_leaves_the_peer_alone_and_the_access_line_names_it(direct: Stack) -> None:
    """Uvicorn would trust X-Forwarded-For from 127.0.0.1 by default; ``bantin api`` turns that off."""
    marker = f"probe-{uuid.uuid4().hex[:8]}"
    answer = httpx.get(
        f"{direct.base_url}/healthz", headers={"X-Forwarded-For": "203.0.113.77", "X-Request-ID": marker}, timeout=10
    )
    assert answer.status_code == 200
    line = wait_until(lambda: _access_line(direct, marker, "GET /healthz"), 10, "the access line of the probe")
    assert "client=127.0.0.1" in line and "203.0.113.77" not in line


def test_behind_the_proxy_one_clients_failures_do_not_lock_out_another(behind_proxy: Stack) -> None:
    base = behind_proxy.base_url
    attacker = {"X-Forwarded-For": "1.2.3.4, 198.51.100.7"}  # the left entry is the attacker's own words
    assert [sign_in(base, WRONG, headers=attacker).status_code for _ in range(6)] == [401] * 5 + [429]
    owner = sign_in(base, PASSWORD, headers={"X-Forwarded-For": "198.51.100.8", "X-Request-ID": "owner-1"})
    assert owner.status_code == 303 and owner.headers["location"] == "/console/"
    line = wait_until(lambda: _access_line(behind_proxy, "owner-1", "POST /console/login"), 10, "the access line")
    assert "POST /console/login 303" in line and "client=198.51.100.8" in line


def test_behind_the_proxy_an_account_under_attack_is_slowed_for_attackers_only(behind_proxy: Stack) -> None:
    base = behind_proxy.base_url
    for number in range(10, 16):  # six addresses, one wrong password each
        assert sign_in(base, WRONG, headers={"Forwarded": f"for=198.51.100.{number}"}).status_code == 401
    slowed = sign_in(base, WRONG, headers={"Forwarded": "for=198.51.100.10"})
    assert slowed.status_code == 429 and "làm chậm" in slowed.text and "giây." in slowed.text
    owner = sign_in(base, PASSWORD, headers={"Forwarded": "for=198.51.100.40;proto=https"})
    assert owner.status_code == 303


def test_behind_an_rfc_7239_proxy_the_sign_up_records_the_client_it_saw(behind_proxy: Stack) -> None:
    address = f"qua.proxy.{uuid.uuid4().hex[:6]}@example.vn"
    proxy_wrote = {"Forwarded": 'for="198.51.100.30:51234";proto=https;by=127.0.0.1'}
    with httpx.Client(base_url=behind_proxy.base_url, headers=proxy_wrote) as reader:
        page = reader.get("/subscribe")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        form = {"csrf_token": token.group(1), "email": address, "consent": "yes", "frequency": "each"}
        assert reader.post("/subscribe", data=form).status_code == 303
    exported = behind_proxy.run("subscribers", "export", address)
    assert exported.returncode == 0, exported.stderr
    requests = json.loads(exported.stdout)["subscriptions"][0]["signup_requests"]
    assert [r["client_address"] for r in requests] == ["198.51.100.30"]


def _access_line(stack: Stack, request_id: str, request: str) -> str | None:
    """The access line of ``request`` (e.g. "GET /healthz") made with this X-Request-ID."""
    log = (stack.log_dir / "api.log").read_text(errors="replace")
    found = (line for line in log.splitlines() if f"bantin.access: {request} " in line and request_id in line)
    return next(found, None)
