"""``bantin subscribers …`` and ``bantin deliveries …``: the admin API's equivalents."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from config.settings import get_settings
from service.cli.common import fail, local_stamp, parser_for, print_table, validation_failure
from service.db.engine import session_scope
from service.db.models import DeliveryStatus, Subscription
from service.db.types import utcnow
from service.deliveries.replay import recover as recover_failed
from service.deliveries.replay import replay
from service.errors import DomainError, InvalidField
from service.inputs import DeliveryId, Instant, Limit, RowId, SubscriberTarget
from service.subscriptions import service
from service.subscriptions.schemas import SubscriptionCreate, SubscriptionUpdate

SubscriptionId = Annotated[int, typer.Argument(parser=parser_for(RowId))]
subscribers_app = typer.Typer(help="Subscribers and their channels.", no_args_is_help=True)
deliveries_app = typer.Typer(help="The delivery log.", no_args_is_help=True)


COLUMNS = ("id", "channel", "target", "status", "events", "categories", "locale")


def _fields(sub: Subscription) -> tuple[object, ...]:
    filters = ",".join(sub.events) or "all events"
    categories = ",".join(sub.categories) or "all categories"
    reason = f" ({sub.status_reason})" if sub.status_reason else ""
    return (sub.id, sub.channel, service.listed_target(sub), f"{sub.status}{reason}", filters, categories, sub.locale)


def _line(sub: Subscription) -> str:
    return "\t".join(str(f) for f in _fields(sub))


def _options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise fail(f"option: {pair!r} is not KEY=VALUE")
        options[key] = value
    return options


@subscribers_app.command("add")
def add(
    channel: Annotated[
        str, typer.Option(help="webhook, email, telegram, slack, discord, teams, zalo, facebook or apprise")
    ],
    target: Annotated[str, typer.Option(help="URL, e-mail address, chat id or user id")],
    event: Annotated[list[str] | None, typer.Option(help="repeatable; none = every event")] = None,
    category: Annotated[list[str] | None, typer.Option(help="repeatable; none = every category")] = None,
    locale: str = "vi",
    option: Annotated[list[str] | None, typer.Option(help="KEY=VALUE, repeatable")] = None,
) -> None:
    """Subscribe a channel. A webhook's signing secret is printed once, on the last line."""
    try:
        data = SubscriptionCreate.model_validate(
            {
                "channel": channel,
                "target": target,
                "events": event or [],
                "categories": category or [],
                "locale": locale,
                "options": _options(option or []),
            }
        )
        with session_scope() as session:
            subscription, secret = service.create_subscription(session, data, utcnow(), get_settings())
            line = _line(subscription)
    except ValidationError as exc:
        raise validation_failure(exc) from None
    except InvalidField as exc:
        raise fail(f"{exc.field}: {exc.message}") from None
    typer.echo(line)
    if secret:
        typer.echo(secret)


@subscribers_app.command("list")
def list_(status: str | None = None, channel: str | None = None) -> None:
    """List subscriptions (never their secrets)."""
    with session_scope() as session:
        rows, _ = service.list_subscriptions(session, status=status, channel=channel, limit=100_000)
        table = [_fields(sub) for sub in rows]
    print_table(COLUMNS, table)


@subscribers_app.command("show")
def show(subscription_id: SubscriptionId) -> None:
    """One subscription, as JSON."""
    try:
        with session_scope() as session:
            sub = service.get_subscription(session, subscription_id)
            document = {
                "id": sub.id,
                "channel": sub.channel,
                "target": sub.target,
                "events": sub.events,
                "categories": sub.categories,
                "locale": sub.locale,
                "options": sub.options,
                "status": sub.status,
                "status_reason": sub.status_reason,
                "failing_since": sub.failing_since.isoformat() if sub.failing_since else None,
                "last_success_at": sub.last_success_at.isoformat() if sub.last_success_at else None,
            }
    except DomainError as exc:
        raise fail(str(exc)) from None
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


def _set_status(subscription_id: int, status: str) -> None:
    try:
        with session_scope() as session:
            sub = service.update_subscription(
                session,
                subscription_id,
                SubscriptionUpdate.model_validate({"status": status}),
                utcnow(),
                get_settings(),
            )
            typer.echo(_line(sub))
    except DomainError as exc:
        raise fail(str(exc)) from None


@subscribers_app.command("pause")
def pause(subscription_id: SubscriptionId) -> None:
    """Stop sending to a subscription until it is resumed."""
    _set_status(subscription_id, "paused")


@subscribers_app.command("resume")
def resume(subscription_id: SubscriptionId) -> None:
    """Send again (also re-activates a disabled subscription)."""
    _set_status(subscription_id, "active")


