"""``bantin telegram …``: register the readers' bot's webhook, or poll for its updates."""

from __future__ import annotations

from typing import Annotated

import typer

from config.settings import get_settings
from service.cli.common import fail
from service.db.engine import session_scope
from service.telegram.bot_api import BotApi, BotApiError
from service.telegram.polling import PollingRefused, poll
from service.telegram.updates import HANDLED_KINDS

telegram_app = typer.Typer(help="The readers' Telegram bot.", no_args_is_help=True)
WEBHOOK_PATH = "/telegram/webhook"


@telegram_app.command("set-webhook")
def set_webhook(
    drop_pending: Annotated[bool, typer.Option(help="drop the updates Telegram holds for the bot")] = False,
) -> None:
    """Register BANTIN_BASE_URL/telegram/webhook with setWebhook, with the secret
    (BANTIN_TELEGRAM_WEBHOOK_SECRET) and the kinds of update the bot handles."""
    settings = get_settings()
    if not settings.telegram_bot_token.get_secret_value():
        raise fail("BANTIN_TELEGRAM_BOT_TOKEN is not set (the token BotFather gave)")
    if not settings.telegram_webhook_secret.get_secret_value():
        raise fail("BANTIN_TELEGRAM_WEBHOOK_SECRET is not set (1-256 characters of A-Z, a-z, 0-9, _ and -)")
    url = settings.base_url + WEBHOOK_PATH
    if not url.startswith("https://"):
        typer.echo(f"warning: {url} is not HTTPS; Telegram sends webhooks only to HTTPS URLs", err=True)
    parameters = {
        "url": url,
        "secret_token": settings.telegram_webhook_secret.get_secret_value(),
        "allowed_updates": list(HANDLED_KINDS),
        "drop_pending_updates": drop_pending,
    }
    with BotApi(settings) as api:
        try:
            api.call("setWebhook", parameters)
        except BotApiError as exc:
            raise fail(str(exc), 1) from None
    typer.echo(f"webhook set: {url}")


@telegram_app.command("delete-webhook")
def delete_webhook() -> None:
    """Remove the webhook (deleteWebhook), so that `bantin telegram poll` can fetch updates."""
    with BotApi(get_settings()) as api:
        try:
            api.call("deleteWebhook", {})
        except BotApiError as exc:
            raise fail(str(exc), 1) from None
    typer.echo("webhook removed")


@telegram_app.command("poll")
def poll_updates(
    once: Annotated[bool, typer.Option(help="one getUpdates call, then exit")] = False,
) -> None:
    """Long-poll getUpdates and handle each update, for a desk Telegram cannot reach."""
    settings = get_settings()
    if not settings.telegram_bot_token.get_secret_value():
        raise fail("BANTIN_TELEGRAM_BOT_TOKEN is not set (the token BotFather gave)")
    with BotApi(settings, long_poll=True) as api:
        try:
            handled = poll(api, settings, session_scope, once=once)
        except (PollingRefused, BotApiError) as exc:
            raise fail(str(exc), 1) from None
    typer.echo(f"{handled} updates handled")
