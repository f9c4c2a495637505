"""Preview before publishing: the public page, the feed entry and the announcements, as they will be.

Each preview is built by the code that will produce the real thing, never by a copy of
it: the article page by the public ``article.html`` template and ``article_head``; the
feed entry by ``article_item`` and the JSON Feed renderer (read back, as a reader gets
it); the Telegram message by ``telegram_html`` (``fit`` to its limit) and the e-mail by
``build_email``, both from ``article_payload``, the payload an announcement carries.

Nothing is stored: the article shown is a transient ``Article`` that no session ever
sees (its categories are transient too), so a preview cannot create a category or a
revision. ``POST …/preview`` previews the editor's unsaved fields (Origin + CSRF checked
like any form); ``GET /console/articles/{id}/preview`` previews the saved article.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy

from fastapi import Response
from fastapi.responses import HTMLResponse

from config.settings import Settings, get_settings
from service.announcements.compose import compose
from service.announcements.kinds import Claim, Content, Recipient
from service.announcements.message import Medium
from service.articles.schemas import ArticleCreate
from service.articles.service import CONTENT_COLUMNS, content_fields, get_article
from service.articles.urls import article_url
from service.auth.sessions import SignedIn
from service.channels.mail import build_email
from service.channels.messages import OutboundMessage, ready
from service.channels.telegram import telegram_html
from service.console.common import console_router, html_page
from service.console.forms import ArticleForm
from service.console.security import CheckedForm, CurrentUser, PostedCategories
from service.db.engine import session_scope
from service.db.models import Article, ArticleStatus, Category, EventType
from service.db.types import utcnow
from service.events.announce import article_payload
from service.feeds.publish import article_item, spec_for
from service.feeds.render import render
from service.feeds.scopes import SITE
from service.i18n import use_language
from service.inputs import RowId
from service.site.meta import FEED_FORMATS, article_head
from service.site.navigation import current_navigation
from service.site.pages import ArticleView, CategoryLink
from service.text import resolve_references, slugify_vi
from service.web import templating as site_templates

router = console_router()
# Subscribers read announcements in their own locale; most of a Vietnamese desk's read Vietnamese.
ANNOUNCEMENT_LOCALE = "vi"
PREVIEW_DELIVERY = "preview"


@dataclass(frozen=True)
class FeedEntryPreview:
    """One feed entry as a reader gets it (JSON Feed 1.1 item fields)."""

    guid: str
    url: str
    title: str
    summary: str | None
    content_html: str | None


@dataclass(frozen=True)
class EmailPreview:
    """The announcement e-mail: its subject and sender, the plain-text and HTML parts."""

    subject: str
    sender: str
    text: str
    html: str


@dataclass(frozen=True)
class Preview:
    """The three previews of one article, and whether its number and GUID are still to come."""

    page_html: str
    entry: FeedEntryPreview
    event_type: str
    telegram_html: str
    email: EmailPreview
    unsaved: bool


def transient_article(data: ArticleCreate, existing: Article | None, now: datetime) -> Article:
    """The article as saving ``data`` would leave it, never added to a session.

    ``existing`` gives the id, GUID and dates of a saved article; a new one has id 0 and a
    placeholder GUID (both are assigned when it is first saved). Categories are transient
    ``Category`` objects with the slugs ``create_article`` would give them.
    """
    article = Article(
        id=existing.id if existing is not None else 0,
        guid=existing.guid if existing is not None else "urn:uuid:…",
        **content_fields(data),
        status=existing.status if existing is not None else ArticleStatus.DRAFT.value,
        published_at=(existing.published_at if existing is not None else None) or now,
        created_at=existing.created_at if existing is not None else now,
        updated_at=now,
    )
    article.categories = [Category(name=name, slug=slugify_vi(name)) for name in data.categories]
    return article


def transient_copy(existing: Article, now: datetime) -> Article:
    """A transient copy of a saved article, dated as it would be if published ``now`` when it is not yet."""
    article = Article(
        id=existing.id,
        guid=existing.guid,
        slug=existing.slug,
        **{name: getattr(existing, name) for name in CONTENT_COLUMNS},
        status=existing.status,
        published_at=existing.published_at or existing.publish_at or now,
        created_at=existing.created_at,
        updated_at=existing.updated_at,
    )
    article.categories = [Category(name=c.name, slug=c.slug) for c in existing.categories]
    return article


def build_preview(article: Article, settings: Settings, now: datetime, unsaved: bool) -> Preview:
    """The page, feed entry, Telegram message and e-mail of a transient ``article`` with ``published_at`` set.

    An article already published announces an update (``article.updated``), any other a
    publication (``article.published``).
    """
    base_url = settings.base_url
    url = article_url(article, base_url)
    body = resolve_references(article.body_html, url)
    page_html = _public_page(article, body, url)
    item = article_item(article, base_url)
    document = json.loads(render("json", spec_for(SITE, None, settings), [item]))["items"][0]
    entry = FeedEntryPreview(
        guid=document["id"],
        url=document["url"],
        title=document["title"],
        summary=document.get("summary"),
        content_html=document.get("content_html"),
    )
    published = article.status == ArticleStatus.PUBLISHED
    event_type = (EventType.ARTICLE_UPDATED if published else EventType.ARTICLE_PUBLISHED).value
    payload = article_payload(article, base_url)
    recipient = Recipient(0, "email", "ban-doc@example.com", ANNOUNCEMENT_LOCALE, PREVIEW_DELIVERY)
    announcement = Claim(PREVIEW_DELIVERY, event_type, 0, payload, now.timestamp(), recipient)
    mail = compose(announcement, Content(payload), Medium.MAIL, settings, now)
    outbound = OutboundMessage(
        delivery_id=PREVIEW_DELIVERY,
        subscription_id=0,
        channel="email",
        target=recipient.target,
        event_type=event_type,
        compose=ready(mail),
        created_at=now.timestamp(),
    )
    return Preview(
        page_html=page_html,
        entry=entry,
        event_type=event_type,
        telegram_html=telegram_html(compose(announcement, Content(payload), Medium.TEXT, settings, now)),
        email=_email_preview(build_email(settings, outbound, now)),
        unsaved=unsaved,
    )


def _public_page(article: Article, body_html: str, url: str) -> str:
    """The public article page, rendered in Vietnamese like every reader sees it first."""
    assert article.published_at is not None
    view = ArticleView(
        id=article.id,
        slug=article.slug,
        title=article.title,
        summary=article.summary,
        body_html=body_html,
        author=article.author,
        image_url=article.image_url,
        image_caption=article.image_caption,
        image_alt=article.image_alt,
        source_name=article.source_name,
        source_url=article.source_url,
        published_at=article.published_at,
        updated_at=article.updated_at,
        categories=tuple(CategoryLink(slug=c.slug, name=c.name) for c in article.categories),
    )
    site = site_templates.branding()
    with use_language("vi"):
        return site_templates.render(
            "article.html",
            head=article_head(view, site),
            navigation=current_navigation(),
            article=view,
            related=(),
            feed_formats=[(name, label) for name, _, label in FEED_FORMATS],
        )


def _email_preview(raw: bytes) -> EmailPreview:
    # Read back from the very bytes an SMTP server would receive.
    email = message_from_bytes(raw, policy=email_policy.default)
    text_part = email.get_body(preferencelist=("plain",))
    html_part = email.get_body(preferencelist=("html",))
    return EmailPreview(
        subject=str(email["Subject"]),
        sender=str(email["From"]),
        text=text_part.get_content() if text_part is not None else "",
        html=html_part.get_content() if html_part is not None else "",
    )


def _page(user: SignedIn, article: Article | None, preview: Preview | None, form: ArticleForm) -> HTMLResponse:
    return html_page(
        "preview.html",
        user,
        status_code=200 if preview is not None else 422,
        article=article,
        preview=preview,
        form=form,
    )


@router.get("/articles/{article_id}/preview", response_class=HTMLResponse)
def saved_preview(article_id: RowId, user: CurrentUser) -> Response:
    """The previews of the saved article (any status); 404 for an unknown id. Changes nothing."""
    with session_scope() as session:
        article = get_article(session, article_id)
        preview = build_preview(transient_copy(article, utcnow()), get_settings(), utcnow(), unsaved=False)
        return _page(user, article, preview, ArticleForm.of(article))


@router.post("/articles/new/preview", response_class=HTMLResponse)
def new_preview(user: CurrentUser, posted: CheckedForm, chosen: PostedCategories) -> Response:
    """The previews of the editor's unsaved new article; 422 with the field errors when it would not save."""
    return _posted_preview(user, None, posted, chosen)


@router.post("/articles/{article_id}/preview", response_class=HTMLResponse)
def edited_preview(article_id: RowId, user: CurrentUser, posted: CheckedForm, chosen: PostedCategories) -> Response:
    """The previews of the editor's unsaved changes to a saved article; 422 with the errors; 404 for an unknown id."""
    return _posted_preview(user, article_id, posted, chosen)


def _posted_preview(user: SignedIn, article_id: int | None, posted: dict[str, str], chosen: list[str]) -> Response:
    form = ArticleForm.posted({**posted, "action": "draft"}, chosen)  # a preview never schedules or publishes
    now = utcnow()
    data = form.to_create(now)
    with session_scope() as session:
        existing = get_article(session, article_id) if article_id is not None else None
        if data is None:
            return _page(user, existing, None, form)
        article = transient_article(data, existing, now)
        preview = build_preview(article, get_settings(), now, unsaved=True)
        return _page(user, existing, preview, form)
