"""Console pages: the dashboard, the article list, static files. Thin: parse
the form, call the domain function the API calls, render or redirect. Changing an article
is service.console.editor's; reviewing it, service.console.review_pages'."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from fastapi import Response
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import select

from config.settings import get_settings
from service import clock
from service.articles.review import returned_to, review_queue, work_of
from service.articles.service import list_articles
from service.calendar.service import upcoming
from service.channels import mail_relay
from service.console.common import console_router, html_page
from service.console.forms import filter_error
from service.console.security import CurrentUser
from service.console.templating import STATIC
from service.db.engine import session_scope
from service.db.models import Article, ArticleStatus, Category, UserRole
from service.db.types import utcnow
from service.deliveries import zalo_quota
from service.deliveries.queries import delivery_health
from service.errors import NotFound
from service.events.outbox import outbox_oldest_unfinished
from service.inputs import PageNumber, SearchText
from service.subscriptions.service import list_subscriptions

PAGE_SIZE = 25
UPCOMING_DAYS = 60


router = console_router()


# ---- dashboard -------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def dashboard(user: CurrentUser) -> Response:
    """The start page: what the signed-in person acts on (the issue 20 §3 rule, as WordPress's
    and Ghost's dashboards do it).

    Everyone: anniversaries of the next UPCOMING_DAYS days (what the desk writes about).
    A writer: their articles returned by an editor with the comment, and their latest
    articles with their status; no review queue, no delivery health (nothing of theirs to
    act on). Editors and admins: the review queue, the latest and scheduled articles,
    delivery health of the last 24 hours (linked to the log for admins) and the Facebook
    Pages and whether they take posts (decision 0039), the Zalo OA's promotion quota
    (decision 0040). Admins: a banner when mail cannot go
    or goes to the development outbox (decision 0038).
    """
    settings = get_settings()
    today = clock.now(settings).astimezone(settings.zone).date()
    reviews = user.role != UserRole.WRITER
    with session_scope() as session:
        anniversaries = [o for o, _ in upcoming(session, today, UPCOMING_DAYS)]
        context: dict[str, Any] = {"anniversaries": anniversaries, "today": today, "days": UPCOMING_DAYS}
        if reviews:
            latest, total = list_articles(session, limit=10)
            context.update(
                health=delivery_health(session, utcnow(), outbox_oldest_unfinished(session)),
                queue=review_queue(session, limit=20),
                latest=latest,
                total=total,
                scheduled=list(
                    session.scalars(
                        select(Article)
                        .where(Article.status == ArticleStatus.SCHEDULED)
                        .order_by(Article.publish_at, Article.id)
                        .limit(20)
                    )
                ),
                # A Page Facebook stopped taking posts from (a refused token, decision 0039)
                # is told here, with how to connect it again.
                pages=list_subscriptions(session, channel="facebook", limit=10)[0],
                mail=mail_relay.current() if user.role == "admin" else None,
                # The Zalo OA's promotion quota this window and what waits for it (decision 0040).
                zalo=zalo_quota.current(session, settings) if settings.zalo_access_token.get_secret_value() else None,
            )
        else:
            context.update(returned=returned_to(session, user.actor), mine=work_of(session, user.actor))
        return html_page("dashboard.html" if reviews else "dashboard_writer.html", user, **context)


# ---- articles --------------------------------------------------------------------------------


@router.get("/articles", response_class=HTMLResponse)
def articles(
    user: CurrentUser,
    q: SearchText = "",
    status: str = "",
    category: str = "",
    page: PageNumber = 1,
) -> Response:
    """The article list, PAGE_SIZE a page, filtered by search text, status and category slug.

    An unknown status or category is a 422: the form again with the message by that filter, no list.
    """
    with session_scope() as session:
        categories = list(session.scalars(select(Category).order_by(Category.name)))
        errors = {
            name: error
            for name, error in (
                ("status", filter_error(status, {s.value for s in ArticleStatus})),
                ("category", filter_error(category, {c.slug for c in categories})),
            )
            if error
        }
        chosen_status = ArticleStatus(status) if status and "status" not in errors else None
        rows: list[Article] = []
        total = 0
        if not errors:
            rows, total = list_articles(
                session,
                status=chosen_status,
                category_slug=category or None,
                search=q or None,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
        return html_page(
            "articles.html",
            user,
            status_code=422 if errors else 200,
            errors=errors,
            rows=rows,
            total=total,
            page=page,
            pages=max(1, math.ceil(total / PAGE_SIZE)),
            q=q,
            status=status,
            category=category,
            categories=categories,
            statuses=list(ArticleStatus),
        )


# ---- static files ------------------------------------------------------------------------------

STATIC_MAX_AGE = timedelta(days=1)


@router.get("/static/{path:path}")
def static(path: str) -> Response:
    """The console's CSS, JS and the vendored editor; no CDN, so it works on an intranet."""
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC.resolve()) or not target.is_file():
        raise NotFound(path)
    return FileResponse(target, headers={"Cache-Control": f"public, max-age={int(STATIC_MAX_AGE.total_seconds())}"})
