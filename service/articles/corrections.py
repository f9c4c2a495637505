"""Corrections ("cải chính", Luật Báo chí 2016, Art. 42) and withdrawal reasons (decision 0043).

An editor (or an admin, or a token with the ``publish`` scope) publishes a correction of a
published article: what was wrong, what is right, and whether the desk apologises ("xin
lỗi"). The correction is its own append-only row; the article's text is not rewritten by
it, and the revision the correction is about is named (``revision_id``), so the original
stays in the revision history. In the same transaction: the article's ``updated_at`` moves
(feeds show the item as updated, with the notice), the site's generation moves (the page
shows the notice, ``/cai-chinh`` lists it), an audit row ``article.correct`` and an
``article.corrected`` event whose announcement goes to exactly those who received the
article's publication (``service/articles/announcements.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.articles.audit import article_state, audit_article
from service.articles.derived import counted, keep_in_step
from service.articles.editorial import Actor, NotPermitted, Rule, WrongState
from service.articles.revisions import latest_revision_id
from service.articles.service import get_article
from service.db.models import ArticleCorrection, ArticleStatus, EventType
from service.errors import InvalidField, invalid
from service.events.outbox import record_article_event
from service.feeds.scopes import CORRECTIONS
from service.i18n import N_
from service.text import clean_text

# What was wrong and what is right: a few sentences each, as a printed correction runs.
MAX_CORRECTION_CHARS = 2000
# An apology, when the desk owes one (Luật Báo chí 2016, Art. 42: "cải chính, xin lỗi").
APOLOGY = N_("Tòa soạn xin lỗi bạn đọc và những người liên quan về sai sót này.")


def _required_text(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        value = clean_text(value)
        if not value:
            raise invalid("empty")
        if len(value) > limit:
            raise invalid("too_long", length=len(value), limit=limit)
        return value

    return AfterValidator(check)


CorrectionText = Annotated[str, _required_text(MAX_CORRECTION_CHARS)]


class CorrectionIn(BaseModel):
    """A correction as staff send it: ``wrong`` and ``right`` (plain text, NFC, 1–2000
    characters each, line breaks kept), ``apology`` (the desk apologises: "xin lỗi")."""

    model_config = ConfigDict(extra="forbid")

    # A field left out is refused by the domain once the article is found (so an unknown id
    # is a 404 first), as InvalidField(<field>, "empty"); a field sent is checked here.
    wrong: CorrectionText = Field("", description="What the article got wrong (plain text, required).")
    right: CorrectionText = Field("", description="What is right (plain text, required).")
    apology: bool = Field(False, description="Whether the desk apologises to readers (xin lỗi).")


@dataclass(frozen=True, slots=True)
class Correction:
    """A published correction as pages, feeds and messages show it."""

    id: int
    article_id: int
    wrong: str
    right: str
    apology: bool
    published_at: datetime

    @classmethod
    def of(cls, row: ArticleCorrection) -> Correction:
        """The frozen value of a stored row."""
        return cls(row.id, row.article_id, row.wrong_text, row.right_text, row.apology, row.published_at)

    def as_payload(self) -> dict[str, object]:
        """What an ``article.corrected`` announcement carries (times in ISO 8601, UTC)."""
        return {
            "id": self.id,
            "wrong": self.wrong,
            "right": self.right,
            "apology": self.apology,
            "published_at": self.published_at.isoformat(),
        }


def publish_correction(
    session: Session, article_id: int, data: CorrectionIn, now: datetime, settings: Settings, actor: Actor
) -> ArticleCorrection:
    """Publish a correction of ``article_id``; the caller commits.

    NotPermitted (CORRECTING_NEEDS_EDITOR) unless the actor reviews (editor, admin, a
    ``publish`` token); NotFound for an unknown id; WrongState (ONLY_PUBLISHED_CORRECTED)
    unless the article is published; InvalidField(<field>, "empty") for a field left out.
    Nothing is written when it refuses.
    """
    if not actor.reviews:
        raise NotPermitted(Rule.CORRECTING_NEEDS_EDITOR)
    article = get_article(session, article_id, for_update=True)
    if article.status != ArticleStatus.PUBLISHED:
        raise WrongState(Rule.ONLY_PUBLISHED_CORRECTED)
    for name in ("wrong", "right"):
        if not getattr(data, name):
            raise InvalidField(name, "empty")
    before = counted(article)
    audited = article_state(article)
    row = ArticleCorrection(
        article_id=article.id,
        wrong_text=data.wrong,
        right_text=data.right,
        apology=data.apology,
        published_at=now,
        published_by=actor.label,
        revision_id=latest_revision_id(session, article.id),
    )
    session.add(row)
    article.updated_at = now
    article.updated_by = actor.label
    session.flush()
    keep_in_step(session, article, before)
    audit_article(
        session, "article.correct", article, audited, now, noted={"correction": Correction.of(row).as_payload()}
    )
    event = record_article_event(session, EventType.ARTICLE_CORRECTED, article, settings, [CORRECTIONS])
    event.payload = {**event.payload, "correction_id": row.id}
    return row


def corrections_of(session: Session, article_id: int) -> list[Correction]:
    """An article's corrections, newest first."""
    return [Correction.of(row) for row in stored_corrections(session, article_id)]


def stored_corrections(session: Session, article_id: int) -> list[ArticleCorrection]:
    """An article's stored correction rows, newest first."""
    return list(
        session.scalars(
            select(ArticleCorrection)
            .where(ArticleCorrection.article_id == article_id)
            .order_by(ArticleCorrection.published_at.desc(), ArticleCorrection.id.desc())
        )
    )
