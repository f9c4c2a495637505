"""Two worker processes handling publishes of one scope at once never deadlock — one
stores the compressed variants of its render while the other renders the scope again
(decision 24). In-process, two threads on their own connections, on PostgreSQL and on a
SQLite file (decision 0027)."""

from __future__ import annotations

import threading
import uuid

import pytest

ROUNDS = 25
pytestmark = pytest.mark.usefixtures("each_database")


def publish_and_render(worker: int, failures: list[BaseException], start: threading.Barrier) -> None:
    from config.settings import get_settings
    from service.articles.editorial import OPERATOR
    from service.articles.schemas import ArticleCreate
    from service.articles.service import create_article
    from service.db.engine import session_scope
    from service.db.types import utcnow
    from service.feeds.publish import render_identity, store_scope_variants
    from service.feeds.scopes import SITE

    settings = get_settings()
    start.wait()
    try:
        for n in range(ROUNDS):
            # New content each round: every render changes the stored bytes.
            body = "".join(f"<p>Đoạn {k} của bài {worker}-{n}: {uuid.uuid4().hex * 8}</p>" for k in range(8))
            data = ArticleCreate(title=f"Bài {worker}-{n} về Đà Nẵng", body_html=body, categories=["Thời sự"])
            with session_scope() as session:
                create_article(session, data, utcnow(), settings, OPERATOR)
            with session_scope() as session:
                rendered = render_identity(session, SITE, utcnow(), settings)
            with session_scope() as session:
                store_scope_variants(session, SITE, rendered.uncompressed)
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        failures.append(exc)


def test_renders_and_variants_of_one_scope_at_once_never_deadlock() -> None:
    from service.db.engine import session_scope
    from service.feeds.documents import load_document
    from service.feeds.scopes import SITE

    failures: list[BaseException] = []
    start = threading.Barrier(2)
    workers = [threading.Thread(target=publish_and_render, args=(w, failures, start)) for w in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(120)
    assert failures == []
    with session_scope() as session:
        for fmt in ("rss", "atom", "json"):
            document = load_document(session, SITE, fmt)
            assert document is not None and document.body_gzip is not None and document.body_br is not None
