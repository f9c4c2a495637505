"""A category only drafts use is nowhere a reader looks (issue 18, item 7).

Each public list, with one category named by a published article ("Thời sự"), one
named only by a draft ("Kế hoạch bí mật", a writer's unreviewed text), and, where it
matters, one whose only article was withdrawn and one an admin created for readers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from config.settings import get_settings
from service.api import reader_forms
from service.api.app import create_app
from service.articles.categories import create_listed_category
from service.articles.editorial import OPERATOR
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.articles.service import create_article, update_article, withdraw_article
from service.cli.main import app as cli
from service.db.engine import session_scope
from service.db.models import Category, FeedDocument, Subscription
from service.db.types import utcnow
from service.errors import InvalidField
from service.feeds.publish import render_scope
from service.feeds.scopes import SITE, category_scope
from service.telegram.bot import handle_update
from service.telegram.updates import parse_update
from service.websub.hub import parse_request

DRAFT_NAME, DRAFT = "Kế hoạch bí mật", "ke-hoach-bi-mat"
PUBLIC_NAME, PUBLIC = "Thời sự", "thoi-su"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def write(title: str, categories: list[str], status: str = "published") -> int:
    with session_scope() as session:
        data = ArticleCreate(title=title, body_html="<p>Nội dung</p>", categories=categories, status=status)
        return create_article(session, data, utcnow(), get_settings(), OPERATOR).article.id


def render(*slugs: str) -> None:
    with session_scope() as session:
        for scope in [SITE, *(category_scope(slug) for slug in slugs)]:
            render_scope(session, scope, utcnow(), get_settings())


@pytest.fixture
def desk() -> dict[str, int]:
    """A published article in PUBLIC, a draft in DRAFT (and in PUBLIC), their feeds rendered as an event would."""
    ids = {
        "published": write("Tin đã duyệt", [PUBLIC_NAME]),
        "draft": write("Bản nháp", [DRAFT_NAME, PUBLIC_NAME], "draft"),
    }
    render(PUBLIC, DRAFT)
    return ids


@pytest.fixture
def web() -> Iterator[TestClient]:
    reader_forms.limiters.clear()
    with TestClient(create_app(), base_url="https://testserver", follow_redirects=False) as client:
        yield client
    reader_forms.limiters.clear()


def test_the_subscribe_page_lists_public_categories_only(desk: dict[str, int], web: TestClient) -> None:
    page = web.get("/subscribe")
    assert PUBLIC_NAME in page.text
    assert DRAFT_NAME not in page.text and DRAFT not in page.text


def test_signing_up_for_a_draft_only_category_is_refused_and_stores_nothing(
    desk: dict[str, int], web: TestClient
) -> None:
    token = CSRF.search(web.get("/subscribe").text)
    assert token
    form = {"csrf_token": token.group(1), "email": "lan@example.vn", "consent": "yes", "frequency": "each"}
    answer = web.post("/subscribe", data={**form, "scope": "some", "categories": [DRAFT]})
    assert answer.status_code == 422
    with session_scope() as session:
        assert session.scalars(select(Subscription)).all() == []


def test_a_category_page_and_its_feeds_exist_only_while_public(desk: dict[str, int], web: TestClient) -> None:
    assert web.get(f"/categories/{PUBLIC}").status_code == 200
    assert web.get(f"/categories/{DRAFT}").status_code == 404
    for name in ("rss.xml", "atom.xml", "feed.json"):
        assert web.get(f"/feeds/categories/{PUBLIC}/{name}").status_code == 200
        assert web.get(f"/feeds/categories/{DRAFT}/{name}").status_code == 404
    with session_scope() as session:
        assert session.get(FeedDocument, (category_scope(DRAFT), "atom")) is None

    # Its only article withdrawn, the category is a draft's again: gone from every list,
    # although its feeds were stored and served a moment ago (the withdrawal's event
    # re-renders the scope; an old article may change no document at all).
    with session_scope() as session:
        withdraw_article(session, desk["published"], utcnow(), get_settings(), OPERATOR)
    render(PUBLIC)
    assert web.get(f"/categories/{PUBLIC}").status_code == 404
    assert web.get(f"/feeds/categories/{PUBLIC}/atom.xml").status_code == 404
    assert PUBLIC_NAME not in web.get("/subscribe").text


def test_unpublishing_into_a_new_category_renders_no_feed_for_it(desk: dict[str, int]) -> None:
    """A published article turned back into a draft with a new category: the event names
    the new category's scope too, and its render must not store the unreviewed name."""
    with session_scope() as session:
        change = ArticleUpdate(status="draft", categories=["Chưa duyệt"])
        update_article(session, desk["published"], change, utcnow(), get_settings(), OPERATOR)
    render("chua-duyet")
    with session_scope() as session:
        assert (
            session.scalars(select(FeedDocument.scope).where(FeedDocument.scope == "category:chua-duyet")).all() == []
        )


def test_the_sitemap_names_public_categories_only(desk: dict[str, int], web: TestClient) -> None:
    with session_scope() as session:
        create_listed_category(session, "Tin ảnh", utcnow())  # an admin's, with no article yet
    pages = web.get("/sitemaps/pages.xml").text
    assert f"/categories/{PUBLIC}<" in pages and "/categories/tin-anh<" in pages
    assert DRAFT not in pages


