"""What goes into a page's <head>: title, description, canonical URL, feed discovery,
Open Graph, Twitter card and schema.org NewsArticle JSON-LD.

One small function per field with its fallback chain, as link previews (Zalo, Telegram,
Facebook) read only the head: the preview image is the cover, else the first image of
the body, else the site logo; every URL is absolute.
Sources: The Open Graph protocol (ogp.me), X/Twitter Cards markup, schema.org
NewsArticle with Google's Article structured-data guidelines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from service.articles.corrections import APOLOGY, Correction
from service.articles.urls import article_url_for
from service.feeds.corrections import FRAGMENT
from service.i18n import gettext, use_language
from service.site.pages import ArticleView, CategoryLink, Listing
from service.text import excerpt, shorten
from service.web.templating import Branding, absolute_url, iso_local

DESCRIPTION_CHARS = 200
# Google shows at most 110 characters of a NewsArticle headline.
HEADLINE_CHARS = 110
# Only the beginning of a body is read for a description or an image.
_BODY_PREFIX_CHARS = 6000
_FIRST_IMAGE = re.compile(r"<img\b[^>]*?\bsrc=\"([^\"]+)\"", re.IGNORECASE)
FEED_FORMATS = (
    ("rss.xml", "application/rss+xml", "RSS"),
    ("atom.xml", "application/atom+xml", "Atom"),
    ("feed.json", "application/feed+json", "JSON Feed"),
)


@dataclass(frozen=True, slots=True)
class FeedLink:
    type: str
    title: str
    href: str
    label: str


@dataclass(frozen=True, slots=True)
class Head:
    title: str
    description: str
    canonical: str
    feeds: tuple[FeedLink, ...]
    open_graph: tuple[tuple[str, str], ...]
    twitter: tuple[tuple[str, str], ...]
    json_ld: dict[str, Any] | None = None
    robots: str | None = None
    # schema.org BreadcrumbList of the page's trail (article pages), a JSON-LD block of its own.
    breadcrumbs_ld: dict[str, Any] | None = None


def feed_links(site: Branding, category: CategoryLink | None = None) -> tuple[FeedLink, ...]:
    """The site's feeds, and a category's when given: what feed readers discover."""
    links = [
        FeedLink(mime, f"{site.title} ({label})", f"{site.base_url}/feeds/{name}", label)
        for name, mime, label in FEED_FORMATS
    ]
    if category is not None:
        links += [
            FeedLink(
                mime,
                f"{site.title} – {category.name} ({label})",
                f"{site.base_url}/feeds/categories/{category.slug}/{name}",
                label,
            )
            for name, mime, label in FEED_FORMATS
        ]
    return tuple(links)


def article_url(site: Branding, article_id: int, slug: str) -> str:
    """The article's public address on this site (one rule: ``service.articles.urls``)."""
    return article_url_for(site.base_url, article_id, slug)


def article_description(article: ArticleView) -> str:
    """The page description: the summary, else the start of the body as text, shortened."""
    return excerpt(article.summary, article.body_html, DESCRIPTION_CHARS)


def article_image(article: ArticleView, site: Branding) -> str | None:
    """Cover image → first image of the body → site logo; absolute, or None."""
    if article.image_url:
        return absolute_url(article.image_url, site.base_url)
    found = _FIRST_IMAGE.search(article.body_html[:_BODY_PREFIX_CHARS])
    if found:
        return absolute_url(found.group(1).replace("&amp;", "&"), site.base_url)
    return site.logo_url


def _common_open_graph(
    site: Branding, kind: str, title: str, description: str, url: str, image: str | None
) -> list[tuple[str, str]]:
    tags = [
        ("og:site_name", site.title),
        ("og:locale", "vi_VN"),
        ("og:type", kind),
        ("og:title", title),
        ("og:description", description),
        ("og:url", url),
    ]
    if image:
        tags += [("og:image", image), ("og:image:alt", title)]
    return tags


def _twitter(title: str, description: str, image: str | None) -> tuple[tuple[str, str], ...]:
    tags = [
        ("twitter:card", "summary_large_image" if image else "summary"),
        ("twitter:title", title),
        ("twitter:description", description),
    ]
    if image:
        tags.append(("twitter:image", image))
    return tuple(tags)


def article_head(article: ArticleView, site: Branding) -> Head:
    """The head of an article page: canonical URL, Open Graph article tags, Twitter card, feeds."""
    url = article_url(site, article.id, article.slug)
    description = article_description(article)
    image = article_image(article, site)
    published = iso_local(article.published_at)
    modified = iso_local(max(article.updated_at, article.published_at))
    open_graph = _common_open_graph(site, "article", article.title, description, url, image)
    open_graph += [("article:published_time", published), ("article:modified_time", modified)]
    open_graph += [("article:section", c.name) for c in article.categories[:1]]
    open_graph += [("article:tag", c.name) for c in article.categories[1:]]
    feeds: tuple[FeedLink, ...] = feed_links(site)
    for category in article.categories:
        feeds += feed_links(site, category)[len(FEED_FORMATS) :]
    return Head(
        title=f"{article.title} – {site.title}",
        description=description,
        canonical=url,
        feeds=feeds,
        open_graph=tuple(open_graph),
        twitter=_twitter(article.title, description, image),
        json_ld=news_article(article, site, url, description, image, published, modified),
        breadcrumbs_ld=breadcrumb_list(site, trail(article, site), article.title),
    )


