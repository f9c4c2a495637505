"""The public page of an article: what feed items link to."""

from __future__ import annotations

import html

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from config.settings import get_settings
from service.articles.urls import article_url
from service.db.engine import session_scope
from service.db.models import Article, ArticleStatus
from service.feeds.scopes import SITE
from service.feeds.urls import feed_url

router = APIRouter(tags=["pages"])


@router.get("/articles/{article_id}/{slug}", response_class=HTMLResponse)
def article_page(article_id: int, slug: str) -> Response:
    with session_scope() as session:
        article = _published(session, article_id)
        if article.slug != slug:
            # Titles (and so slugs) change; old links keep working.
            return RedirectResponse(article_url(article, get_settings().base_url), status_code=301)
        return HTMLResponse(_page(article))


def _published(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None or article.status != ArticleStatus.PUBLISHED:
        raise HTTPException(404, "no such article")
    return article


def _page(article: Article) -> str:
    settings = get_settings()
    title = html.escape(article.title)
    published = (
        article.published_at.astimezone(settings.zone).strftime("%d/%m/%Y %H:%M") if article.published_at else ""
    )
    author = f"<p class=author>{html.escape(article.author)}</p>" if article.author else ""
    # body_html was sanitised with nh3 when stored.
    return (
        "<!doctype html><html lang=vi><head><meta charset=utf-8>"
        f'<title>{title}</title><link rel=canonical href="{html.escape(article_url(article, settings.base_url))}">'
        f'<link rel=alternate type=application/atom+xml href="{feed_url(settings.base_url, SITE, "atom")}">'
        f"</head><body><article><h1>{title}</h1><p><time>{published}</time></p>{author}"
        f"{article.body_html}</article></body></html>"
    )
