"""The races of issue 18 item 2 over HTTP, against what desks run.

``sqlite``: ``bantin up`` with no configuration at all: its SQLite file in ``var/``, the
API's thread pool, a worker's pool processes and beat on that one file, the embedded
Redis. ``postgresql``: the same roles on PostgreSQL and a Redis of their own. On the
code before decision 0027 every test here failed on SQLite (two editors both saved five
rounds of five, six publishes announced an article up to six times, six withdrawals took
six off the published count) and passed on PostgreSQL.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.integration.concurrency import at_once
from tests.integration.conftest import ANNOUNCEMENT_TEST_SETTINGS, DATABASE_KINDS, create_database, drop_database
from tests.integration.receivers import Receivers
from tests.integration.stack import PrivateRedis, Stack, bantin, bantin_up, wait_until

PARALLEL = 6
ROUNDS = 5
PASSWORD = "mật khẩu đủ dài 2026"


@dataclass
class Deployment:
    kind: str
    base_url: str
    env: dict[str, str]
    database_url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def cli(self, *args: str, stdin: str = "") -> str:
        done = bantin(self.env, *args, stdin=stdin)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def client(self, scope: str) -> httpx.Client:
        """An API client holding a token with ``scope`` (one token per scope and deployment)."""
        if scope not in self.tokens:
            self.tokens[scope] = self.cli("tokens", "create", "--name", "races", "--scope", scope).split()[-1]
        headers = {"Authorization": f"Bearer {self.tokens[scope]}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60)

    def number(self, sql: str, **params: Any) -> int:
        """One number read from the database, as the deployment's own processes see it."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return int(connection.execute(text(sql), params).scalar_one())
        finally:
            engine.dispose()


def _embedded(directory: Path, receivers: Receivers) -> Iterator[Deployment]:
    settings = {**ANNOUNCEMENT_TEST_SETTINGS, **receivers.env()}
    with bantin_up(directory, **settings) as up:
        # The embedded default's own file: nothing names it in the environment.
        yield Deployment("sqlite", up.base, up.env, f"sqlite:///{directory / 'var' / 'bantin.db'}")


def _postgresql(directory: Path, receivers: Receivers) -> Iterator[Deployment]:
    name = f"bantin_it_{uuid.uuid4().hex[:10]}"
    url = create_database(name)
    broker = PrivateRedis()
    broker.start()
    stack = Stack(url, broker.url, directory, **ANNOUNCEMENT_TEST_SETTINGS, **receivers.env())
    try:
        with stack.running():
            yield Deployment("postgresql", stack.base_url, stack.env, url)
    finally:
        broker.kill()
        drop_database(name)


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def deployment(
    request: pytest.FixtureRequest, receivers: Receivers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    kind: str = request.param
    directory = tmp_path_factory.mktemp(f"races-{kind}")
    yield from (_embedded if kind == "sqlite" else _postgresql)(directory, receivers)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name} in the page"
    return match.group(1)


def signed_in(deployment: Deployment, username: str) -> tuple[httpx.Client, str]:
    """A console user made with the CLI and signed in through the form; the client and its CSRF token."""
    deployment.cli("users", "create", "--username", username, "--role", "editor", stdin=PASSWORD + "\n")
    client = httpx.Client(base_url=deployment.base_url, timeout=60, headers={"Origin": deployment.base_url})
    page = client.get("/console/login")
    answer = client.post(
        "/console/login",
        data={"username": username, "password": PASSWORD, "login_csrf": hidden(page.text, "login_csrf")},
    )
    assert answer.status_code == 303, answer.text
    return client, hidden(client.get("/console/").text, "csrf_token")


