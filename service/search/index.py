"""The search index: one entry per published article, kept in step in the article's own
transaction (``service.articles.derived.keep_in_step``, decision 19), holding the keys of
``service.search.words`` for its title, its summary and its body (with the cover's
caption and the author).

Two shapes of the same keys, one per database (decision 33):

- PostgreSQL: a table ``article_search`` with three tsvectors of keys (no positions, no
  weights): ``title``, ``heading`` (the title's and the summary's) and ``document`` (every
  key of the article), each under a GIN index with statistics of its own, and a copy of
  ``published_at`` with its own index, so that a common word is answered by walking the
  newest entries and a rare one from a GIN index (the planner picks per query). The small
  ``title`` and ``heading`` vectors stay in the row: checking them never fetches the
  body's keys, which TOAST keeps out of the row.
- SQLite: an FTS5 table ``article_search(title, summary, body)``, rowid = the article's
  id, tokenized by ``unicode61`` with diacritics kept: it only splits what we joined
  with spaces. A trigger deletes an article's entry with the article (PostgreSQL has the
  foreign key's cascade).

Neither is a model in ``Base.metadata`` (FTS5 has no place there): the migration creates
them, and :func:`owned_by_search` names them for the schema comparisons.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Text, bindparam, cast, column, delete, func, select, table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.db.models import Article, ArticleStatus
from service.db.types import UTCDateTime
from service.search.words import index_keys
from service.text import text_of_html

TABLE = "article_search"
# What a reindex reads and writes at a time.
CHUNK = 1000

# PostgreSQL's shape (service/db/migrations/versions/0019_article_search.py creates it).
VECTORS = ("title", "heading", "document")
pg_entries = table(
    TABLE,
    column("article_id", BigInteger),
    column("published_at", UTCDateTime),
    *(column(name, postgresql.TSVECTOR) for name in VECTORS),
)
# SQLite's FTS5 table; its rowid is the article's id.
fts_entries = table(
    TABLE, column("rowid", BigInteger), column("title", Text), column("summary", Text), column("body", Text)
)


def owned_by_search(name: str) -> bool:
    """True for the tables the search index is made of (and FTS5's shadow tables
    ``article_search_data`` …): the schema comparisons leave them to the search tests."""
    return name == TABLE or name.startswith(TABLE + "_")


@dataclass(frozen=True, slots=True)
class Entry:
    """One article's keys, field by field: what both databases store."""

    article_id: int
    published_at: datetime
    title: tuple[str, ...]
    summary: tuple[str, ...]
    body: tuple[str, ...]


def entry_of(
    article_id: int,
    published_at: datetime,
    title: str,
    summary: str | None,
    body_html: str,
    extra: Iterable[str | None],
) -> Entry:
    """The entry of one article; ``extra``: more text searched like the body (caption, author)."""
    body = " ".join([text_of_html(body_html), *(part for part in extra if part)])
    return Entry(
        article_id,
        published_at,
        tuple(index_keys(title)),
        tuple(index_keys(summary or "")),
        tuple(index_keys(body)),
    )


def _lexeme(key: str) -> str:
    # tsvector input syntax: a quoted lexeme, quotes doubled, backslashes escaped. Keys are
    # letters and digits only; the quoting is there so that no key could ever be syntax.
    return "'" + key.replace("\\", "\\\\").replace("'", "''") + "'"


def vector(keys: Iterable[str]) -> str:
    """A tsvector literal of ``keys``, each once, without positions: ``'dang' 'le' 'đang3'``."""
    return " ".join(_lexeme(key) for key in sorted(set(keys)))


def _pg_values(entries: Sequence[Entry]) -> list[dict[str, Any]]:
    return [
        {
            "article_id": e.article_id,
            "published_at": e.published_at,
            "title": vector(e.title),
            "heading": vector((*e.title, *e.summary)),
            "document": vector((*e.title, *e.summary, *e.body)),
        }
        for e in entries
    ]


def _pg_upsert() -> Any:
    vectors: dict[str, ColumnElement[Any]] = {
        name: cast(bindparam(name, type_=Text), postgresql.TSVECTOR) for name in VECTORS
    }
    statement = postgresql.insert(pg_entries).values(
        article_id=bindparam("article_id"), published_at=bindparam("published_at"), **vectors
    )
    return statement.on_conflict_do_update(
        index_elements=["article_id"],
        set_={name: statement.excluded[name] for name in ("published_at", *VECTORS)},
    )


def store(session: Session, entries: Sequence[Entry]) -> None:
    """Write ``entries`` (of published articles), replacing what the index held for them."""
    if not entries:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_pg_upsert(), _pg_values(entries))
        return
    # FTS5 has no upsert: the old entry goes, the new one comes, in the same transaction.
    session.execute(delete(fts_entries).where(fts_entries.c.rowid.in_([e.article_id for e in entries])))
    session.execute(
        fts_entries.insert(),
        [
            {
                "rowid": e.article_id,
                "title": " ".join(e.title),
                "summary": " ".join(e.summary),
                "body": " ".join(e.body),
            }
            for e in entries
        ],
    )


def forget(session: Session, article_id: int) -> None:
    """Remove the article's entry, if it has one (it is no longer published)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(delete(pg_entries).where(pg_entries.c.article_id == article_id))
    else:
        session.execute(delete(fts_entries).where(fts_entries.c.rowid == article_id))


def keep_entry(session: Session, article: Article, was_published: bool) -> None:
    """Bring the article's entry in step after a change: stored while it is published,
    gone otherwise; nothing to do for an article that was not published and is not now."""
    if article.status == ArticleStatus.PUBLISHED and article.published_at is not None:
        extra = (article.image_caption, article.author)
        entry = entry_of(article.id, article.published_at, article.title, article.summary, article.body_html, extra)
        store(session, [entry])
    elif was_published:
        forget(session, article.id)


def rebuild(session: Session) -> int:
    """Make the index again from the published articles (a bulk load that went around the
    domain functions, a change of what a key is); returns how many entries it holds.

    Reads and writes CHUNK articles at a time, in id order. Like ``recount``, meant for a
    quiet moment: an article written meanwhile may keep the entry this run read before.
    """
    postgresql_ = session.get_bind().dialect.name == "postgresql"
    session.execute(delete(pg_entries if postgresql_ else fts_entries))
    columns = (
        Article.id,
        Article.published_at,
        Article.title,
        Article.summary,
        Article.body_html,
        Article.image_caption,
        Article.author,
    )
    last, stored = 0, 0
    while True:
        rows = session.execute(
            select(*columns)
            .where(
                Article.status == ArticleStatus.PUBLISHED.value, Article.published_at.is_not(None), Article.id > last
            )
            .order_by(Article.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            break
        store(
            session,
            [
                entry_of(r.id, r.published_at, r.title, r.summary, r.body_html, (r.image_caption, r.author))
                for r in rows
            ],
        )
        last, stored = rows[-1].id, stored + len(rows)
    if postgresql_:
        # Into the GIN indexes proper now rather than at the next vacuum (queries read the
        # pending list whole); then the statistics the planner picks each plan by.
        for name in VECTORS:
            session.execute(select(func.gin_clean_pending_list(text(f"'ix_{TABLE}_{name}'::regclass"))))
        session.execute(text(f"ANALYZE {TABLE}"))
    return stored


def entry_count(session: Session) -> int:
    """How many entries the index holds (tests and ``bantin db recount``'s report)."""
    target = pg_entries if session.get_bind().dialect.name == "postgresql" else fts_entries
    return int(session.scalar(select(func.count()).select_from(target)) or 0)
