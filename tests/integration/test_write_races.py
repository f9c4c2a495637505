"""Read-check-write under real concurrency, on a SQLite file and on PostgreSQL (decision 0027).

Every case runs the domain functions in threads released together by a barrier, each in
its own unit of work (``session_scope``) on its own connection, as API threads and worker
processes do. On SQLite before decision 0027 each of these read outside the write lock:
six withdrawals of one article took six off the published count, six publishes of one
draft announced it up to six times, two clicks made two drafts of one anniversary.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from config.settings import get_settings
from service import links
from service.articles.derived import ALL_CATEGORIES
from service.articles.editorial import OPERATOR, Actor, NotPermitted, Rule, person
from service.articles.review import approve, return_for_changes, submit_for_review
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.articles.service import create_article, publish_due_articles, update_article, withdraw_article
from service.calendar.drafts import draft_from_occurrence
from service.calendar.reminders import plan_all, send_due
from service.calendar.schemas import KeyDateIn
from service.calendar.service import create_key_date
from service.db.engine import session_scope
from service.db.models import (
    Announcement,
    Article,
    ArticleReview,
    Category,
    ConsentEvent,
    Delivery,
    Digest,
    EventType,
    OccurrenceDraft,
    OutboxEvent,
    SubscribeRequest,
    Subscription,
    article_counts,
)
from service.db.types import utcnow
from service.deliveries.ratelimit import LocalRateLimiter
from service.deliveries.sender import claim
from service.digests.planning import tick as digests_tick
from service.errors import Conflict
from service.events.announce import announce_event
from service.readers.schemas import SignupForm
from service.readers.signup import confirm, request_signup
from service.readers.zalo_followers import handle_event as handle_zalo_event
from service.readers.zalo_webhook import FOLLOW, UNFOLLOW, OaEvent
from service.subscriptions.schemas import SubscriptionCreate
from service.subscriptions.service import create_subscription, rotate_secret, unsubscribe
from service.telegram.bot import handle_update
from service.telegram.updates import parse_update
from tests.integration.concurrency import at_once
from tests.tables import empty_all_tables
from tests.unit.digests.test_digests import article as digest_article
from tests.unit.digests.test_digests import reader as digest_reader

pytestmark = pytest.mark.usefixtures("each_database")


@pytest.fixture(autouse=True)
def empty_tables(each_database: str) -> Iterator[None]:
    yield
    empty_all_tables()


PARALLEL = 6
# Publishes without review, as an editor in the console and a `publish` token do.
EDITOR = OPERATOR
CHAT = 424242
ROUNDS = 3


def only_conflicts(results: Sequence[object]) -> list[object]:
    """The results that are neither a value nor an expected Conflict (what a test must not see)."""
    return [r for r in results if isinstance(r, BaseException) and not isinstance(r, Conflict)]


def new_article(
    title: str, status: str = "published", categories: tuple[str, ...] = ("Thời sự",), actor: Actor = EDITOR
) -> int:
    data = ArticleCreate(title=title, body_html="<p>Nội dung</p>", categories=list(categories), status=status)
    with session_scope() as session:
        return create_article(session, data, utcnow(), get_settings(), actor).article.id


def events_of(article_id: int, event_type: EventType) -> int:
    with session_scope() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.article_id == article_id, OutboxEvent.type == event_type)
            )
            or 0
        )


def kept_counts() -> dict[tuple[str, int], int]:
    """``article_counts`` without its zero rows."""
    with session_scope() as session:
        rows = session.execute(select(article_counts.c.status, article_counts.c.category_id, article_counts.c.articles))
        return {(status, category): n for status, category, n in rows if n != 0}


def true_counts() -> dict[tuple[str, int], int]:
    """What ``article_counts`` must hold, counted from the articles themselves."""
    with session_scope() as session:
        counts = {
            (status, ALL_CATEGORIES): n
            for status, n in session.execute(select(Article.status, func.count()).group_by(Article.status))
        }
        for status, category, n in session.execute(
            text(
                "SELECT a.status, ac.category_id, count(*) FROM articles a "
                "JOIN article_categories ac ON ac.article_id = a.id GROUP BY a.status, ac.category_id"
            )
        ):
            counts[(status, category)] = n
        return counts


def test_parallel_withdrawals_of_one_article_take_it_off_the_counts_once() -> None:
    for round_ in range(ROUNDS):
        article_id = new_article(f"Bài gỡ {round_}")

        def withdraw(_: int, article_id: int = article_id) -> None:
            with session_scope() as session:
                withdraw_article(session, article_id, utcnow(), get_settings(), EDITOR)

        assert only_conflicts(at_once(PARALLEL, withdraw)) == []
        assert events_of(article_id, EventType.ARTICLE_WITHDRAWN) == 1
    counts = kept_counts()
    assert all(n > 0 for n in counts.values()), counts
    assert counts == true_counts()
    assert counts[("withdrawn", ALL_CATEGORIES)] == ROUNDS


def test_parallel_publishes_of_one_draft_announce_it_once_to_each_subscriber() -> None:
    settings = get_settings()
    with session_scope() as session:
        for n in range(3):
            # Publications only: the five PATCHes after the first update a published article.
            wanted = SubscriptionCreate(channel="email", target=f"ban.doc{n}@example.vn", events=["article.published"])
            create_subscription(session, wanted, utcnow(), settings)
    article_id = new_article("Bài công bố một lần", status="draft")

    def publish(_: int) -> None:
        with session_scope() as session:
            update_article(session, article_id, ArticleUpdate(status="published"), utcnow(), settings, EDITOR)

    assert only_conflicts(at_once(PARALLEL, publish)) == []
    assert events_of(article_id, EventType.ARTICLE_PUBLISHED) == 1
    with session_scope() as session:
        event_ids = list(session.scalars(select(OutboxEvent.id).where(OutboxEvent.article_id == article_id)))
    # Two workers announcing each event at once, as a redelivered message would have them.
    at_once(2 * len(event_ids), lambda n: announce_event(session_scope, event_ids[n // 2], utcnow(), settings))
    with session_scope() as session:
        per_subscriber = session.execute(
            select(Delivery.subscription_id, func.count()).group_by(Delivery.subscription_id)
        ).all()
    assert sorted(n for _, n in per_subscriber) == [1, 1, 1]


def test_the_beat_and_an_editor_publishing_one_due_article_publish_it_once() -> None:
    settings = get_settings()
    for round_ in range(ROUNDS):
        soon = utcnow() + timedelta(seconds=1)
        data = ArticleCreate(title=f"Bài hẹn giờ {round_}", body_html="<p>a</p>", publish_at=soon)
        with session_scope() as session:
            article_id = create_article(session, data, utcnow(), settings, EDITOR).article.id
        due = soon + timedelta(seconds=1)

        def publish(n: int, article_id: int = article_id, due: datetime = due) -> None:
            with session_scope() as session:
                if n % 2:
                    publish_due_articles(session, due, settings)
                else:
                    update_article(session, article_id, ArticleUpdate(status="published"), due, settings, EDITOR)

        assert only_conflicts(at_once(PARALLEL, publish)) == []
        assert events_of(article_id, EventType.ARTICLE_PUBLISHED) == 1
    assert kept_counts() == true_counts()


def test_counts_stay_true_and_never_negative_under_mixed_publishes_and_withdrawals() -> None:
    settings = get_settings()
    drafts = [new_article(f"Nháp {n}", status="draft", categories=("Thời sự", f"Mục {n % 2}")) for n in range(4)]

    def change(n: int) -> None:
        article_id = drafts[n % len(drafts)]
        with session_scope() as session:
            if n % 3 == 2:
                withdraw_article(session, article_id, utcnow(), settings, EDITOR)
            else:
                update_article(session, article_id, ArticleUpdate(status="published"), utcnow(), settings, EDITOR)

    for _ in range(ROUNDS):
        assert only_conflicts(at_once(2 * PARALLEL, change)) == []
    counts = kept_counts()
    assert all(n > 0 for n in counts.values()), counts
    assert counts == true_counts()


def test_two_editors_deciding_one_review_at_once_decide_it_once() -> None:
    settings = get_settings()
    for round_ in range(ROUNDS):
        writer = person("phongvien", "writer", settings)
        article_id = new_article(f"Bài chờ duyệt {round_}", status="draft", actor=writer)
        with session_scope() as session:
            submit_for_review(session, article_id, writer, utcnow(), get_settings())

        def decide(n: int, article_id: int = article_id) -> None:
            with session_scope() as session:
                if n % 2:
                    approve(session, article_id, person(f"bientap{n}", "editor", settings), utcnow(), settings)
                else:
                    reviewer = person(f"bientap{n}", "editor", settings)
                    return_for_changes(session, article_id, reviewer, "Sửa lại tiêu đề", utcnow(), get_settings())

        results = at_once(PARALLEL, decide)
        assert only_conflicts(results) == []
        assert sum(1 for r in results if not isinstance(r, BaseException)) == 1
        with session_scope() as session:
            decided = session.scalar(
                select(func.count()).select_from(ArticleReview).where(ArticleReview.article_id == article_id)
            )
        assert decided == 1
        assert events_of(article_id, EventType.ARTICLE_PUBLISHED) in (0, 1)
    assert kept_counts() == true_counts()


def test_parallel_drafts_of_one_occurrence_make_one_article() -> None:
    settings = get_settings()
    key_date_id = "ngay-thu-dong-thoi"
    key_date = KeyDateIn(id=key_date_id, name="Ngày thử đồng thời", calendar="solar", day=3, month=2)
    with session_scope() as session:
        create_key_date(session, key_date, utcnow(), settings)
    on = date(utcnow().year + 1, 2, 3)

    def draft(_: int) -> int:
        with session_scope() as session:
            return draft_from_occurrence(session, key_date_id, on, utcnow(), settings, EDITOR).article.id

    results = at_once(PARALLEL, draft)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert len(set(results)) == 1
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(OccurrenceDraft)) == 1
        assert session.scalar(select(func.count()).select_from(Article)) == 1


def test_parallel_sign_ups_of_one_address_make_one_subscription() -> None:
    settings = get_settings()
    form = SignupForm(email="ban.doc@example.vn", consent=True)
    limiter = LocalRateLimiter()

    def sign_up(n: int) -> None:
        with session_scope() as session:
            request_signup(session, form, f"203.0.113.{n}", utcnow(), settings, limiter)

    at_once(PARALLEL, sign_up)
    with session_scope() as session:
        subscriptions = session.scalar(
            select(func.count()).select_from(Subscription).where(Subscription.target == form.email)
        )
    assert subscriptions == 1


def test_parallel_sign_ups_of_one_domain_stop_at_its_cap(settings_override: pytest.MonkeyPatch) -> None:
    settings_override.setenv("BANTIN_SUBSCRIBE_PENDING_PER_DOMAIN", "3")
    settings = get_settings()
    limiter = LocalRateLimiter()

    def sign_up(n: int) -> None:
        form = SignupForm(email=f"ban.doc{n}@mien-nam.example.vn", consent=True)
        with session_scope() as session:
            request_signup(session, form, f"203.0.113.{n}", utcnow(), settings, limiter)

    at_once(2 * PARALLEL, sign_up)
    with session_scope() as session:
        pending = session.scalar(
            select(func.count()).select_from(SubscribeRequest).where(SubscribeRequest.domain == "mien-nam.example.vn")
        )
    assert pending == 3


def test_parallel_clicks_on_one_confirmation_link_confirm_once() -> None:
    settings = get_settings()
    with session_scope() as session:
        request_signup(
            session, SignupForm(email="xac.nhan@example.vn", consent=True), "203.0.113.9", utcnow(), settings,
            LocalRateLimiter(),
        )  # fmt: skip
        request = session.scalars(select(SubscribeRequest)).one()
        token = links.token_from_salt(settings.secret_key.get_secret_value(), request.token_salt)

    def click(n: int) -> str:
        with session_scope() as session:
            return confirm(session, token, f"203.0.113.{n}", utcnow(), settings).state

    results = at_once(PARALLEL, click)
    assert sorted(map(str, results)) == ["ok"] + ["used"] * (PARALLEL - 1)
    with session_scope() as session:
        given = session.scalar(select(func.count()).select_from(ConsentEvent).where(ConsentEvent.action == "given"))
    assert given == 1


def test_parallel_taps_in_one_telegram_chat_make_one_subscription() -> None:
    settings = get_settings()
    with session_scope() as session:
        for n in range(PARALLEL):
            session.add(Category(name=f"Mục {n}", slug=f"muc-{n}", created_at=utcnow(), listed=True))
        session.flush()
        category_ids = list(session.scalars(select(Category.id).order_by(Category.id)))

    def tap(n: int) -> None:
        message = {"message_id": 2, "chat": {"id": CHAT, "type": "private"}}
        sender = {"id": 5, "is_bot": False, "first_name": "Lan", "language_code": "vi"}
        query = {"id": f"q{n}", "from": sender, "message": message, "data": f"sub:{category_ids[n]}"}
        with session_scope() as session:
            handle_update(session, parse_update({"update_id": 1000 + n, "callback_query": query}), utcnow(), settings)

    assert [r for r in at_once(PARALLEL, tap) if isinstance(r, BaseException)] == []
    with session_scope() as session:
        chats = session.scalars(select(Subscription).where(Subscription.target == str(CHAT))).all()
    assert len(chats) == 1
    assert sorted(chats[0].categories) == sorted(f"muc-{n}" for n in range(PARALLEL))


def test_two_rotations_of_one_webhook_secret_at_once_keep_both_new_secrets_signing() -> None:
    settings = get_settings()
    for round_ in range(ROUNDS):
        with session_scope() as session:
            webhook = SubscriptionCreate(channel="webhook", target=f"https://8.8.8.8/hook/{round_}")
            subscription_id = create_subscription(session, webhook, utcnow(), settings)[0].id

        def rotate(_: int, subscription_id: int = subscription_id) -> str:
            with session_scope() as session:
                return rotate_secret(session, subscription_id, utcnow(), settings)[1]

        new_secrets = at_once(2, rotate)
        with session_scope() as session:
            subscription = session.get(Subscription, subscription_id)
            assert subscription is not None
            # The last rotation's secret signs, and the one before it still does.
            assert {subscription.secret, subscription.previous_secret} == set(new_secrets)


def test_parallel_one_click_unsubscribes_withdraw_consent_once() -> None:
    settings = get_settings()
    with session_scope() as session:
        reader = SubscriptionCreate(channel="email", target="roi.di@example.vn")
        token = create_subscription(session, reader, utcnow(), settings)[0].unsubscribe_token

    def click(_: int) -> None:
        with session_scope() as session:
            unsubscribe(session, token, utcnow())

    assert [r for r in at_once(PARALLEL, click) if isinstance(r, BaseException)] == []
    with session_scope() as session:
        withdrawn = session.scalar(
            select(func.count()).select_from(ConsentEvent).where(ConsentEvent.action == "withdrawn")
        )
    assert withdrawn == 1


def test_parallel_calendar_ticks_announce_a_due_reminder_once() -> None:
    settings = get_settings()
    planned_at = datetime(2027, 1, 1, 1, 0, tzinfo=UTC)
    with session_scope() as session:
        create_subscription(session, SubscriptionCreate(channel="zalo", target="123"), planned_at, settings)
        party = KeyDateIn(id="thanh-lap-dang", name="Ngày thành lập Đảng", calendar="solar", day=3, month=2)
        create_key_date(session, party, planned_at, settings)
    due = datetime(2027, 1, 4, 1, 0, 30, tzinfo=UTC)  # the 30-day reminder, 08:00 in Hà Nội

    def calendar_tick(_: int) -> list[int]:
        # As the worker's task: planning and sending in units of work of their own.
        with session_scope() as session:
            plan_all(session, due, settings)
        with session_scope() as session:
            return send_due(session, due, settings).sent

    results = at_once(PARALLEL, calendar_tick)
    sent = [reminder for result in results if isinstance(result, list) for reminder in result]
    assert [r for r in results if isinstance(r, BaseException)] == [] and len(sent) == 1
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Announcement)) == 1
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1


def test_parallel_claims_of_one_batch_take_each_delivery_once() -> None:
    settings = get_settings()
    with session_scope() as session:
        for n in range(20):
            create_subscription(session, SubscriptionCreate(channel="zalo", target=str(n)), utcnow(), settings)
    article_id = new_article("Bài cho hai mươi người")
    with session_scope() as session:
        event_id = session.scalars(select(OutboxEvent.id).where(OutboxEvent.article_id == article_id)).one()
    announce_event(session_scope, event_id, utcnow(), settings)
    with session_scope() as session:
        ids = list(session.scalars(select(Delivery.id)))

    def take(_: int) -> list[str]:
        # A batch message delivered twice, and the sweep's batch of the same rows.
        with session_scope() as session:
            return [message.delivery_id for message in claim(session, ids, utcnow(), settings)]

    results = at_once(PARALLEL, take)
    claimed = [delivery for result in results if isinstance(result, list) for delivery in result]
    assert sorted(claimed) == sorted(ids)


def test_parallel_digest_ticks_plan_one_digest_per_reader() -> None:
    settings = get_settings()
    monday = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # 30/11/2026 06:30 in Hà Nội
    readers = [digest_reader(f"doc.gia{n}@example.vn", since=monday - timedelta(hours=23)) for n in range(5)]
    digest_article("Tin trong ngày", monday - timedelta(hours=2))
    results = at_once(PARALLEL, lambda _: digests_tick(session_scope, monday + timedelta(minutes=1), settings, 60))
    assert sum(r.queued for r in results if not isinstance(r, BaseException)) == len(readers)
    with session_scope() as session:
        rows = session.execute(select(Digest.subscription_id, func.count()).group_by(Digest.subscription_id)).all()
        assert sorted(rows) == [(reader, 1) for reader in sorted(readers)]
        assert session.scalar(select(func.count()).select_from(Delivery)) == len(readers)


def test_parallel_follow_and_unfollow_events_of_one_zalo_follower_leave_the_newest_state() -> None:
    settings = get_settings()
    # Events 0–5 of one follower at once, each with its own time; the newest (5) is a follow.
    events = [OaEvent(FOLLOW if n % 2 else UNFOLLOW, 1_000 + n, user_id="8412") for n in range(PARALLEL)]

    def deliver(n: int) -> str:
        with session_scope() as session:
            return handle_zalo_event(session, events[n], utcnow(), settings)

    assert [r for r in at_once(PARALLEL, deliver) if isinstance(r, BaseException)] == []
    with session_scope() as session:
        follower = session.scalars(select(Subscription).where(Subscription.target == "8412")).one()
        assert (follower.status, follower.options["zalo_event_ms"]) == ("active", 1_000 + PARALLEL - 1)


def test_two_holders_approving_one_stage_at_once_move_it_on_once() -> None:
    """Decision 0042: approving a stage before the last closes its review and opens the next
    stage's; two holders at once must leave one review at the next stage, told once."""
    from service.auth.users import create_user
    from service.staff.workflow import StageInput, replace_stages

    settings = get_settings()
    with session_scope() as session:
        create_user(session, "lanhdao", "mật khẩu đủ dài 2026", "editor", utcnow())
        session.flush()
        replace_stages(
            session, [StageInput("Biên tập viên duyệt", "editor"), StageInput("Lãnh đạo", None, ("lanhdao",))]
        )
    for round_ in range(ROUNDS):
        writer = person("phongvien", "writer", settings)
        article_id = new_article(f"Bài hai bước {round_}", status="draft", actor=writer)
        with session_scope() as session:
            submit_for_review(session, article_id, writer, utcnow(), settings)

        def decide(n: int, article_id: int = article_id) -> None:
            with session_scope() as session:
                approve(session, article_id, person(f"bientap{n}", "editor", settings), utcnow(), settings)

        results = at_once(PARALLEL, decide)
        # A loser finds it decided (409) or already at the leaders' stage, which is not theirs.
        refused = [
            r for r in only_conflicts(results) if not (isinstance(r, NotPermitted) and r.rule == Rule.NOT_YOUR_STAGE)
        ]
        assert refused == []
        assert sum(1 for r in results if not isinstance(r, BaseException)) == 1
        with session_scope() as session:
            reviews = session.execute(
                select(ArticleReview.stage, ArticleReview.status)
                .where(ArticleReview.article_id == article_id)
                .order_by(ArticleReview.id)
            ).all()
            status = session.scalar(select(Article.status).where(Article.id == article_id))
        assert [(r.stage, r.status) for r in reviews] == [(0, "approved"), (1, "in_review")]
        assert status == "pending_review"
