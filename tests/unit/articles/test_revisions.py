"""Revisions as the domain keeps them: append-only, ordered, diffed with escaping."""

from __future__ import annotations

from datetime import timedelta

from config.settings import get_settings
from service.articles.revisions import diff_revisions, diff_text, list_revisions, previous_revision, restore_update
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.articles.service import create_article, update_article
from service.db.engine import session_scope
from service.db.types import utcnow
from tests.actors import staff


def test_every_create_and_update_appends_a_snapshot_newest_first() -> None:
    start = utcnow()
    with session_scope() as session:
        article_id = create_article(
            session,
            ArticleCreate(title="Một", body_html="<p>a</p>", categories=["Thời sự"]),
            start,
            get_settings(),
            staff("user:a"),
        ).article.id
        update_article(
            session,
            article_id,
            ArticleUpdate(title="Hai"),
            start + timedelta(seconds=1),
            get_settings(),
            staff("user:b"),
        )
        update_article(
            session,
            article_id,
            ArticleUpdate(summary="Tóm tắt"),
            start + timedelta(seconds=1),
            get_settings(),
            staff("user:c"),
        )
    with session_scope() as session:
        newest, middle, oldest = list_revisions(session, article_id)
        assert [r.title for r in (newest, middle, oldest)] == ["Hai", "Hai", "Một"]
        assert [r.author for r in (newest, middle, oldest)] == ["user:c", "user:b", "user:a"]
        assert oldest.content["categories"] == ["Thời sự"] and newest.content["summary"] == "Tóm tắt"
        # Same instant: the id breaks the tie.
        assert previous_revision(session, newest) == middle and previous_revision(session, oldest) is None
        assert [d.field for d in diff_revisions(middle, newest)] == ["summary"]
        assert restore_update(oldest).changes()["title"] == "Một"


def test_diff_escapes_every_token() -> None:
    html = str(diff_text("<script>x</script> a", "<img src=x onerror=alert(1)> a"))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html
    assert html.endswith(" a")
