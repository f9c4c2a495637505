"""What a digest's delivery carries: its period and its articles, read when the batch starts.

The article ids were fixed when the digest was planned, so a retry sends the same mail;
an article withdrawn since is left out. A batch of hundreds of digests (of one period or
several) reads its digest rows in one statement and each article once, in a second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.announcements.kinds import Claim, Content
from service.articles.urls import article_url_for
from service.db.models import Article, ArticleStatus, Digest
from service.db.statements import among
from service.web.templating import absolute_url


def load_digests(session: Session, claims: Sequence[Claim], settings: Settings) -> dict[str, Content]:
    """The digest kind's loader: each claimed digest's payload (``digest_payloads``)."""
    payloads = digest_payloads(session, {claim.delivery_id: claim.payload for claim in claims}, settings.base_url)
    return {delivery_id: Content(payload) for delivery_id, payload in payloads.items()}


def digest_payloads(
    session: Session, announcement_payloads: Mapping[str, Mapping[str, Any]], base_url: str
) -> dict[str, dict[str, Any]]:
    """Per delivery id (given with its announcement's payload): that payload with
    ``covers_from`` (ISO 8601) and ``articles`` (newest first; each ``id``, ``title``,
    ``summary``, ``url``, ``image_url``, ``published_at``). A delivery without a digest row
    is absent."""
    digests = session.execute(
        select(Digest.delivery_id, Digest.article_ids, Digest.covers_from).where(
            among(session, Digest.delivery_id, list(announcement_payloads))
        )
    ).all()
    wanted = {article_id for row in digests for article_id in row.article_ids}
    articles: dict[int, dict[str, Any]] = {}
    if wanted:
        for row in session.execute(
            select(
                Article.id, Article.slug, Article.title, Article.summary, Article.image_url, Article.published_at
            ).where(among(session, Article.id, wanted), Article.status == ArticleStatus.PUBLISHED)
        ):
            articles[row.id] = {
                "id": row.id,
                "title": row.title,
                "summary": row.summary,
                "url": article_url_for(base_url, row.id, row.slug),
                "image_url": absolute_url(row.image_url, base_url) if row.image_url else None,
                "published_at": row.published_at.isoformat() if row.published_at else None,
            }
    return {
        str(row.delivery_id): {
            **announcement_payloads[str(row.delivery_id)],
            "covers_from": row.covers_from.isoformat(),
            "articles": [articles[i] for i in row.article_ids if i in articles],
        }
        for row in digests
    }
