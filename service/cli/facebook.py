"""``bantin facebook connect PAGE_ID``: connect the desk's Facebook Page (decision 0039).

The Page access token is BANTIN_FACEBOOK_PAGE_TOKEN, a setting like the bot's token; this
checks it against the Page (``GET /{page-id}?fields=id,name``), then creates the Page's
subscription, or resumes it after Facebook refused an earlier token (190), so that the
posts that waited go out.
"""

from __future__ import annotations

from typing import Annotated

import httpx
import typer
from sqlalchemy import select

from config.settings import get_settings
from service.cli.common import fail
from service.db.engine import session_scope
from service.db.models import Subscription
from service.db.types import utcnow
from service.errors import DomainError
from service.subscriptions import service
from service.subscriptions.schemas import SubscriptionCreate, SubscriptionUpdate
from service.urls import with_path

facebook_app = typer.Typer(help="The desk's Facebook Page.", no_args_is_help=True)
CHANNEL = "facebook"


@facebook_app.command("connect")
def connect(page_id: Annotated[str, typer.Argument(help="the Page's numeric id")]) -> None:
    """Check BANTIN_FACEBOOK_PAGE_TOKEN against the Page, then post each published article there."""
    settings = get_settings()
    token = settings.facebook_page_token.get_secret_value()
    if not token:
        raise fail("BANTIN_FACEBOOK_PAGE_TOKEN is not set (a Page access token with pages_manage_posts)")
    if not page_id.isdigit():
        raise fail("the Page id is the number in the Page's About section")
    try:
        answer = httpx.get(
            with_path(settings.facebook_graph_base, f"/{page_id}"),
            params={"fields": "id,name", "access_token": token},
            timeout=settings.delivery_timeout_seconds,
        )
        document = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise fail(f"the Graph API did not answer: {type(exc).__name__}", 1) from None
    error = document.get("error") if isinstance(document, dict) else None
    if answer.status_code != 200 or error:
        words = error.get("message") if isinstance(error, dict) else answer.text[:200]
        code = error.get("code") if isinstance(error, dict) else answer.status_code
        raise fail(f"Facebook refused the token for this Page ({code}): {words}", 1)
    try:
        with session_scope() as session:
            existing = session.scalars(
                select(Subscription)
                .where(Subscription.channel == CHANNEL, Subscription.target == page_id)
                .order_by(Subscription.id)
            ).first()
            if existing is None:
                data = SubscriptionCreate(channel=CHANNEL, target=page_id)
                subscription, _ = service.create_subscription(session, data, utcnow(), settings)
            else:
                resume = SubscriptionUpdate.model_validate({"status": "active"})
                subscription = service.update_subscription(session, existing.id, resume, utcnow(), settings)
            typer.echo(f"Page {document.get('name', '')} ({page_id}) connected: subscription {subscription.id}")
    except DomainError as exc:
        raise fail(str(exc)) from None