def trail(article: ArticleView, site: Branding) -> tuple[tuple[str, str], ...]:
    """(name, absolute URL) of the pages above an article: the home page, then its first
    category (by slug, the same one ``article:section`` names)."""
    crumbs = [(site.title, site.base_url + "/")]
    crumbs += [(c.name, f"{site.base_url}/categories/{c.slug}") for c in article.categories[:1]]
    return tuple(crumbs)


def breadcrumb_list(site: Branding, crumbs: tuple[tuple[str, str], ...], current: str) -> dict[str, Any]:
    """schema.org BreadcrumbList (Google's Breadcrumb structured data): each page above with
    its URL, then the current one by name alone, as the guidelines allow for the last item."""
    items: list[dict[str, Any]] = [
        {"@type": "ListItem", "position": n, "name": name, "item": url} for n, (name, url) in enumerate(crumbs, 1)
    ]
    items.append({"@type": "ListItem", "position": len(items) + 1, "name": shorten(current, HEADLINE_CHARS)})
    return {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": items}


def news_article(
    article: ArticleView, site: Branding, url: str, description: str, image: str | None, published: str, modified: str
) -> dict[str, Any]:
    """schema.org NewsArticle with the fields Google's Article guidelines ask for."""
    publisher: dict[str, Any] = {"@type": "Organization", "name": site.title, "url": site.base_url + "/"}
    if site.logo_url:
        publisher["logo"] = {"@type": "ImageObject", "url": site.logo_url}
    author = (
        {"@type": "Person", "name": article.author}
        if article.author
        else {"@type": "Organization", "name": site.author, "url": site.base_url + "/"}
    )
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": shorten(article.title, HEADLINE_CHARS),
        "description": description,
        "datePublished": published,
        "dateModified": modified,
        "author": [author],
        "publisher": publisher,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "inLanguage": "vi",
        "isAccessibleForFree": True,
    }
    if image:
        data["image"] = [image]
    if article.categories:
        data["articleSection"] = [c.name for c in article.categories]
    if article.corrections:
        data["correction"] = [correction_comment(c, url) for c in article.corrections]
    if article.source_url:
        data["isBasedOn"] = article.source_url
    elif article.source_name:
        data["isBasedOn"] = {"@type": "CreativeWork", "name": article.source_name}
    return data


def correction_comment(correction: Correction, url: str) -> dict[str, Any]:
    """schema.org CorrectionComment (the ``correction`` of a CreativeWork): the notice's text,
    in the article's language, its date and its place on the page (decision 0043)."""
    with use_language("vi"):
        text = " ".join(
            [
                gettext("Thông tin chưa chính xác: %(wrong)s", wrong=correction.wrong),
                gettext("Thông tin đúng: %(right)s", right=correction.right),
                *([gettext(APOLOGY)] if correction.apology else []),
            ]
        )
    return {
        "@type": "CorrectionComment",
        "text": text,
        "datePublished": iso_local(correction.published_at),
        "url": f"{url}#{FRAGMENT.format(id=correction.id)}",
    }


def listing_head(listing: Listing, site: Branding, path: str) -> Head:
    """Home or a category page; later pages of a listing are followed but not indexed."""
    category = listing.category
    if category is None:
        title = site.title
        description = site.description
    else:
        title = f"{category.name} – {site.title}"
        description = f"Tin bài chuyên mục {category.name} – {site.title}"
    if listing.before is not None:
        title = f"Tin cũ hơn – {title}"
    url = site.base_url + path + (f"?before={listing.before}" if listing.before is not None else "")
    image = site.logo_url
    return Head(
        title=title,
        description=description,
        canonical=url,
        feeds=feed_links(site, category),
        open_graph=tuple(_common_open_graph(site, "website", title, description, url, image)),
        twitter=_twitter(title, description, image),
        robots="noindex, follow" if listing.before is not None else None,
    )


def search_head(site: Branding, heading: str, url: str) -> Head:
    """The head of a search page (results, a refusal, the empty form): never indexed (a
    results page is not content), its links still followed."""
    return Head(
        title=f"{heading} – {site.title}",
        description=site.description,
        canonical=url,
        feeds=feed_links(site),
        open_graph=(),
        twitter=(),
        robots="noindex, follow",
    )


def follow_head(site: Branding, heading: str, description: str) -> Head:
    """The head of /theo-doi, with every feed of the site for feed readers to discover."""
    url = site.base_url + "/theo-doi"
    return Head(
        title=f"{heading} – {site.title}",
        description=description,
        canonical=url,
        feeds=feed_links(site),
        open_graph=tuple(_common_open_graph(site, "website", heading, description, url, site.logo_url)),
        twitter=_twitter(heading, description, site.logo_url),
    )


def error_head(site: Branding, title: str) -> Head:
    """The head of an error page: the site's description and feeds, not indexed."""
    return Head(
        title=f"{title} – {site.title}",
        description=site.description,
        canonical=site.base_url + "/",
        feeds=feed_links(site),
        open_graph=(),
        twitter=(),
        robots="noindex",
    )
