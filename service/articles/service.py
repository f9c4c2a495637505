"""Article lifecycle. Functions take a session and never commit: the caller owns the
transaction, so the change and its outbox event land together or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from config.settings import Settings
from service.articles.alt_text import require_alt_text
from service.articles.audit import article_state, audit_article, update_action
from service.articles.derived import count_articles, counted, keep_in_step
from service.articles.editorial import (
    NEW,
    Actor,
    ChangeKind,
    Outcome,
    decide_all,
    kinds_of_update,
    may_create_categories,
    require_allowed,
)
from service.articles.review_notices import review_requested
from service.articles.revisions import record_revision
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.articles.urls import article_url
from service.db.models import Article, ArticleReview, ArticleStatus, Category, EventType, ReviewStatus
from service.db.statements import insert_ignoring_duplicates
from service.errors import InvalidField, NotFound
from service.events.outbox import record_article_event
from service.feeds.scopes import category_scope
from service.staff.workflow import stage_at
from service.text import clean_text, resolve_references, search_key, slugify_vi

# Why an article was withdrawn, as its 410 page says it (decision 0043).
MAX_REASON_CHARS = 1000


@dataclass
class Change:
    """An article after a change (its outbox events are sent once the caller commits)."""

    article: Article


def slug_for(title: str) -> str:
    """The URL slug of a title: transliterated Vietnamese (Đ→d), or "bai-viet" when nothing is left."""
    return slugify_vi(title) or "bai-viet"


def _categories_by_name(
    session: Session, names: Sequence[str], now: datetime, actor: Actor, settings: Settings
) -> list[Category]:
    """Categories by slug, creating the missing ones (names are validated already).

    Creating one is for those BANTIN_NEW_CATEGORIES_BY names (``may_create_categories``):
    for anyone else a name no category has is InvalidField("categories",
    "new_category_not_allowed"), nothing written.

    Get-or-create that survives concurrency: the missing slugs are inserted with ON
    CONFLICT DO NOTHING, so a request naming a category that another request is creating
    at the same moment uses that one instead of failing on the unique slug; then all are read.
    """
    wanted = {slugify_vi(name): name for name in names}
    if not wanted:
        return []
    known = set(session.scalars(select(Category.slug).where(Category.slug.in_(wanted))))
    missing = [{"name": name, "slug": slug, "created_at": now} for slug, name in wanted.items() if slug not in known]
    if missing and not may_create_categories(actor, settings):
        raise InvalidField("categories", "new_category_not_allowed", name=missing[0]["name"])
    if missing:
        session.execute(insert_ignoring_duplicates(session, Category), missing)
    return list(session.scalars(select(Category).where(Category.slug.in_(wanted)).order_by(Category.slug)))


def _status_for(requested: str, publish_at: datetime | None, now: datetime) -> ArticleStatus:
    if requested == ArticleStatus.DRAFT:
        return ArticleStatus.DRAFT
    if publish_at is not None and publish_at > now:
        return ArticleStatus.SCHEDULED
    return ArticleStatus.PUBLISHED


# What an article's content is, as opposed to its identity, status and dates.
CONTENT_COLUMNS = (
    "title",
    "summary",
    "body_html",
    "author",
    "image_url",
    "image_caption",
    "image_alt",
    "source_name",
    "source_url",
)


def content_fields(data: ArticleCreate) -> dict[str, Any]:
    """The columns a new article takes from its input: the slug (from the title) and
    CONTENT_COLUMNS as given. Shared by ``create_article`` and the console's preview, so a
    preview shows what saving would store."""
    return {"slug": slug_for(data.title), **{name: getattr(data, name) for name in CONTENT_COLUMNS}}


# The statuses in which an article is, or will be, read: its images must have their words (decision 0034).
GOING_OUT = (ArticleStatus.PUBLISHED, ArticleStatus.SCHEDULED)
_CREATED_AS = {ArticleStatus.PUBLISHED: ChangeKind.PUBLISH, ArticleStatus.SCHEDULED: ChangeKind.SCHEDULE}


def create_article(session: Session, data: ArticleCreate, now: datetime, settings: Settings, actor: Actor) -> Change:
    """A new article; ``actor.label`` is recorded as its creator.

    Published now unless it is a draft or ``publish_at`` is in the future; its event is
    written in the same transaction. Raises ``InvalidField`` (via the schema) for bad input,
    and ("image_alt"/"body_html") when it would go out with an image that lacks its words
    (decision 0034); NotPermitted when the actor may not publish or schedule (decision 0026).
    """
    status = _status_for(data.status, data.publish_at, now)
    decide_all(actor, NEW, {_CREATED_AS.get(status, ChangeKind.CONTENT)})
    if status in GOING_OUT:
        require_alt_text(data.body_html, data.image_url, data.image_alt)
    article = Article(
        guid=f"urn:uuid:{uuid.uuid4()}",
        **content_fields(data),
        status=status.value,
        publish_at=data.publish_at,
        # A past publish_at back-dates the article, as a newsroom importing old items expects.
        published_at=(data.publish_at or now) if status == ArticleStatus.PUBLISHED else None,
        created_at=now,
        updated_at=now,
        created_by=actor.label,
        updated_by=actor.label,
    )
    article.categories = _categories_by_name(session, data.categories, now, actor, settings)
    session.add(article)
    session.flush()
    # The article's address exists only now that it has an id; a body without relative
    # references is unchanged by this, and SQLAlchemy then writes nothing more.
    article.body_html = resolve_references(article.body_html, article_url(article, settings.base_url))
    keep_in_step(session, article, None)
    record_revision(session, article, actor.label, now)
    audit_article(session, "article.create", article, None, now)
    if status == ArticleStatus.PUBLISHED:
        record_article_event(session, EventType.ARTICLE_PUBLISHED, article, settings)
    return Change(article)


def get_article(session: Session, article_id: int, *, for_update: bool = False) -> Article:
    """The article with this id, row-locked (SELECT … FOR UPDATE) when ``for_update``; NotFound if there is none."""
    query = select(Article).where(Article.id == article_id)
    if for_update:
        query = query.with_for_update()
    article = session.scalars(query).one_or_none()
    if article is None:
        raise NotFound(f"article {article_id} does not exist")
    return article


def list_articles(
    session: Session,
    *,
    status: ArticleStatus | None = None,
    category_slug: str | None = None,
    limit: int = 50,
    offset: int = 0,
    search: str | None = None,
) -> tuple[list[Article], int]:
    """A page of articles, newest first, and the total.

    ``search``: every word must appear in the title, summary or author, ignoring case and
    diacritics ("dang nam" finds "Đảng … năm").
    """
    query = select(Article)
    for word in search_key(search or "").split():
        query = query.where(Article.search_text.contains(word, autoescape=True))
    if status is not None:
        query = query.where(Article.status == status.value)
    if category_slug is not None:
        query = query.where(Article.categories.any(Category.slug == category_slug))
    if search is None:
        # Exact, from the counts kept in step with every write (service/articles/derived.py).
        total = count_articles(session, status=status.value if status else None, category_slug=category_slug)
    else:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(func.coalesce(Article.published_at, Article.created_at).desc(), Article.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def _target_status(article: Article, changes: dict[str, Any], now: datetime) -> ArticleStatus | None:
    """The status an update asks for, or None when it leaves the status alone.

    ``status`` names it ("draft", or "published": scheduled when the resulting ``publish_at``
    is in the future); a ``publish_at`` alone re-derives it for a scheduled or published
    article, and is only the intended time of a draft or of an article in review.
    """
    requested = changes.get("status")
    if requested is None and "publish_at" not in changes:
        return None
    if requested is None:
        if article.status in (ArticleStatus.DRAFT, ArticleStatus.PENDING_REVIEW):
            return None
        requested = "published"
    publish_at = changes.get("publish_at", article.publish_at)
    return _status_for(requested, publish_at, now)


_ALT_FIELDS = frozenset({"body_html", "image_url", "image_alt"})


def update_article(
    session: Session,
    article_id: int,
    data: ArticleUpdate,
    now: datetime,
    settings: Settings,
    actor: Actor,
    restored_from_id: int | None = None,
) -> Change:
    """Change the fields ``data`` names; every call keeps a revision of the result.

    The editorial policy decides first (decision 0026): NotPermitted or WrongState (a
    Conflict: withdrawn, in review) refuse the change and nothing is written; a writer's
    change to a scheduled article sends it back to review, its time kept as intended.
    InvalidField ("image_alt"/"body_html") when the article would be published or scheduled,
    or stay so with changed content, with an image that lacks its words (decision 0034).
    Raises NotFound for an unknown id.
    """
    article = get_article(session, article_id, for_update=True)
    changes = data.changes()
    target = _target_status(article, changes, now)
    kinds = kinds_of_update(changes.keys(), target, restoring=restored_from_id is not None)
    outcome = require_allowed(session, actor, article, kinds)
    before = counted(article)
    audited = article_state(article)
    was_published = article.status == ArticleStatus.PUBLISHED
    old_scopes = [category_scope(c.slug) for c in article.categories]

    if "title" in changes:
        # The slug follows the title; the GUID never does, so readers see an update, not a new item.
        article.slug = slug_for(changes["title"])
    if "body_html" in changes:
        changes["body_html"] = resolve_references(changes["body_html"], article_url(article, settings.base_url))
    if "categories" in changes:
        article.categories = _categories_by_name(session, changes.pop("categories"), now, actor, settings)
    changes.pop("status", None)
    for name, value in changes.items():
        setattr(article, name, value)

    if target is not None:
        if target == ArticleStatus.PUBLISHED and not was_published:
            article.published_at = article.publish_at if article.publish_at and article.publish_at <= now else now
        if target != ArticleStatus.PUBLISHED:
            article.published_at = None
        if target == ArticleStatus.DRAFT and was_published and "publish_at" not in changes:
            # The time it went out is history, not a time it is meant for: a draft's
            # publish_at is what approving it later would schedule it at (decision 0026).
            article.publish_at = None
        article.status = target.value
    if article.status in GOING_OUT and (target is not None or _ALT_FIELDS & changes.keys()):
        # Raised before anything is flushed: the shell's rollback leaves the row as it was.
        require_alt_text(article.body_html, article.image_url, article.image_alt)
    if outcome == Outcome.BACK_TO_REVIEW:
        _send_back_to_review(session, article, actor, now, settings)
    article.updated_at = now
    article.updated_by = actor.label
    keep_in_step(session, article, before)
    record_revision(session, article, actor.label, now, restored_from_id)
    audit_article(session, update_action(audited, article, restored_from_id is not None), article, audited, now)

    is_published = article.status == ArticleStatus.PUBLISHED
    event_type = None
    if is_published and was_published:
        event_type = EventType.ARTICLE_UPDATED
    elif is_published:
        event_type = EventType.ARTICLE_PUBLISHED
    elif was_published:
        event_type = EventType.ARTICLE_WITHDRAWN
    if event_type is not None:
        record_article_event(session, event_type, article, settings, old_scopes)
    return Change(article)


def _send_back_to_review(session: Session, article: Article, actor: Actor, now: datetime, settings: Settings) -> None:
    """Unscheduled and waiting for an editor again, as if ``actor`` had submitted it (at the
    workflow's first stage, whose holders are told); its ``publish_at`` stays, as the time it
    is meant for, for the editor to approve it at."""
    article.status = ArticleStatus.PENDING_REVIEW.value
    article.published_at = None
    review = ArticleReview(
        article_id=article.id, status=ReviewStatus.IN_REVIEW.value, requested_by=actor.label, requested_at=now, stage=0
    )
    session.add(review)
    session.flush()
    review_requested(session, article, review, stage_at(session, 0)[0], now, settings)


def withdraw_article(
    session: Session, article_id: int, now: datetime, settings: Settings, actor: Actor, reason: str | None = None
) -> Change:
    """Take an article out of every feed; withdrawing twice changes nothing the second time.

    ``reason`` is what its 410 page tells readers (decision 0043): NFC, trimmed, at most
    MAX_REASON_CHARS (InvalidField "reason" "too_long" otherwise, nothing written); empty is
    none. NotPermitted unless the actor may publish (decision 0026)."""
    reason = clean_text(reason or "") or None
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        raise InvalidField("reason", "too_long", length=len(reason), limit=MAX_REASON_CHARS)
    article = get_article(session, article_id, for_update=True)
    require_allowed(session, actor, article, {ChangeKind.WITHDRAW})
    change = Change(article)
    if article.status == ArticleStatus.WITHDRAWN:
        return change
    was_published = article.status == ArticleStatus.PUBLISHED
    before = counted(article)
    audited = article_state(article)
    article.status = ArticleStatus.WITHDRAWN.value
    article.withdrawn_at = now
    article.withdrawal_reason = reason
    article.updated_at = now
    article.updated_by = actor.label
    keep_in_step(session, article, before)
    audit_article(session, "article.withdraw", article, audited, now, noted={"reason": reason} if reason else None)
    if was_published:
        record_article_event(session, EventType.ARTICLE_WITHDRAWN, article, settings)
    return change


def publish_due_articles(session: Session, now: datetime, settings: Settings, limit: int = 500) -> list[int]:
    """Publish scheduled articles whose time has come; returns the ids of those published.

    The conditional UPDATE is the exactly-once guard: of two beats (or a beat and a
    PATCH) racing for one article, only the one whose UPDATE matched writes the event.
    """
    due = session.scalars(
        select(Article.id)
        .where(Article.status == ArticleStatus.SCHEDULED, Article.publish_at <= now)
        .order_by(Article.publish_at)
        .limit(limit)
    ).all()
    published: list[int] = []
    for article_id in due:
        result = session.execute(
            update(Article)
            .where(Article.id == article_id, Article.status == ArticleStatus.SCHEDULED)
            .values(status=ArticleStatus.PUBLISHED.value, published_at=Article.publish_at, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            article = session.get(Article, article_id, populate_existing=True)
            assert article is not None
            # The conditional UPDATE matched only a scheduled row; its categories are unchanged.
            keep_in_step(session, article, replace(counted(article), status=ArticleStatus.SCHEDULED.value))
            record_article_event(session, EventType.ARTICLE_PUBLISHED, article, settings)
            published.append(article_id)
    return published
