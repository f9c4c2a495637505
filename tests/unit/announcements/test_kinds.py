"""Announcement kinds (decision 0032): a kind registered by its own module travels the whole
sending path (bulk load, words in the recipient's language, hold, every medium) with
nothing of it in service/channels or service/deliveries."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from service.announcement_kinds import register_all
from service.announcements import kinds
from service.announcements.compose import lines_words
from service.announcements.kinds import Claim, Content, Kind, Recipient, UnknownKind, kind_of
from service.announcements.message import AnnouncementText
from service.db.engine import session_scope
from service.db.models import Subscription
from service.deliveries.planning import Named, plan_announcement
from service.deliveries.sender import claim
from service.i18n import LANGUAGES, use_language
from service.subscriptions.schemas import SubscriptionCreate
from service.subscriptions.service import create_subscription

NOW = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)
loads: list[list[str]] = []


def load_notes(session: Session, claims: Sequence[Claim], settings: Settings) -> dict[str, Content]:
    loads.append([c.delivery_id for c in claims])
    return {c.delivery_id: Content({**c.payload, "loaded_for": c.recipient.target}) for c in claims}


def note_words(payload: Mapping[str, Any], recipient: Recipient, settings: Settings, now: datetime) -> AnnouncementText:
    hello = "Hello" if recipient.locale == "en" else "Xin chào"
    return lines_words(f"{hello} {payload['loaded_for']}", [str(payload["note"])], "https://b.vn/n")


@pytest.fixture
def note_kinds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    loads.clear()
    monkeypatch.setitem(kinds._kinds, "test.note", Kind("test.note", note_words, load=load_notes))
    monkeypatch.setitem(kinds._kinds, "test.urgent", Kind("test.urgent", note_words, load=load_notes, hold=False))
    yield


def subscribe(channel: str, target: str, locale: str = "vi") -> int:
    data = SubscriptionCreate.model_validate({"channel": channel, "target": target, "locale": locale})
    with session_scope() as session:
        return create_subscription(session, data, NOW, get_settings())[0].id


def plan(kind: str, subscription_ids: list[int], key: str) -> list[str]:
    with session_scope() as session:
        return plan_announcement(
            session,
            source_key=key,
            event_type=kind,
            payload={"note": "<b>ghi chú</b> & lời"},
            now=NOW,
            settings=get_settings(),
            audience=Named(tuple(subscription_ids)),
        )


def test_a_kind_registered_by_its_module_is_loaded_once_per_batch_and_worded_per_recipient(note_kinds: None) -> None:
    mail = subscribe("email", "ban.doc@example.vn", locale="en")
    chat = subscribe("telegram", "-100123")
    hook = subscribe("webhook", "https://8.8.8.8/hook")
    ids = plan("test.note", [mail, chat, hook], "note:1") + plan("test.note", [mail], "note:2")
    with session_scope() as session:
        messages = {m.delivery_id: m for m in claim(session, ids, NOW, get_settings())}
    # One load for the whole batch (two announcements, four deliveries), never one per delivery.
    assert [sorted(batch) for batch in loads] == [sorted(ids)]
    by_target = {m.target: m for m in messages.values() if m.announcement_id == messages[ids[0]].announcement_id}
    email = by_target["ban.doc@example.vn"].message
    assert email.subject == "Hello ban.doc@example.vn" and email.text.endswith("\nhttps://b.vn/n")
    assert "&lt;b&gt;ghi chú&lt;/b&gt; &amp; lời" in email.html and "<b>ghi" not in email.html
    assert [link.label for link in email.footer] == ["Preferences", "Unsubscribe"]  # the recipient's language
    assert ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click") in email.headers
    telegram = by_target["-100123"].message
    assert telegram.subject == "Xin chào -100123" and telegram.html == "" and telegram.link_label == "Xem"
    webhook = by_target["https://8.8.8.8/hook"].message
    assert webhook.data == {"note": "<b>ghi chú</b> & lời", "loaded_for": "https://8.8.8.8/hook"}
    assert webhook.subject == ""  # a webhook carries data: no words are rendered for it


def test_whether_a_paused_subscription_holds_the_message_is_the_kinds_to_say(note_kinds: None) -> None:
    paused = subscribe("zalo", "2468013579")
    with session_scope() as session:
        session.get_one(Subscription, paused).status = "paused"
    held = plan("test.note", [paused], "note:held")
    urgent = plan("test.urgent", [paused], "note:urgent")
    with session_scope() as session:
        sent = claim(session, held + urgent, NOW, get_settings())
    assert [m.event_type for m in sent] == ["test.urgent"]


def test_an_unknown_kind_fails_its_own_message_not_the_batch(note_kinds: None) -> None:
    target = subscribe("zalo", "1357924680")
    known = plan("test.note", [target], "note:known")
    unknown = plan("nobody.knows", [target], "note:unknown")
    with session_scope() as session:
        sent = {m.event_type: m for m in claim(session, known + unknown, NOW, get_settings())}
    assert sent["test.note"].message.text.startswith("Xin chào 1357924680")
    with pytest.raises(UnknownKind):
        sent["nobody.knows"].message  # noqa: B018 - rendering is what raises, inside the adapter's send


def test_every_kind_the_service_plans_is_registered() -> None:
    register_all()
    planned = {
        "article.published",
        "article.updated",
        "article.withdrawn",
        "reminder.due",
        "reader.confirm",
        "reader.manage",
        "reader.welcome",
        "reader.stopped",
        "reader.digest",
        "subscription.test",
        "subscription.disabled",
        "feed.updated",
    }
    assert {name for name in planned if kind_of(name).name == name} == planned
    # Only a reader's own confirmation and manage mails and the reply to a stop go to a paused subscription.
    assert {name for name in planned if not kind_of(name).hold} == {"reader.confirm", "reader.manage", "reader.stopped"}
    with pytest.raises(ValueError, match="registered twice"):
        kinds.register(Kind("article.published"))


def test_words_are_rendered_in_the_recipients_language() -> None:
    from service.announcements.compose import render_text

    payload = {"article": {"title": "Quốc khánh", "url": "https://b.vn/a"}}
    words = {code: render_text("article.withdrawn", payload, code).subject for code in LANGUAGES}
    assert words == {"vi": "Đã gỡ bài: Quốc khánh", "en": "Withdrawn: Quốc khánh"}
    with use_language("en"):  # the page's language does not leak into a subscriber's message
        assert render_text("article.withdrawn", payload, "vi").subject == "Đã gỡ bài: Quốc khánh"
