from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import get_settings
from service.articles.schemas import ArticleCreate
from service.articles.service import create_article
from service.db.after_commit import pending
from service.db.engine import session_scope
from service.db.models import FeedDocument, OutboxEvent
from service.events.announce import plan_event_announcement
from service.events.handlers import handle_event
from service.events.outbox import claim_unrelayed_events
from tests.actors import OPERATOR

NOW = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)


def publish(categories: list[str]) -> int:
    data = ArticleCreate(title="Kỷ niệm 97 năm", body_html="<p>x</p>", categories=categories)
    with session_scope() as session:
        create_article(session, data, NOW, get_settings(), OPERATOR)
        ((name, (event_id,)),) = pending(session).tasks
        assert name == "events.dispatch"
    assert isinstance(event_id, int)
    return event_id


def test_handling_renders_every_touched_scope_once() -> None:
    event_id = publish(["Thời sự"])
    changed = handle_event(session_scope, event_id, NOW, get_settings())
    assert changed == {"site": ["rss", "atom", "json"], "category:thoi-su": ["rss", "atom", "json"]}
    assert handle_event(session_scope, event_id, NOW, get_settings()) is None  # a re-delivered message is harmless
    with session_scope() as session:
        docs = {(d.scope, d.format) for d in session.scalars(select(FeedDocument))}
        assert docs == {(s, f) for s in ("site", "category:thoi-su") for f in ("rss", "atom", "json")}
        assert session.get_one(OutboxEvent, event_id).handled_at == NOW


def test_a_scope_is_committed_without_variants_first_and_with_them_next() -> None:
    event_id = publish(["Thời sự"])
    seen: list[dict[tuple[str, str], bool]] = []

    @contextmanager
    def recording_unit_of_work() -> Iterator[Session]:
        with session_scope() as session:
            yield session
        with session_scope() as session:  # what readers see once that unit of work committed
            seen.append({(d.scope, d.format): d.body_br is not None for d in session.scalars(select(FeedDocument))})

    handle_event(recording_unit_of_work, event_id, NOW, get_settings())
    formats = ("rss", "atom", "json")
    site = [{fmt: state[("site", fmt)] for fmt in formats} for state in seen if ("site", "rss") in state]
    # Identity bytes alone (served to every client), then the variants: never variants first.
    assert site[0] == dict.fromkeys(formats, False)
    assert site[1] == site[-1] == dict.fromkeys(formats, True)
    assert all(seen[-1].values()) and len(seen[-1]) == 6


def test_unknown_event_is_skipped() -> None:
    assert handle_event(session_scope, 12345, NOW, get_settings()) is None


def test_sweep_claims_only_overdue_unfinished_events_and_backs_off() -> None:
    handled = publish([])
    pending = publish([])
    handle_event(session_scope, handled, NOW, get_settings())
    with session_scope() as session:
        plan_event_announcement(session, handled, NOW, get_settings())
    with session_scope() as session:
        assert (
            claim_unrelayed_events(session, datetime.now(UTC), get_settings()) == []
        )  # still inside the relay's grace period
    later = datetime.now(UTC) + timedelta(minutes=1)
    with session_scope() as session:
        assert claim_unrelayed_events(session, later, get_settings()) == [pending]
    with session_scope() as session:
        assert claim_unrelayed_events(session, later, get_settings()) == []  # pushed back until its next attempt
        event = session.get_one(OutboxEvent, pending)
        assert event.relay_attempts == 1 and event.next_attempt_at > later


def test_rendered_but_unannounced_event_is_sent_again() -> None:
    event_id = publish([])
    handle_event(session_scope, event_id, NOW, get_settings())
    later = datetime.now(UTC) + timedelta(minutes=1)
    with session_scope() as session:
        assert claim_unrelayed_events(session, later, get_settings()) == [event_id]
    with session_scope() as session:
        plan_event_announcement(session, event_id, NOW, get_settings())
        assert session.get_one(OutboxEvent, event_id).announced_at == NOW
        assert plan_event_announcement(session, event_id, NOW, get_settings()) == 0  # planned once
