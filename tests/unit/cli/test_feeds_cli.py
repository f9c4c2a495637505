"""``bantin feeds render``: every stored feed rendered again now, as after an upgrade that
changes what a feed holds (the stylesheets a browser shows it with)."""

from __future__ import annotations

from sqlalchemy import select, update
from typer.testing import CliRunner

from config.settings import get_settings
from service.articles.editorial import OPERATOR
from service.articles.schemas import ArticleCreate
from service.articles.service import create_article
from service.cli.main import app
from service.db.engine import session_scope
from service.db.models import FeedDocument
from service.db.types import utcnow
from service.feeds.documents import etag_for
from service.feeds.publish import render_scope
from service.feeds.scopes import SITE, category_scope


def stored() -> dict[tuple[str, str], bytes]:
    with session_scope() as session:
        return {(d.scope, d.format): d.body for d in session.scalars(select(FeedDocument))}


def test_every_stored_feed_is_rendered_again_and_unchanged_ones_keep_their_bytes() -> None:
    with session_scope() as session:
        data = ArticleCreate(title="Tin Đà Nẵng", body_html="<p>x</p>", categories=["Thời sự"])
        create_article(session, data, utcnow(), get_settings(), OPERATOR)
    for scope in (SITE, category_scope("thoi-su")):
        with session_scope() as session:
            render_scope(session, scope, utcnow(), get_settings())
    # As stored by a release before the stylesheets: the same feeds without them.
    with session_scope() as session:
        for doc in session.scalars(select(FeedDocument)):
            old = doc.body.replace(b'<?xml-stylesheet type="text/xsl" href="/static/feed.xsl"?>\n', b"")
            session.execute(
                update(FeedDocument)
                .where(FeedDocument.scope == doc.scope, FeedDocument.format == doc.format)
                .values(body=old, etag=etag_for(old))
            )
    result = CliRunner().invoke(app, ["feeds", "render"])
    assert result.exit_code == 0, result.output
    assert "2 feed scopes rendered, 2 changed" in result.output
    bodies = stored()
    for scope in (SITE, "category:thoi-su"):
        for fmt in ("rss", "atom"):
            assert b'href="/static/feed.xsl"' in bodies[(scope, fmt)], (scope, fmt)
    again = CliRunner().invoke(app, ["feeds", "render"])
    assert "2 feed scopes rendered, 0 changed" in again.output
    assert stored() == bodies