def test_two_editors_saving_one_article_at_once_one_is_told_someone_saved_first(deployment: Deployment) -> None:
    unique = uuid.uuid4().hex[:6]
    with deployment.client("publish") as api:
        created = api.post("/api/v1/articles", json={"title": f"Bài chung {unique}", "body_html": "<p>Bản đầu</p>"})
    location = f"/console/articles/{created.json()['id']}"
    editors = [signed_in(deployment, f"bientap{n}.{unique}") for n in range(2)]
    for round_ in range(ROUNDS):
        # Both open the editor on the same saved revision, then both press save.
        loaded = [hidden(client.get(location).text, "loaded_revision_id") for client, _ in editors]
        assert loaded[0] == loaded[1]

        def save(n: int, round_: int = round_, loaded: list[str] = loaded) -> httpx.Response:
            client, csrf = editors[n]
            form = {
                "csrf_token": csrf,
                "loaded_revision_id": loaded[n],
                "title": f"Bản {round_} của biên tập viên {n}",
                "body_html": f"<p>Vòng {round_}</p>",
                "action": "publish",
            }
            return client.post(location, data=form)

        answers = at_once(2, save)
        statuses = sorted(a.status_code if isinstance(a, httpx.Response) else repr(a) for a in answers)
        assert statuses == [303, 409], (round_, statuses)
        refused = next(a for a in answers if isinstance(a, httpx.Response) and a.status_code == 409)
        assert "Bài vừa được người khác lưu sau khi bạn mở trang" in refused.text
    for client, _ in editors:
        client.close()


def test_six_parallel_publishes_of_one_draft_announce_it_once(deployment: Deployment, receivers: Receivers) -> None:
    unique = uuid.uuid4().hex[:8]
    path = f"/hooks/races-{deployment.kind}-{unique}"
    with deployment.client("admin") as admin, deployment.client("publish") as api:
        subscription = admin.post(
            "/api/v1/subscriptions",
            json={
                "channel": "webhook",
                "target": f"{receivers.base}{path}",
                "events": ["article.published"],
                "categories": [f"Tin {unique}"],
            },
        )
        assert subscription.status_code == 201, subscription.text
        draft = api.post(
            "/api/v1/articles",
            json={
                "title": f"Công bố {unique}",
                "body_html": "<p>a</p>",
                "categories": [f"Tin {unique}"],
                "status": "draft",
            },
        ).json()
        answers = at_once(
            PARALLEL, lambda _: api.patch(f"/api/v1/articles/{draft['id']}", json={"status": "published"})
        )
    assert [a.status_code if isinstance(a, httpx.Response) else repr(a) for a in answers] == [200] * PARALLEL
    wait_until(lambda: receivers.got(path), 30, "the announcement")

    def settled() -> bool:
        unannounced = deployment.number(
            "SELECT count(*) FROM outbox_events WHERE article_id = :id AND announced_at IS NULL", id=draft["id"]
        )
        unsent = deployment.number(
            "SELECT count(*) FROM deliveries WHERE subscription_id = :id AND status IN ('pending', 'sending')",
            id=subscription.json()["id"],
        )
        return unannounced == 0 and unsent == 0

    wait_until(settled, 60, "every event of the article announced and every delivery sent", 0.2)
    assert len(receivers.got(path)) == 1


def test_six_parallel_withdrawals_take_one_article_off_the_counts_once(deployment: Deployment) -> None:
    unique = uuid.uuid4().hex[:8]
    category = f"Gỡ {unique}"
    with deployment.client("publish") as api:
        article = api.post(
            "/api/v1/articles", json={"title": f"Gỡ {unique}", "body_html": "<p>a</p>", "categories": [category]}
        ).json()
        answers = at_once(PARALLEL, lambda _: api.delete(f"/api/v1/articles/{article['id']}"))
        assert [a.status_code if isinstance(a, httpx.Response) else repr(a) for a in answers] == [204] * PARALLEL
        slug = article["categories"][0]["slug"]
        published = api.get(f"/api/v1/articles?category={slug}&status=published").json()["total"]
        withdrawn = api.get(f"/api/v1/articles?category={slug}&status=withdrawn").json()["total"]
    assert (published, withdrawn) == (0, 1)
    assert deployment.number("SELECT min(articles) FROM article_counts") >= 0


def test_parallel_requests_with_one_idempotency_key_create_one_article(deployment: Deployment) -> None:
    unique = uuid.uuid4().hex[:8]
    body = {"title": f"Một lần {unique}", "body_html": "<p>a</p>", "categories": [f"Một {unique}"]}
    with deployment.client("publish") as api:
        answers = at_once(
            PARALLEL, lambda _: api.post("/api/v1/articles", json=body, headers={"Idempotency-Key": unique})
        )
        responses = [a for a in answers if isinstance(a, httpx.Response)]
        assert [r.status_code for r in responses] == [201] * PARALLEL, answers
        assert len({r.json()["id"] for r in responses}) == 1
        slug = responses[0].json()["categories"][0]["slug"]
        assert api.get(f"/api/v1/articles?category={slug}").json()["total"] == 1
