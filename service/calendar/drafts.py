"""An article drafted from an occurrence of a key date ("Soạn bài" in the console, and the API).

The draft carries the occurrence's official heading as its title and first paragraph,
the existing categories its key date's tags name as its categories, and, as its intended
``publish_at``, the morning of the anniversary (``BANTIN_CALENDAR_DRAFT_TIME`` in ``BANTIN_TIMEZONE``). A draft can
hold a ``publish_at`` without being scheduled: the editor shows it in the "Hẹn giờ đăng"
field, and publishing stays a person's decision.

One draft per occurrence (``occurrence_drafts``): asking again returns the draft that
exists, so a double click or two editors at once never make two articles for the same
anniversary; only a withdrawn one is replaced by a fresh draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.articles.editorial import Actor
from service.articles.schemas import MAX_CATEGORIES, MAX_CATEGORY_NAME, ArticleCreate
from service.articles.service import create_article
from service.calendar import lunar
from service.calendar.occurrences import Occurrence, occurrences_between
from service.calendar.service import get_key_date
from service.calendar.text import official_heading
from service.db.locks import transaction_lock
from service.db.models import Article, ArticleStatus, Category, KeyDate, OccurrenceDraft
from service.errors import InvalidField
from service.text import slugify_vi


@dataclass(frozen=True)
class DraftedArticle:
    """The occurrence's draft; ``created`` is False when it existed already (nothing was written)."""

    article: Article
    created: bool


def occurrence_on(key_date: KeyDate, on: date) -> Occurrence:
    """The key date's occurrence on solar date ``on``.

    Raises InvalidField("date") when the key date is not marked that day (another day, or
    a year at or before its origin year), naming the nearest day it is marked on, and
    for a year outside 1901–2099 (the lunar calendar's years, as ``service.inputs.Year``).
    """
    if on.year not in lunar.SUPPORTED_YEARS:
        first, last = lunar.SUPPORTED_YEARS.start, lunar.SUPPORTED_YEARS.stop - 1
        raise InvalidField("date", "year_range", first=first, last=last)
    found = occurrences_between(key_date, on, on)
    if found:
        return found[0]
    near = occurrences_between(key_date, on - timedelta(days=400), on + timedelta(days=400))
    nearest = min(near, key=lambda o: abs((o.date - on).days), default=None)
    hint = f"; the nearest day it falls on is {nearest.date.isoformat()}" if nearest else ""
    raise InvalidField("date", "not_on_date", key_date=key_date.id, date=on.isoformat(), hint=hint)


def morning_of(on: date, settings: Settings) -> datetime:
    """``BANTIN_CALENDAR_DRAFT_TIME`` on ``on``, in ``BANTIN_TIMEZONE`` (an aware datetime)."""
    hour, minute = (int(part) for part in settings.calendar_draft_time.split(":"))
    return datetime.combine(on, time(hour, minute), tzinfo=settings.zone)


def draft_categories(session: Session, key_date: KeyDate) -> list[str]:
    """The existing categories the key date's tags name, in the tags' order, at most MAX_CATEGORIES.

    A tag names a category when both make the same slug: the same words ignoring case,
    diacritics and punctuation ("đảng" is "Đảng"), never a category that merely contains
    it ("Đảng" is not "Xây dựng Đảng"). A tag no category has makes none (issue 20 §4): the
    desk's list of categories is chosen by people, not grown from the calendar's tags; an
    odd tag never keeps the draft from being made.
    """
    slugs = [slugify_vi(tag) for tag in key_date.tags if len(tag) <= MAX_CATEGORY_NAME]
    wanted = [slug for slug in dict.fromkeys(slugs) if slug]
    if not wanted:
        return []
    names = dict(session.execute(select(Category.slug, Category.name).where(Category.slug.in_(wanted))).tuples().all())
    return [names[slug] for slug in wanted if slug in names][:MAX_CATEGORIES]


def draft_title(heading: str, settings: Settings) -> str:
    """The heading, cut to BANTIN_TITLE_MAX_CHARS with an ellipsis when a long name makes it longer."""
    limit = settings.title_max_chars
    return heading if len(heading) <= limit else heading[: limit - 1].rstrip() + "…"


def draft_from_occurrence(
    session: Session, key_date_id: str, on: date, now: datetime, settings: Settings, actor: Actor
) -> DraftedArticle:
    """The draft article for the key date's occurrence on ``on``: the existing one, or a new one.

    A new draft is made with ``create_article`` (the editorial policy, a revision, created_by
    = ``actor.label``; a draft writes no outbox event until it is published). Its ``publish_at`` is the morning of the
    anniversary, or None when that morning is already past at ``now`` (a past time would
    back-date the article if published). Raises NotFound for an unknown key date and
    InvalidField("date") when the key date does not fall on ``on``.
    """
    key_date = get_key_date(session, key_date_id)
    occurrence = occurrence_on(key_date, on)
    # Two clicks at once: the second waits here for the first one's commit, then finds its row.
    transaction_lock(session, f"occurrence-draft:{key_date.id}:{on.isoformat()}")
    link = session.get(OccurrenceDraft, (key_date.id, on))
    if link is not None:
        existing = session.get(Article, link.article_id)
        if existing is not None and existing.status != ArticleStatus.WITHDRAWN:
            return DraftedArticle(existing, created=False)
        session.delete(link)
        session.flush()
    heading = official_heading(key_date, occurrence.date, occurrence.anniversary, occurrence.flags)
    morning = morning_of(on, settings)
    data = ArticleCreate(
        title=draft_title(heading, settings),
        body_html=f"<p>{escape(heading)}</p>",
        categories=draft_categories(session, key_date),
        status="draft",
        publish_at=morning if morning > now else None,
    )
    article = create_article(session, data, now, settings, actor).article
    session.add(OccurrenceDraft(key_date_id=key_date.id, occurrence_date=on, article_id=article.id, created_at=now))
    session.flush()
    return DraftedArticle(article, created=True)


def drafts_of(session: Session, occurrences: list[Occurrence]) -> dict[tuple[str, date], int]:
    """Article ids of the drafts already made for these occurrences, by (key date id, date);
    withdrawn ones left out (drafting again replaces them)."""
    if not occurrences:
        return {}
    key_date_ids = {o.key_date_id for o in occurrences}
    dates = [o.date for o in occurrences]
    rows = session.execute(
        select(OccurrenceDraft.key_date_id, OccurrenceDraft.occurrence_date, OccurrenceDraft.article_id)
        .join(Article, Article.id == OccurrenceDraft.article_id)
        .where(
            OccurrenceDraft.key_date_id.in_(key_date_ids),
            OccurrenceDraft.occurrence_date >= min(dates),
            OccurrenceDraft.occurrence_date <= max(dates),
            Article.status != ArticleStatus.WITHDRAWN,
        )
    )
    return {(kd, day): article_id for kd, day, article_id in rows}
