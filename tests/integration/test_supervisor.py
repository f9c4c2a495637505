"""``bantin up`` keeps the service up when one of its processes dies (issue 8, item 21)."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.receivers import Receivers
from tests.integration.stack import REPO, Up, bantin_up, wait_until


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    with bantin_up(tmp_path) as running:
        yield running


def test_killed_embedded_redis_and_worker_come_back_and_the_service_works(up: Up) -> None:
    token = _token(up)
    client = httpx.Client(base_url=up.base, headers={"Authorization": f"Bearer {token}"}, timeout=15)

    redis_pid = up.pid_of("redis")
    os.kill(redis_pid, signal.SIGKILL)
    wait_until(lambda: up.pid_of("redis") != redis_pid, 30, "the embedded Redis to be restarted", 0.2)
    assert "redis was killed by SIGKILL; restarting it in" in up.log()
    assert not Path(f"/proc/{redis_pid}").exists(), "the killed Redis was left a zombie"

    worker_pid = up.pid_of("worker")
    os.kill(worker_pid, signal.SIGKILL)
    wait_until(lambda: up.pid_of("worker") != worker_pid, 30, "the worker to be restarted", 0.2)
    assert "worker was killed by SIGKILL; restarting it in" in up.log()
    assert up.process.poll() is None, "bantin up stopped when the worker died"

    # Everything works again: the API answers ready and a new article reaches the feed,
    # which needs the restarted Redis and the restarted worker.
    wait_until(lambda: _status(f"{up.base}/readyz") == 200, 30, "readiness after the restarts", 0.2)
    created = client.post("/api/v1/articles", json={"title": "Tin sau khi khởi động lại", "body_html": "<p>a</p>"})
    assert created.status_code == 201, created.text
    guid = created.json()["guid"]
    wait_until(lambda: guid in client.get("/feeds/atom.xml").text, 60, "the restarted worker to render", 0.25)
    client.close()


def test_every_process_of_bantin_up_signs_with_one_generated_secret(tmp_path: Path, receivers: Receivers) -> None:
    """Issue 18 item 10: a fresh start writes a random owner-only var/secret_key, never
    "change-me"; the API makes a sign-up's token from it and the worker its mail, so the link
    in the mail opens only if both read the same key."""
    address = f"khoi.dong.{uuid.uuid4().hex[:6]}@example.vn"
    with bantin_up(tmp_path, BANTIN_EGRESS_ALLOW="127.0.0.1/32", **receivers.env()) as running:
        secret_file = tmp_path / "var" / "secret_key"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        secret = secret_file.read_text().strip()
        assert len(secret) == 64 and secret != "change-me"
        with httpx.Client(base_url=running.base, timeout=15) as reader:
            page = reader.get("/subscribe")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token, page.text[:300]
            form = {"csrf_token": token.group(1), "email": address, "consent": "yes", "frequency": "each"}
            assert reader.post("/subscribe", data=form).status_code == 303

            def mail() -> str | None:
                with receivers.lock:
                    sent = [m for m in receivers.emails if str(m["To"]).lower() == address]
                body = sent[0].get_body(("plain",)) if sent else None
                return str(body.get_content()) if body is not None else None

            text = wait_until(mail, 60, "the worker's confirmation mail", 0.2)
            link = re.search(rf"{re.escape(running.base)}/subscribe/confirm/[A-Za-z0-9_-]{{43}}", text)
            assert link, text
            landing = reader.get(link.group(0))
            assert landing.status_code == 200 and "Xác nhận" in landing.text
            confirm = re.search(r'name="csrf_token" value="([^"]+)"', landing.text)
            assert confirm
            done = reader.post(link.group(0), data={"csrf_token": confirm.group(1)})
            assert done.status_code == 200 and "Đã đăng ký" in done.text
    assert secret_file.read_text().strip() == secret  # kept for the next start


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (a prefork worker's pool)."""
    found = []
    for process_stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = process_stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(process_stat.parent.name))
    return found


OPENED = re.compile(
    r"SQLite \S+ opened by process (\d+): journal_mode=(\w+) busy_timeout=(\d+) ms foreign_keys=(\d) "
    r"pysqlite_begin=(\w+); write transactions begin IMMEDIATE"
)


def test_the_api_and_every_worker_process_open_the_database_file_alike(up: Up) -> None:
    """Issue 18 item 2: the worker's pool processes write the same SQLite file as the API's
    threads, so each of them must wait for the write lock and take it at BEGIN (decision 0027)."""
    pool = wait_until(lambda: _children(up.pid_of("worker")), 30, "the worker's pool processes", 0.2)
    expected = dict.fromkeys([up.pid_of("api"), *pool], ("wal", "30000", "1", "off"))

    def opened() -> dict[int, tuple[str, ...]]:
        return {int(m[0]): tuple(m[1:]) for m in OPENED.findall(up.log()) if int(m[0]) in expected}

    assert wait_until(lambda: len(opened()) == len(expected) and opened(), 60, "every process's first connection")
    assert opened() == expected


def _token(up: Up) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "tokens", "create", "--name", "sup", "--scope", "publish"],
        env=up.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return 0
