"""An article's rows in the audit log (issue 22 §3): every domain function that changes an
article calls :func:`audit_article` once, with the state it read before the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.articles.revisions import snapshot
from service.audit.log import plain, record
from service.db.models import Article, ArticleStatus


def article_state(article: Article) -> dict[str, Any]:
    """What the audit log compares: the revisable content, the categories, the status and the planned time."""
    state: dict[str, Any] = plain({**snapshot(article), "status": article.status, "publish_at": article.publish_at})
    return state


def update_action(before: dict[str, Any], article: Article, restored: bool) -> str:
    """The action code of an update, by where it took the article: a restore, a publish,
    a schedule, an unpublish, or else an edit."""
    if restored:
        return "article.restore"
    if article.status != before["status"]:
        return {
            ArticleStatus.PUBLISHED: "article.publish",
            ArticleStatus.SCHEDULED: "article.schedule",
            ArticleStatus.PENDING_REVIEW: "article.submit",
        }.get(
            ArticleStatus(article.status), "article.unpublish" if before["status"] == "published" else "article.update"
        )
    return "article.update"


def audit_article(
    session: Session,
    action: str,
    article: Article,
    before: dict[str, Any] | None,
    now: datetime,
    noted: dict[str, Any] | None = None,
) -> None:
    """The audit row of ``action`` on ``article``: the fields that differ from ``before``
    (None: created), and ``noted`` values of the action itself (a return's comment)."""
    record(session, action, "article", article.id, before, {**article_state(article), **(noted or {})}, now)
