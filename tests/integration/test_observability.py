"""A running stack, observed as an operator would: Prometheus scrapes of the API and a
worker, JSON logs from every role, and no secret in any log line.

One stack for the module, with JSON logs, an SMTP relay that requires a password, the
Telegram bot token, a Slack webhook URL, a webhook secret and an API token: every
secret the flow creates is then looked for in every log file.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from celery import Celery
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from tests.integration.announce import Subscriber, publish
from tests.integration.conftest import ANNOUNCEMENT_TEST_SETTINGS, create_database, drop_database
from tests.integration.receivers import TELEGRAM_TOKEN, Receivers
from tests.integration.stack import PrivateRedis, Stack, free_port, wait_until

# AUTH without TLS, on purpose: BANTIN_SMTP_SECURITY=plain on 127.0.0.1 (TLS has its own test).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
REPO = Path(__file__).resolve().parents[2]
SMTP_USER = "bantin-mailer"
SMTP_PASSWORD = f"smtp-pw-{uuid.uuid4().hex}"
SECRET_KEY = f"observability-secret-key-{uuid.uuid4().hex}"
ROLES = {"api.log": "api", "worker.log": "worker", "sender.log": "worker", "beat.log": "beat"}
REQUIRED_FIELDS = {"timestamp", "level", "role", "logger", "message"}

# What the issue asks to see in a scrape (counters and histograms by their sample names).
API_SERIES = {
    "bantin_http_requests_total",
    "bantin_http_request_duration_seconds_bucket",
    "bantin_feed_requests_total",
    "bantin_outbox_lag_seconds",
    "bantin_delivery_retry_backlog",
    "bantin_reminders_due_unsent",
    "bantin_subscriptions",
    "bantin_recent_deliveries",
}
WORKER_SERIES = {
    "bantin_feed_render_duration_seconds_bucket",
    "bantin_deliveries_total",
    "bantin_delivery_latency_seconds_bucket",
    "bantin_task_duration_seconds_bucket",
    "bantin_task_failures_total",
}


class PasswordSmtp:
    """An SMTP relay that accepts mail only after AUTH with our user and password."""

    def __init__(self) -> None:
        self.port = free_port()
        self.emails: list[EmailMessage] = []
        self.logins: list[str] = []

    def authenticate(self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        if ok:
            self.logins.append(SMTP_USER)
        return AuthResult(success=ok)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.emails.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def __enter__(self) -> PasswordSmtp:
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self.authenticate,
            auth_require_tls=False,
            auth_required=True,
        )
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


@pytest.fixture(scope="module")
def smtp() -> Iterator[PasswordSmtp]:
    with PasswordSmtp() as server:
        yield server


@pytest.fixture(scope="module")
def observed(
    receivers: Receivers,
    smtp: PasswordSmtp,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    # A database and a Redis of its own: the session's main stack may be running too, and
    # its worker must not take this stack's messages (their metrics and logs are checked here).
    name = f"bantin_it_observed_{uuid.uuid4().hex[:8]}"
    broker = PrivateRedis()
    broker.start()
    settings = {
        **ANNOUNCEMENT_TEST_SETTINGS,
        **receivers.env(),
        "BANTIN_LOG_FORMAT": "json",
        "BANTIN_LOG_LEVEL": "DEBUG",
        "BANTIN_SECRET_KEY": SECRET_KEY,
        "BANTIN_SMTP_PORT": str(smtp.port),
        "BANTIN_SMTP_USERNAME": SMTP_USER,
        "BANTIN_SMTP_PASSWORD": SMTP_PASSWORD,
    }
    stack = Stack(create_database(name), broker.url, tmp_path_factory.mktemp("stack-observed"), **settings)
    try:
        with stack.running() as running:
            yield running
    finally:
        broker.kill()
        drop_database(name)


@pytest.fixture(scope="module")
def flow(observed: Stack, receivers: Receivers, smtp: PasswordSmtp) -> dict[str, str]:
    """Publish to a webhook, Telegram, Slack and e-mail subscriber, read the feed twice,
    make one task fail; returns every secret the flow created or used, by name."""
    unique = uuid.uuid4().hex[:8]
    token = observed.create_token("admin")
    slack_url = f"{receivers.base}/slack/T0{unique}-B0{unique}-slack-secret-{uuid.uuid4().hex}"
    with httpx.Client(base_url=observed.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as admin:
        subscriber = Subscriber(admin, f"Tin {unique}")
        hook = subscriber.add("webhook", f"{receivers.base}/hooks/obs-{unique}")
        subscriber.add("telegram", f"-100{int(unique, 16) % 10**9}")
        subscriber.add("slack", slack_url)
        subscriber.add("email", f"ban-doc-{unique}@example.vn")
        # A WebSub subscriber whose callback URL carries its own key (httpx logs every
        # request's URL at INFO), with an HMAC secret.
        websub_key = f"websub-key-{uuid.uuid4().hex}"
        callback_path = f"/websub-callback/obs-{unique}-{websub_key}"
        websub_secret = f"websub-secret-{uuid.uuid4().hex}"
        asked = httpx.post(
            f"{observed.base_url}/websub",
            data={
                "hub.mode": "subscribe",
                "hub.topic": f"{observed.base_url}/feeds/atom.xml",
                "hub.callback": f"{receivers.base}{callback_path}",
                "hub.secret": websub_secret,
            },
        )
        assert asked.status_code == 202, asked.text
        wait_until(lambda: receivers.got(callback_path + "?verify"), 15, "the WebSub verification of intent")
        article = publish(admin, unique)
        wait_until(lambda: receivers.got(callback_path), 15, "the WebSub content distribution")
        wait_until(lambda: receivers.got(f"/hooks/obs-{unique}"), 15, "the webhook")
        wait_until(lambda: receivers.got(slack_url.removeprefix(receivers.base)), 15, "Slack")
        wait_until(lambda: smtp.emails, 15, "the e-mail (after SMTP AUTH)")
        assert smtp.logins, "the SMTP password was never used"
        # A credential in the wrong places: a query string and a refused header.
        admin.get(f"/api/v1/articles?token={token}")
        httpx.get(f"{observed.base_url}/api/v1/articles", headers={"Authorization": f"Bearer {token}x"})
        feed = f"{observed.base_url}/feeds/atom.xml"
        etag = wait_until(
            lambda: article["guid"] in httpx.get(feed).text and httpx.get(feed).headers["etag"], 15, "feed"
        )
        assert httpx.get(feed, headers={"If-None-Match": etag}).status_code == 304
    # A task that raises (called without its argument), counted by name.
    Celery(broker=observed.env["BANTIN_REDIS_URL"]).send_task("websub.verify", args=[], queue="maintenance")
    return {
        "API token": token,
        "webhook secret": hook["secret"],
        "Telegram bot token": TELEGRAM_TOKEN,
        "SMTP password": SMTP_PASSWORD,
        "Slack webhook URL": slack_url,
        "Slack webhook path": slack_url.removeprefix(receivers.base),
        "secret key": SECRET_KEY,
        "WebSub callback key": websub_key,
        "WebSub hub.secret": websub_secret,
    }


def scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    series: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            series.setdefault(sample.name, []).append((sample.labels, sample.value))
    return series


def total(series: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for found, v in series.get(name, []) if labels.items() <= found.items())


def scrape_workers(stack: Stack) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Both workers' series together (the feed worker's and the sender's), as Prometheus sums its targets."""
    series: dict[str, list[tuple[dict[str, str], float]]] = {}
    for port in stack.metrics_ports.values():
        for name, samples in scrape(f"http://127.0.0.1:{port}/metrics").items():
            series.setdefault(name, []).extend(samples)
    return series