def telegram(kind: str, body: dict[str, Any], update_id: int) -> list[Any]:
    with session_scope() as session:
        handled = handle_update(session, parse_update({"update_id": update_id, kind: body}), utcnow(), get_settings())
    return list(handled.replies)


def test_the_telegram_keyboard_and_its_callbacks_know_public_categories_only(desk: dict[str, int]) -> None:
    sender = {"id": 5, "is_bot": False, "first_name": "Lan", "language_code": "vi"}
    chat = {"id": 77, "type": "private"}
    (reply,) = telegram("message", {"message_id": 1, "from": sender, "chat": chat, "text": "/subscribe"}, 1)
    buttons = [button["text"] for row in reply.parameters["reply_markup"]["inline_keyboard"] for button in row]
    assert PUBLIC_NAME in buttons and DRAFT_NAME not in buttons

    with session_scope() as session:
        draft_id = session.scalars(select(Category.id).where(Category.slug == DRAFT)).one()
    # A client may send any callback data, not only our buttons': a draft's id is a stale choice.
    query = {"id": "q", "from": sender, "message": {"message_id": 2, "chat": chat}, "data": f"sub:{draft_id}"}
    (answer,) = telegram("callback_query", query, 2)
    assert answer.method == "answerCallbackQuery"
    with session_scope() as session:
        assert session.scalars(select(Subscription)).all() == []


def test_a_draft_only_categorys_feed_is_no_websub_topic(desk: dict[str, int]) -> None:
    base = get_settings().base_url
    form = {"hub.mode": "subscribe", "hub.callback": "https://8.8.8.8/cb"}
    with session_scope() as session:
        parse_request(session, {**form, "hub.topic": f"{base}/feeds/categories/{PUBLIC}/atom.xml"}, get_settings())
        if session.get(FeedDocument, (category_scope(DRAFT), "atom")) is None:  # stored by an older release
            stamp = datetime(2026, 1, 1, tzinfo=UTC)
            stored = FeedDocument(scope=category_scope(DRAFT), format="atom", body=b"x", etag='"x"', version=1)
            stored.last_modified, stored.rendered_at = stamp, stamp
            session.add(stored)
            session.flush()
        with pytest.raises(InvalidField) as refused:
            parse_request(session, {**form, "hub.topic": f"{base}/feeds/categories/{DRAFT}/atom.xml"}, get_settings())
        assert refused.value.field == "hub.topic"
        session.rollback()


def test_a_reader_keeps_a_category_chosen_while_it_was_public(desk: dict[str, int], web: TestClient) -> None:
    from service.announcements.links import preferences_url

    with session_scope() as session:
        subscription = Subscription(channel="email", target="lan@example.vn", events=[], categories=[PUBLIC],
                                    locale="vi", options={}, status="active", unsubscribe_token="t" * 32,
                                    created_at=utcnow())  # fmt: skip
        session.add(subscription)
        session.flush()
        withdraw_article(session, desk["published"], utcnow(), get_settings(), OPERATOR)
        url = preferences_url(get_settings(), subscription.id, utcnow())
    page = web.get(url.removeprefix(get_settings().base_url))
    assert page.status_code == 200
    assert PUBLIC_NAME in page.text and DRAFT_NAME not in page.text


def test_a_category_an_admin_creates_is_public_before_any_article(web: TestClient) -> None:
    write("Bản nháp", [DRAFT_NAME], "draft")
    result = CliRunner().invoke(cli, ["categories", "create", "  Tin ảnh  "])
    assert result.exit_code == 0, result.output
    assert "Tin ảnh" in web.get("/subscribe").text
    assert web.get("/categories/tin-anh").status_code == 200
    assert web.get("/feeds/categories/tin-anh/atom.xml").status_code == 200
    # An admin may list a category a draft named: its name is then the admin's choice.
    assert CliRunner().invoke(cli, ["categories", "create", DRAFT_NAME]).exit_code == 0
    assert DRAFT_NAME in web.get("/subscribe").text
    listing = CliRunner().invoke(cli, ["categories", "list"]).output
    assert f"{DRAFT}\tpublic\t{DRAFT_NAME}" in listing

    refused = CliRunner().invoke(cli, ["categories", "create", "   "])
    assert refused.exit_code == 2 and "error: name" in refused.output


def test_a_scheduled_articles_category_becomes_public_when_it_is_published(web: TestClient) -> None:
    from service.articles.service import publish_due_articles

    with session_scope() as session:
        data = ArticleCreate(title="Hẹn giờ", body_html="<p>x</p>", categories=["Sắp đăng"],
                             publish_at=utcnow() + timedelta(hours=1))  # fmt: skip
        create_article(session, data, utcnow(), get_settings(), OPERATOR)
    assert "Sắp đăng" not in web.get("/subscribe").text
    with session_scope() as session:
        publish_due_articles(session, utcnow() + timedelta(hours=2), get_settings())
    assert "Sắp đăng" in web.get("/subscribe").text