@subscribers_app.command("remove")
def remove(subscription_id: SubscriptionId) -> None:
    """Delete a subscription and its delivery log."""
    try:
        with session_scope() as session:
            service.delete_subscription(session, subscription_id)
    except DomainError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"subscription {subscription_id} removed")


@subscribers_app.command("rotate-secret")
def rotate(subscription_id: SubscriptionId) -> None:
    """New webhook signing secret, printed on the last line; the old one keeps signing for the overlap."""
    try:
        with session_scope() as session:
            _, secret = service.rotate_secret(session, subscription_id, utcnow(), get_settings())
    except DomainError as exc:
        raise fail(str(exc)) from None
    typer.echo(secret)


@subscribers_app.command("test")
def send_test(subscription_id: SubscriptionId) -> None:
    """Send a test message to one active subscription; prints its delivery id (see ``deliveries list``)."""
    try:
        with session_scope() as session:
            delivery_id = service.send_test_message(session, subscription_id, utcnow(), get_settings())
    except DomainError as exc:
        raise fail(str(exc)) from None
    typer.echo(delivery_id)


@subscribers_app.command("recover")
def recover(
    subscription_id: SubscriptionId,
    since: Annotated[
        datetime, typer.Option(parser=parser_for(Instant), help="ISO 8601; no zone means BANTIN_TIMEZONE")
    ],
) -> None:
    """Send again the failed deliveries created since a time."""
    try:
        with session_scope() as session:
            ids = recover_failed(session, subscription_id, since, utcnow())
    except DomainError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{len(ids)} deliveries requeued")


# An e-mail address, a Telegram chat id or a Zalo follower id, checked as the admin API checks it.
AddressOrChat = Annotated[
    str,
    typer.Argument(
        metavar="ADDRESS_OR_CHAT",
        help="an e-mail address, a Telegram chat id or a Zalo follower id (a group's id: after --, e.g. -- -100123)",
        parser=parser_for(SubscriberTarget),
    ),
]


@subscribers_app.command("export")
def export(target: AddressOrChat) -> None:
    """Everything held about one subscriber, as JSON (Decree 13/2023/NĐ-CP: the right of access)."""
    from service.readers import privacy

    with session_scope() as session:
        document = privacy.export(session, target)
    typer.echo(json.dumps(document.model_dump(mode="json"), ensure_ascii=False, indent=2))


@subscribers_app.command("forget")
def forget(
    target: AddressOrChat,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False,
) -> None:
    """Erase one subscriber's personal data; anonymous delivery counts and a hashed suppression entry stay."""
    from service.readers import privacy

    if not yes:
        typer.confirm("Erase this subscriber's personal data for good?", abort=True)
    with session_scope() as session:
        count = privacy.forget(session, target, utcnow())
    typer.echo(f"{count} subscriptions forgotten")


@deliveries_app.command("list")
def deliveries_list(
    announcement: Annotated[int | None, typer.Option(parser=parser_for(RowId))] = None,
    subscription: Annotated[int | None, typer.Option(parser=parser_for(RowId))] = None,
    status: str | None = None,
    limit: Annotated[int, typer.Option(parser=parser_for(Limit))] = 100,
) -> None:
    """Deliveries, newest first, with their last result; times in BANTIN_TIMEZONE."""
    from service.deliveries.queries import list_deliveries

    settings = get_settings()
    try:
        parsed = DeliveryStatus(status) if status else None
    except ValueError:
        raise fail(f"status: must be one of {', '.join(s.value for s in DeliveryStatus)}") from None
    with session_scope() as session:
        rows, _ = list_deliveries(
            session, announcement_id=announcement, subscription_id=subscription, status=parsed, limit=limit
        )
        table = []
        for delivery, attempts in rows:
            last = attempts[-1] if attempts else None
            result = f"{last.status_code or '-'} {last.error or ''}".strip() if last else "not attempted"
            created = local_stamp(delivery.created_at, settings.zone)
            table.append((delivery.id, delivery.subscription_id, delivery.status, delivery.attempts, created, result))
    header = ("delivery", "subscription", "status", "attempts", f"created ({settings.timezone})", "last result")
    print_table(header, table)


@deliveries_app.command("replay")
def deliveries_replay(delivery_id: Annotated[str, typer.Argument(parser=parser_for(DeliveryId))]) -> None:
    """Send one delivery again, with the same webhook-id."""
    try:
        with session_scope() as session:
            replay(session, delivery_id, utcnow())
    except DomainError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"delivery {delivery_id} requeued")
