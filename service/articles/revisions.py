"""Article revisions: one immutable snapshot per save, a readable diff, and restore.

Restoring never rewrites history: it saves the old content again through
``update_article`` (so the outbox and the sanitiser apply as to any edit), which
writes a new revision that names the one it came from.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.articles.schemas import ArticleUpdate
from service.db.models import Article, ArticleRevision
from service.errors import NotFound
from service.text import plain_text_from_html

SNAPSHOT_FIELDS = ("title", "summary", "body_html", "author", "image_url", "source_name", "source_url")
_TOKENS = re.compile(r"\s+|[^\s]+")


def snapshot(article: Article) -> dict[str, Any]:
    """The article's revisable content as JSON-ready data: SNAPSHOT_FIELDS plus the category names."""
    content: dict[str, Any] = {name: getattr(article, name) for name in SNAPSHOT_FIELDS}
    content["categories"] = [c.name for c in article.categories]
    return content


def record_revision(
    session: Session, article: Article, actor: str | None, now: datetime, restored_from_id: int | None = None
) -> ArticleRevision:
    """Append the article's current content as a revision (call after the change is flushed)."""
    revision = ArticleRevision(
        article_id=article.id,
        created_at=now,
        author=actor,
        title=article.title,
        content=snapshot(article),
        restored_from_id=restored_from_id,
    )
    session.add(revision)
    session.flush()
    return revision


def list_revisions(session: Session, article_id: int) -> list[ArticleRevision]:
    """Newest first, ordered by (created_at, id) so that two saves in one instant keep their order."""
    return list(
        session.scalars(
            select(ArticleRevision)
            .where(ArticleRevision.article_id == article_id)
            .order_by(ArticleRevision.created_at.desc(), ArticleRevision.id.desc())
        )
    )


def latest_revision_id(session: Session, article_id: int) -> int | None:
    """The id of the article's newest revision, or None; the editor compares it to catch a save made since it loaded."""
    revisions = list_revisions(session, article_id)
    return revisions[0].id if revisions else None


def get_revision(session: Session, article_id: int, revision_id: int) -> ArticleRevision:
    """Revision ``revision_id`` of article ``article_id``; NotFound if it does not exist or is another article's."""
    revision = session.get(ArticleRevision, revision_id)
    if revision is None or revision.article_id != article_id:
        raise NotFound(f"article {article_id} has no revision {revision_id}")
    return revision


def previous_revision(session: Session, revision: ArticleRevision) -> ArticleRevision | None:
    """The revision saved just before ``revision`` (by created_at, then id), or None for the first one."""
    for candidate in list_revisions(session, revision.article_id):
        if (candidate.created_at, candidate.id) < (revision.created_at, revision.id):
            return candidate
    return None


def restore_update(revision: ArticleRevision) -> ArticleUpdate:
    """The update that puts a revision's content back (status and schedule stay as they are)."""
    content = revision.content
    return ArticleUpdate.model_validate({name: content.get(name) for name in (*SNAPSHOT_FIELDS, "categories")})


@dataclass(frozen=True)
class FieldDiff:
    field: str
    html: Markup  # escaped tokens in <ins>/<del>; the only markup in it is ours


def diff_text(old: str, new: str) -> Markup:
    """Word-level diff; every token is escaped before it is wrapped, so article text stays inert."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(str(escape("".join(a[i1:i2]))))
            continue
        if i2 > i1:
            parts.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            parts.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return Markup("".join(parts))  # noqa: S704 - built from escaped tokens only


def _comparable(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "categories":
        return ", ".join(value)
    if name == "body_html":
        # Text, then the link targets and images: a changed href is a change a reader sees.
        targets = re.findall(r'(?:href|src)="([^"]*)"', value)
        return plain_text_from_html(value) + ("".join(f"\n→ {t}" for t in targets) if targets else "")
    return str(value)


def diff_revisions(old: ArticleRevision | None, new: ArticleRevision) -> list[FieldDiff]:
    """The fields that differ between two revisions (all fields of ``new`` when there is no ``old``)."""
    diffs = []
    for name in ("title", "summary", "categories", "author", "source_name", "source_url", "image_url", "body_html"):
        before = _comparable(name, old.content.get(name)) if old else ""
        after = _comparable(name, new.content.get(name))
        if before != after:
            diffs.append(FieldDiff(name, diff_text(before, after)))
    return diffs
