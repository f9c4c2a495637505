"""Daily digests end to end: the real API, one worker and two beats on PostgreSQL and a
Redis of their own, mail captured by aiosmtpd.

Readers sign up for a daily digest through the pages and confirm by the mailed link; an
article is published; the stack's clock file (BANTIN_CLOCK_FILE, read by the digest
schedule only) moves to a minute past the next 06:30 in Hà Nội. Both beats tick every
second: each reader with something new gets exactly one digest, the reader whose
categories had nothing new gets none, and no digest reader got the article by itself.
Then a worker is killed (SIGKILL) while a tick plans thousands of digests; after a
restart every one of them exists once and goes out once.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.integration.conftest import ANNOUNCEMENT_TEST_SETTINGS, create_database, drop_database
from tests.integration.receivers import Receivers
from tests.integration.stack import PrivateRedis, Stack, wait_until
from tests.integration.test_reader_signup import _csrf, _link, _mails_to, _sign_up, _text, _wait_mail

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
# How a digest's subject starts, in Vietnamese and English (BANTIN_SITE_TITLE below).
DIGEST_SUBJECTS = ("Bản tin Thành ủy Đà Nẵng ngày", "Thành ủy Đà Nẵng daily digest")


class DigestStack:
    def __init__(self, stack: Stack, clock: Path) -> None:
        self.stack, self.clock = stack, clock
        self.engine = create_engine(stack.env["BANTIN_DATABASE_URL"])

    def set_clock(self, instant: datetime) -> None:
        self.clock.write_text(instant.isoformat())

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params).all())


def next_daily(after: datetime) -> datetime:
    """The first 06:30 in Hà Nội after ``after``."""
    local = after.astimezone(HANOI)
    candidate = local.replace(hour=6, minute=30, second=0, microsecond=0)
    return candidate if candidate > local else candidate + timedelta(days=1)


@pytest.fixture(scope="module")
def digests(receivers: Receivers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DigestStack]:
    name = f"bantin_it_digests_{uuid.uuid4().hex[:8]}"
    directory = tmp_path_factory.mktemp("digests")
    clock = directory / "clock"
    clock.write_text(datetime.now(UTC).isoformat())
    broker = PrivateRedis()
    broker.start()
    stack = Stack(
        create_database(name),
        broker.url,
        directory,
        **ANNOUNCEMENT_TEST_SETTINGS,
        **receivers.env(),
        BANTIN_CLOCK_FILE=str(clock),
        BANTIN_SITE_TITLE="Thành ủy Đà Nẵng",
        # Small batches: each SMTP session is sequential, and the capture shares this busy
        # process; a batch must end well inside the 20 s task limit of these settings.
        BANTIN_DELIVERY_BATCH_SIZE="100",
    )
    helper = DigestStack(stack, clock)
    try:
        stack.start_all()
        stack.start_beat("beat2")  # two beats at once: no digest may go twice
        yield helper
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.stop_all()
        helper.engine.dispose()
        broker.kill()
        drop_database(name)


def _confirm(reader: httpx.Client, receivers: Receivers, address: str, **form: Any) -> None:
    answer = _sign_up(reader, address, **form)
    assert answer.status_code == 303, answer.text
    subject = "Confirm" if form.get("lang") == "en" else "Xác nhận"
    link = _link(_wait_mail(receivers, address, subject), r"http://\S+/subscribe/confirm/\S{43}")
    confirmed = reader.post(link, data={"csrf_token": _csrf(reader.get(link))})
    assert confirmed.status_code == 200, confirmed.text


def _digests_to(receivers: Receivers, address: str) -> list[Any]:
    return [m for m in _mails_to(receivers, address) if str(m["Subject"]).startswith(DIGEST_SUBJECTS)]


def test_one_daily_digest_per_reader_with_two_beats_and_none_when_nothing_is_new(
    digests: DigestStack, receivers: Receivers
) -> None:
    stack, unique = digests.stack, uuid.uuid4().hex[:8]
    token = stack.create_token("publish")
    publisher = httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    news, quiet = f"Tin {unique}", f"Yên {unique}"
    for category in (news, quiet):
        publisher.post(
            "/api/v1/articles", json={"title": f"Mở {category}", "body_html": "<p>x</p>", "categories": [category]}
        ).raise_for_status()
    slugs = {row.name: row.slug for row in digests.rows("SELECT name, slug FROM categories")}
    first, second = f"hang.ngay.{unique}@example.vn", f"daily.{unique}@example.com"
    nothing = f"khong.co.gi.{unique}@example.vn"
    with httpx.Client(base_url=stack.base_url, timeout=10) as reader:
        _confirm(reader, receivers, first, frequency="daily", scope="some", categories=[slugs[news]])
        _confirm(reader, receivers, second, frequency="daily", lang="en")
        _confirm(reader, receivers, nothing, frequency="daily", scope="some", categories=[slugs[quiet]])

    titles = [f"Bài một {unique}", f"Bài hai {unique}"]
    for title in titles:
        publisher.post(
            "/api/v1/articles",
            json={"title": title, "summary": f"Tóm tắt {title}", "body_html": "<p>x</p>", "categories": [news]},
        ).raise_for_status()
        time.sleep(0.01)  # two distinct publication times: the order is newest first
    # Announced (and so handled) with no message to a digest reader.
    announced = "SELECT count(*) FROM outbox_events WHERE announced_at IS NULL"
    wait_until(lambda: digests.rows(announced)[0][0] == 0, 30, "the articles to be announced")
    time.sleep(2)  # two beat ticks at the real "now": nothing is due yet
    assert _digests_to(receivers, first) == [] and _digests_to(receivers, second) == []

    due = next_daily(datetime.now(UTC))
    digests.set_clock(due + timedelta(minutes=1))
    mail = wait_until(lambda: next(iter(_digests_to(receivers, first)), None), 30, "the digest", 0.1)
    english = wait_until(lambda: next(iter(_digests_to(receivers, second)), None), 30, "the English digest", 0.1)
    time.sleep(4)  # both beats keep ticking: nothing more may come
    assert len(_digests_to(receivers, first)) == 1 and len(_digests_to(receivers, second)) == 1
    assert _digests_to(receivers, nothing) == []
    body = _text(mail)
    assert body.index(titles[1]) < body.index(titles[0]) and f"Tóm tắt {titles[0]}" in body
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and "/subscribe/preferences/" in body
    assert "2 new articles" in _text(english) and "Preferences:" in _text(english)
    # No digest reader got an article by itself.
    for address in (first, second, nothing):
        assert not [m for m in _mails_to(receivers, address) if titles[0] in str(m["Subject"])]
    statuses = digests.rows(
        "SELECT s.target, d.status, dl.status AS delivery FROM digests d "
        "JOIN subscriptions s ON s.id = d.subscription_id "
        "LEFT JOIN deliveries dl ON dl.id = d.delivery_id WHERE s.target LIKE :pattern",
        pattern=f"%{unique}%",
    )
    assert sorted((r.target, r.status, r.delivery) for r in statuses) == sorted(
        [(first, "queued", "delivered"), (second, "queued", "delivered"), (nothing, "empty", None)]
    )


READERS = 2500  # two chunks (2,000 each): a kill lands between, or inside, a chunk's transaction


def test_a_worker_killed_mid_tick_leaves_every_digest_planned_and_sent_once(
    digests: DigestStack, receivers: Receivers
) -> None:
    stack, unique = digests.stack, uuid.uuid4().hex[:8]
    # The readers as the database holds confirmed ones (signing up 4,000 through the pages
    # would only test the rate limit): owed everything since an hour ago, all categories.
    with digests.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO subscriptions (channel, target, events, categories, locale, options, status, "
                "unsubscribe_token, frequency, digest_since, created_at, updated_at) "
                "SELECT 'email', 'r' || n || '.' || :unique || '@example.vn', '[]', '[]', 'vi', '{}', 'active', "
                "md5(:unique || n), 'daily', now() - interval '1 hour', now(), now() "
                "FROM generate_series(1, :readers) AS n"
            ),
            {"unique": unique, "readers": READERS},
        )
    token = stack.create_token("publish")
    httpx.post(
        f"{stack.base_url}/api/v1/articles",
        headers={"Authorization": f"Bearer {token}"},
        json={"title": f"Tin cho bốn nghìn {unique}", "body_html": "<p>x</p>", "categories": [f"Tin {unique}"]},
        timeout=10,
    ).raise_for_status()
    # The day after next: the period before is found a day late and recorded as missed
    # (unless the test before completed it); this one goes out.
    due = next_daily(datetime.now(UTC)) + timedelta(days=1)
    digests.set_clock(due + timedelta(minutes=1))
    pattern = f"%.{unique}@example.vn"
    planned = (
        "SELECT count(*) FROM digests d JOIN subscriptions s ON s.id = d.subscription_id "
        "WHERE s.target LIKE :p AND d.status = 'queued'"
    )
    wait_until(lambda: digests.rows(planned, p=pattern)[0][0] > 0, 30, "the tick to start planning", 0.01)
    # Both workers (their pool processes too) die at once, as on a lost machine.
    for name in ("worker", "sender"):
        os.killpg(stack.processes[name].pid, signal.SIGKILL)
        stack.processes.pop(name).wait()
    stack.start_worker()
    stack.start_sender()

    delivered = (
        "SELECT count(*) FROM deliveries dl JOIN subscriptions s ON s.id = dl.subscription_id "
        "WHERE s.target LIKE :p AND dl.status = 'delivered'"
    )
    # Leased rows of the killed batches come back when their lease (25 s here) ends.
    wait_until(lambda: digests.rows(delivered, p=pattern)[0][0] == READERS, 120, "every digest delivered", 0.5)
    rows = digests.rows(
        "SELECT count(*) AS digests, count(DISTINCT d.subscription_id) AS readers, "
        "count(DISTINCT d.delivery_id) AS deliveries FROM digests d "
        "JOIN subscriptions s ON s.id = d.subscription_id WHERE s.target LIKE :p AND d.period_start = :due",
        p=pattern,
        due=due,
    )
    assert tuple(rows[0]) == (READERS, READERS, READERS)
    time.sleep(3)  # the beats tick on: nothing is planned or sent again
    with receivers.lock:
        got = [str(m["To"]) for m in receivers.emails if str(m["To"]).endswith(f".{unique}@example.vn")]
    # Each reader got its digest; a mail the killed batch had handed to SMTP before dying
    # is sent again (at least once: the row was not marked delivered), never more than twice.
    assert set(got) == {f"r{n}.{unique}@example.vn" for n in range(1, READERS + 1)}
    # At most the batches the kill interrupted, one per pool process (2), of 100 each.
    assert len(got) - READERS <= 2 * 100
