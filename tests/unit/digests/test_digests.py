"""Digest rows on SQLite: planned once, empty when nothing is new, late or missed after
downtime, and their mails rendered from the delivery's claim like any other."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

from sqlalchemy import func, select

from config.settings import get_settings
from service.channels.mail import build_email
from service.db.engine import session_scope
from service.db.models import Announcement, Article, Category, Delivery, Digest, DigestPeriod, Subscription
from service.deliveries.sender import claim
from service.digests.planning import DIGEST, MAX_ARTICLES, tick
from service.readers.privacy import export

# Monday 30/11/2026 06:30 in Hà Nội: a daily and a weekly period start.
MONDAY = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)


def reader(
    email: str, frequency: str = "daily", categories: Sequence[str] = (), since: datetime = MONDAY - 23 * HOUR,
    locale: str = "vi", status: str = "active", channel: str = "email",
) -> int:  # fmt: skip
    with session_scope() as session:
        subscription = Subscription(
            channel=channel,
            target=email,
            events=[],
            categories=list(categories),
            locale=locale,
            options={},
            status=status,
            unsubscribe_token=secrets.token_urlsafe(32),
            frequency=frequency,
            digest_since=since,
            created_at=since,
            updated_at=since,
        )
        session.add(subscription)
        session.flush()
        return subscription.id


def article(title: str, published_at: datetime, category: str = "thoi-su", image: str | None = None) -> int:
    with session_scope() as session:
        found = session.scalars(select(Category).where(Category.slug == category)).one_or_none()
        found = found or Category(name=category.replace("-", " ").title(), slug=category)
        row = Article(
            guid=uuid.uuid4().hex,
            slug=title.lower().replace(" ", "-"),
            title=title,
            summary=f"Tóm tắt {title}",
            body_html="<p>x</p>",
            status="published",
            image_url=image,
            published_at=published_at,
            created_at=published_at,
            updated_at=published_at,
            categories=[found],
        )
        session.add(row)
        session.flush()
        return row.id


def run(now: datetime) -> tuple[int, int, int]:
    result = tick(session_scope, now, get_settings(), budget_seconds=60)
    return result.queued, result.empty, result.missed


def digests() -> list[Digest]:
    with session_scope() as session:
        rows = list(session.scalars(select(Digest).order_by(Digest.period_start, Digest.subscription_id)))
        session.expunge_all()
        return rows


def deliveries() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Delivery)) or 0


def mails(now: datetime) -> list[EmailMessage]:
    with session_scope() as session:
        ids = list(session.scalars(select(Delivery.id)))
        messages = claim(session, ids, now, get_settings())
    parsed = [
        message_from_bytes(build_email(get_settings(), message, now), policy=default_policy) for message in messages
    ]
    return [mail for mail in parsed if isinstance(mail, EmailMessage)]


def text_of(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_one_digest_per_subscriber_and_period_however_often_the_tick_runs() -> None:
    everything = reader("tat.ca@example.vn")
    sport = reader("the.thao@example.vn", categories=["the-thao"])
    reader("moi.bai@example.vn", frequency="each")
    reader("tam.dung@example.vn", status="paused")
    older = article("Tin cũ", MONDAY - 20 * HOUR)
    newer = article("Tin mới", MONDAY - 2 * HOUR, image="/static/anh.jpg")
    match = article("Bóng đá", MONDAY - 3 * HOUR, category="the-thao")
    article("Sau giờ gửi", MONDAY + HOUR)  # published after the period opened: the next digest's

    assert run(MONDAY + timedelta(minutes=1)) == (2, 0, 0)
    assert run(MONDAY + timedelta(minutes=2)) == (0, 0, 0)
    rows = digests()
    assert [(d.subscription_id, d.status, d.article_ids) for d in rows] == [
        (everything, "queued", [newer, match, older]),
        (sport, "queued", [match]),
    ]
    assert deliveries() == 2
    with session_scope() as session:
        announcement = session.scalars(select(Announcement)).one()
        assert (announcement.type, announcement.source_key) == (DIGEST, "digest:daily:2026-11-29T23:30Z")
        # Every daily and weekly period of the look-back is done: later ticks skip them at once.
        assert session.get(DigestPeriod, ("daily", MONDAY)) is not None
        # What the next digest owes starts at this period.
        daily = session.scalars(select(Subscription).where(Subscription.frequency == "daily"))
        # The paused reader was not planned: it is still owed everything since its own start.
        assert {s.digest_since for s in daily} == {MONDAY, MONDAY - 23 * HOUR}


def test_nothing_new_is_an_empty_digest_without_a_mail() -> None:
    reader("khong.co.gi@example.vn", categories=["van-hoa"])
    article("Tin khác", MONDAY - 2 * HOUR, category="kinh-te")
    assert run(MONDAY + timedelta(minutes=1)) == (0, 1, 0)
    assert [d.status for d in digests()] == ["empty"]
    assert deliveries() == 0


def test_a_reader_who_subscribed_after_the_period_opened_waits_for_the_next() -> None:
    reader("moi.den@example.vn", since=MONDAY + timedelta(seconds=30))
    article("Tin", MONDAY - HOUR)
    assert run(MONDAY + timedelta(minutes=1)) == (0, 0, 0)
    assert digests() == []


def test_late_within_grace_still_goes_older_is_missed_and_carried_over() -> None:
    subscriber = reader("tre.hen@example.vn", since=MONDAY - 60 * HOUR)
    first = article("Thứ bảy", MONDAY - 40 * HOUR)
    second = article("Chủ nhật", MONDAY - 10 * HOUR)
    # Down from Saturday to Monday 08:30: Sunday's digest (due 48 h before) is missed,
    # Saturday's too, Monday's goes two hours late and carries everything since.
    assert run(MONDAY + 2 * HOUR) == (1, 0, 2)
    rows = digests()
    assert [(d.period_start, d.status) for d in rows] == [
        (MONDAY - 48 * HOUR, "missed"),
        (MONDAY - 24 * HOUR, "missed"),
        (MONDAY, "queued"),
    ]
    assert rows[-1].article_ids == [second, first] and rows[-1].subscription_id == subscriber
    assert deliveries() == 1


def test_a_period_found_past_the_grace_is_missed_and_the_next_one_carries_its_articles() -> None:
    reader("bo.lo@example.vn", since=MONDAY - 10 * HOUR)
    early = article("Sáng sớm", MONDAY - 5 * HOUR)
    assert run(MONDAY + 7 * HOUR) == (0, 0, 1)
    assert deliveries() == 0
    late = article("Trưa", MONDAY + 3 * HOUR)
    assert run(MONDAY + 24 * HOUR + timedelta(minutes=1)) == (1, 0, 0)
    assert digests()[-1].article_ids == [late, early]


def test_weekly_readers_get_the_week_on_its_day_only() -> None:
    reader("hang.tuan@example.vn", frequency="weekly", since=MONDAY - 156 * HOUR)
    week = [article(f"Ngày {n}", MONDAY - n * 24 * HOUR + HOUR) for n in range(1, 7)]
    assert run(MONDAY - 24 * HOUR + timedelta(minutes=1)) == (0, 0, 0)  # Sunday: no weekly period
    assert run(MONDAY + timedelta(minutes=1)) == (1, 0, 0)
    [weekly] = digests()
    assert (weekly.frequency, weekly.article_ids) == ("weekly", week)


def test_a_long_absence_is_cut_to_the_newest_articles() -> None:
    reader("lau.ngay@example.vn", since=MONDAY - 20 * HOUR)
    ids = [article(f"Bài {n}", MONDAY - HOUR - n * timedelta(minutes=1)) for n in range(MAX_ARTICLES + 5)]
    run(MONDAY + timedelta(minutes=1))
    assert digests()[0].article_ids == ids[:MAX_ARTICLES]


def test_the_mail_lists_the_articles_newest_first_with_one_click_and_preferences() -> None:
    reader("doc.gia@example.vn")
    reader("reader@example.com", locale="en")
    article("Tin hôm qua", MONDAY - 20 * HOUR)
    article("Tin sáng nay", MONDAY - 2 * HOUR, image="/static/anh.jpg")
    run(MONDAY + timedelta(minutes=1))
    sent = {str(m["To"]): m for m in mails(datetime.now(UTC))}
    vietnamese = sent["doc.gia@example.vn"]
    assert str(vietnamese["Subject"]) == "Bản tin Thành ủy Đà Nẵng ngày 30/11/2026"
    assert vietnamese["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = text_of(vietnamese)
    assert text.index("Tin sáng nay") < text.index("Tin hôm qua")
    assert "2 bài mới" in text and "Tóm tắt Tin sáng nay" in text
    assert "https://bantin.example.vn/articles/" in text and "/subscribe/preferences/" in text
    html_part = vietnamese.get_body(("html",))
    assert html_part is not None
    assert '<img src="https://bantin.example.vn/static/anh.jpg"' in str(html_part.get_content())
    english = sent["reader@example.com"]
    assert str(english["Subject"]) == "Thành ủy Đà Nẵng daily digest, 30/11/2026"
    assert "2 new articles" in text_of(english) and "Preferences:" in text_of(english)


def test_an_article_withdrawn_after_planning_is_left_out_of_the_mail() -> None:
    reader("rut.bai@example.vn")
    kept = article("Còn", MONDAY - 2 * HOUR)
    gone = article("Gỡ", MONDAY - 3 * HOUR)
    run(MONDAY + timedelta(minutes=1))
    with session_scope() as session:
        withdrawn = session.get(Article, gone)
        assert withdrawn is not None
        withdrawn.status = "withdrawn"
    [mail] = mails(datetime.now(UTC))
    assert "Còn" in text_of(mail) and "Gỡ" not in text_of(mail) and kept


def test_the_export_of_a_reader_lists_its_digests() -> None:
    reader("xuat.du.lieu@example.vn")
    kept = article("Tin", MONDAY - 2 * HOUR)
    run(MONDAY + timedelta(minutes=1))
    with session_scope() as session:
        [held] = export(session, "xuat.du.lieu@example.vn").model_dump(mode="json")["subscriptions"]
    assert held["digest_since"] == MONDAY.isoformat()
    [digest] = held["digests"]
    assert (digest["status"], digest["article_ids"], digest["period_start"]) == ("queued", [kept], MONDAY.isoformat())
    assert digest["delivery_id"] == held["deliveries"][0]["id"]
