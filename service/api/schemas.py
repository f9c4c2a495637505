"""Response bodies of the staff API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from config.settings import get_settings
from service.articles.listing import ListedArticle
from service.articles.urls import article_url, article_url_for
from service.db.models import Article, ArticleCorrection


class CategoryOut(BaseModel):
    name: str
    slug: str


class ArticleOut(BaseModel):
    id: int
    guid: str
    url: str
    slug: str
    title: str
    summary: str | None
    body_html: str
    categories: list[CategoryOut]
    author: str | None
    image_url: str | None
    image_caption: str | None
    # The cover's text alternative: required (with every body <img>'s alt) to publish or schedule.
    image_alt: str | None
    source_name: str | None
    source_url: str | None
    status: str
    publish_at: datetime | None
    published_at: datetime | None
    withdrawn_at: datetime | None
    # What its 410 page tells readers (decision 0043).
    withdrawal_reason: str | None = None
    created_at: datetime
    updated_at: datetime
    # "user:<username>" or "token:<id>"; null for articles made before this was recorded.
    created_by: str | None
    updated_by: str | None

    @classmethod
    def of(cls, article: Article) -> ArticleOut:
        """The API view of an article, its ``url`` built from ``BANTIN_BASE_URL``."""
        return cls(
            id=article.id,
            guid=article.guid,
            url=article_url(article, get_settings().base_url),
            slug=article.slug,
            title=article.title,
            summary=article.summary,
            body_html=article.body_html,
            categories=[CategoryOut(name=c.name, slug=c.slug) for c in article.categories],
            author=article.author,
            image_url=article.image_url,
            image_caption=article.image_caption,
            image_alt=article.image_alt,
            source_name=article.source_name,
            source_url=article.source_url,
            status=article.status,
            publish_at=article.publish_at,
            published_at=article.published_at,
            withdrawn_at=article.withdrawn_at,
            withdrawal_reason=article.withdrawal_reason,
            created_at=article.created_at,
            updated_at=article.updated_at,
            created_by=article.created_by,
            updated_by=article.updated_by,
        )


class ArticlePage(BaseModel):
    items: list[ArticleOut]
    total: int = Field(
        description="Exact number of articles matching the filters (all pages), from counts kept per status "
        "and category in each article's transaction"
    )
    limit: int
    offset: int

    @classmethod
    def of_listed(cls, page: list[ListedArticle], total: int, limit: int, offset: int, base_url: str) -> ArticlePage:
        """A page read as rows (service/articles/listing.py), each item as :meth:`ArticleOut.of` shows it.

        The rows' columns are named as ArticleOut's fields (the statement's other columns
        are ignored, as pydantic ignores unknown keys): the items are plain dicts, validated
        in one call (half the CPU of building twenty models one by one).
        """
        items = []
        for listed in page:
            item = listed.values._asdict()
            item["url"] = article_url_for(base_url, item["id"], item["slug"])
            item["categories"] = [{"name": c.name, "slug": c.slug} for c in listed.categories]
            items.append(item)
        return cls.model_validate({"items": items, "total": total, "limit": limit, "offset": offset})


class CorrectionOut(BaseModel):
    """A published correction (decision 0043): ``url`` is the notice on the article's page."""

    id: int
    article_id: int
    wrong: str
    right: str
    apology: bool
    published_at: datetime
    published_by: str | None
    url: str

    @classmethod
    def of(cls, row: ArticleCorrection, article: Article) -> CorrectionOut:
        """The API view of a stored correction of ``article``."""
        return cls(
            id=row.id,
            article_id=row.article_id,
            wrong=row.wrong_text,
            right=row.right_text,
            apology=row.apology,
            published_at=row.published_at,
            published_by=row.published_by,
            url=f"{article_url(article, get_settings().base_url)}#cai-chinh-{row.id}",
        )