def test_a_scrape_shows_every_metric_and_the_dashboard_and_alerts_use_only_those(
    observed: Stack, flow: dict[str, str]
) -> None:
    worker = wait_until(
        lambda: (
            (found := scrape_workers(observed))
            and total(found, "bantin_task_failures_total", task="websub.verify") >= 1
            and total(found, "bantin_deliveries_total", outcome="delivered") >= 4
            and found
        ),
        20,
        "the worker's metrics to show the deliveries and the failed task",
    )
    api = scrape(f"{observed.base_url}/metrics")
    assert set(api) >= API_SERIES, API_SERIES - set(api)
    assert set(worker) >= WORKER_SERIES, WORKER_SERIES - set(worker)
    for channel in ("webhook", "telegram", "slack", "email"):
        assert total(worker, "bantin_deliveries_total", channel=channel, outcome="delivered") >= 1, channel
        assert total(worker, "bantin_delivery_latency_seconds_count", channel=channel) >= 1, channel
    assert total(worker, "bantin_task_duration_seconds_count", task="events.dispatch") >= 1
    assert total(api, "bantin_feed_requests_total", feed="site", format="atom", status="304") >= 1
    assert total(api, "bantin_http_requests_total", route="/api/v1/subscriptions", status="201") == 4
    assert total(api, "bantin_subscriptions", status="active") == 5  # four channels and the WebSub subscriber
    assert total(api, "bantin_subscriptions", status="active", channel="websub") == 1
    assert total(api, "bantin_recent_deliveries", status="delivered") >= 4
    assert total(api, "bantin_database_up") == 1
    # The database's figures are the API's alone: a worker's sum would count them twice.
    assert "bantin_outbox_lag_seconds" not in worker

    exported = set(api) | set(worker) | {"up"}  # ``up`` is Prometheus's own, one per target
    alerts = yaml.safe_load((REPO / "deploy/prometheus/alerts.yaml").read_text())["groups"]
    dashboard = json.loads((REPO / "deploy/grafana/bantin.json").read_text())["panels"]
    expressions = [rule["expr"] for group in alerts for rule in group["rules"]]
    expressions += [target["expr"] for panel in dashboard for target in panel["targets"]]
    used = {name for expr in expressions for name in re.findall(r"\b(bantin_[a-z0-9_]+|up)\{", expr + "{")}
    used |= {name for expr in expressions for name in re.findall(r"\b(bantin_[a-z0-9_]+)", expr)}
    assert "bantin_deliveries_total" in used and "up" in used
    assert used - exported == set()


def log_lines(stack: Stack) -> dict[str, list[str]]:
    return {name: (stack.log_dir / name).read_text().splitlines() for name in ROLES}


def test_every_role_logs_one_json_object_per_line_with_context(observed: Stack, flow: dict[str, str]) -> None:
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    assert (
        httpx.get(f"{observed.base_url}/healthz", headers={"X-Request-ID": request_id}).headers["x-request-id"]
        == request_id
    )
    wait_until(lambda: request_id in (observed.log_dir / "api.log").read_text(), 10, "the access line")
    records: dict[str, list[dict[str, Any]]] = {}
    for name, lines in log_lines(observed).items():
        assert lines, f"{name} is empty"
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                pytest.fail(f"{name}: not one JSON object per line: {line!r}")
            assert record.keys() >= REQUIRED_FIELDS, (name, record)
            assert record["role"] == ROLES[name], (name, record)
            records.setdefault(name, []).append(record)
    [access] = [r for r in records["api.log"] if r.get("request_id") == request_id]
    assert access["logger"] == "bantin.access" and access["route"] == "/healthz" and access["status"] == 200
    assert any(r["logger"].startswith("uvicorn") for r in records["api.log"])
    worker = records["worker.log"]
    assert any(r["logger"].startswith("celery") for r in worker), "Celery's own lines go through our formatter"
    dispatched = [r for r in worker if r.get("task_name") == "events.dispatch"]
    assert dispatched and all(r.get("task_id") and r.get("event_id") for r in dispatched)
    failed = [r for r in worker if r.get("task_name") == "websub.verify" and r["level"] == "ERROR"]
    assert failed and "TypeError" in failed[0].get("exc_info", "")
    assert any(r["logger"].startswith("celery.beat") for r in records["beat.log"])


def test_no_secret_appears_in_any_log(observed: Stack, flow: dict[str, str]) -> None:
    wait_until(
        lambda: "websub.verify" in (observed.log_dir / "worker.log").read_text(), 20, "the flow to finish logging"
    )
    logs = {path.name: path.read_text() for path in observed.log_dir.glob("*.log")}
    assert set(ROLES) <= set(logs)
    leaks = [f"{what} in {name}" for what, secret in flow.items() for name, text in logs.items() if secret in text]
    assert leaks == []


def test_beat_purges_delivered_rows_past_the_retention(observed: Stack, flow: dict[str, str]) -> None:
    """Last in the module: it ages the flow's rows. deliveries.purge runs every beat tick."""
    engine = create_engine(observed.env["BANTIN_DATABASE_URL"])
    try:
        with engine.begin() as connection:
            aged = connection.execute(
                text(
                    "UPDATE deliveries SET delivered_at = delivered_at - interval '31 days',"
                    " next_attempt_at = next_attempt_at - interval '31 days' WHERE status = 'delivered'"
                )
            ).rowcount
            kept = connection.execute(text("SELECT count(*) FROM deliveries WHERE status <> 'delivered'")).scalar()
        assert aged >= 5

        def purged_down_to_the_kept_rows() -> bool:
            with engine.connect() as connection:
                count: int = connection.execute(text("SELECT count(*) FROM deliveries")).scalar_one()
                return count == kept

        wait_until(purged_down_to_the_kept_rows, 20, "deliveries.purge to delete the aged rows", interval=0.5)
        with engine.connect() as connection:
            attempts = connection.execute(
                text(
                    "SELECT count(*) FROM delivery_attempts a LEFT JOIN deliveries d ON d.id = a.delivery_id "
                    "WHERE d.id IS NULL"
                )
            ).scalar_one()
        assert attempts == 0
    finally:
        engine.dispose()
    purged = wait_until(
        lambda: total(scrape_workers(observed), "bantin_deliveries_purged_total"), 10, "the purge counter"
    )
    assert purged >= aged
