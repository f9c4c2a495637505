"""The FastAPI application."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from config.settings import get_settings
from service import clock, heap
from service.announcement_kinds import register_all
from service.api import (
    articles,
    calendar,
    idempotency,
    media,
    observability,
    ops,
    pages,
    privacy,
    reader_manage,
    readers,
    review,
    subscriptions,
    telegram,
    tokens,
    unsubscribe,
    web_push,
    websub,
    zalo,
)
from service.api.documents import PublicDocuments
from service.api.errors import install_error_handlers
from service.api.limits import BodySizeLimit
from service.auth import two_factor
from service.calendar.loader import load_key_dates
from service.calendar.service import ensure_calendar, sync_seed_file
from service.channels import mail_relay
from service.console import audit as console_audit
from service.console import calendar as console_calendar
from service.console import categories as console_categories
from service.console import corrections as console_corrections
from service.console import deliveries as console_deliveries
from service.console import editor as console_editor
from service.console import media as console_media
from service.console import notifications as console_notifications
from service.console import outbox as console_outbox
from service.console import preview as console_preview
from service.console import review_pages as console_review
from service.console import routes as console_articles
from service.console import signin as console_signin
from service.console import subscribers as console_subscribers
from service.console import two_factor as console_two_factor
from service.console import workflow as console_workflow
from service.db.engine import session_scope
from service.db.types import utcnow
from service.feeds.publish import ensure_site_feeds
from service.i18n import LanguageMiddleware
from service.observability import access_lines, tally
from service.observability.logs import configure_from_settings
from service.web.client import ClientAddress
from workers.relay import warm_relay

log = logging.getLogger(__name__)
# JSON framing and the other fields on top of the largest body we accept.
REQUEST_OVERHEAD_BYTES = 64 * 1024
_startup_frozen = threading.Event()


def _prepare() -> None:
    """Fresh install: empty site feeds answer at once; seed key dates are loaded; two-factor
    secrets an earlier release kept in clear are sealed.

    A bad key_dates.yaml stops the API here, naming the entry and the reason.
    """
    settings = get_settings()
    entries = load_key_dates(settings.key_dates_file)
    with session_scope() as session:
        ensure_site_feeds(session, utcnow(), settings)
        added = sync_seed_file(session, entries, clock.now(settings), settings)
        ensure_calendar(session, clock.now(settings), settings)
        sealed = two_factor.seal_kept_in_clear(session)
    if sealed:
        log.info("two-factor secrets kept in clear by an earlier release sealed: %d", sealed)
    if added:
        log.info("key dates added from %s: %s", settings.key_dates_file, ", ".join(added))
    warm_relay()


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Run :func:`_prepare` in a worker thread before the first request, check the mail relay
    (and keep checking it), then move what startup made out of the garbage collector's
    sight; at shutdown only the relay's watch stops.

    The application, its routes, models and modules live as long as the process
    (``service.heap``). Once per process: frozen cycles are never collected, and a test
    process starts many apps.
    """
    await run_in_threadpool(_prepare)
    # Mail never fails in silence (decision 0038): checked before the first request, then kept fresh.
    await mail_relay.check(get_settings())
    watch = asyncio.create_task(_watch_mail_relay())
    # Request counts and latencies reach the metrics once a second, and at shutdown (decision 0046).
    # Access lines too, in one write a second (decision 0050).
    flushing = asyncio.create_task(tally.flush_every(also=access_lines.flush))
    if not _startup_frozen.is_set():
        _startup_frozen.set()
        heap.freeze_long_lived()
    try:
        yield
    finally:
        watch.cancel()
        flushing.cancel()
        await asyncio.gather(flushing, return_exceptions=True)


async def _watch_mail_relay() -> None:
    """Check the mail relay every CHECK_SECONDS, so the dashboard and the sign-up form follow it."""
    while True:
        await asyncio.sleep(mail_relay.CHECK_SECONDS)
        try:
            await mail_relay.check(get_settings())
        except Exception:
            log.exception("the mail relay check failed")


def create_app() -> FastAPI:
    """The ASGI application: routers, error handlers and middleware.

    Middleware from the outside in: the client's address, request observability, the public
    documents answered from memory, the body-size limit, the language. A process that starts
    with no logging set up (a uvicorn worker) configures it here; the outbox relay is
    installed so deferred work reaches the broker after each commit.
    """
    from workers import relay

    settings = get_settings()
    if not logging.getLogger().handlers:  # a uvicorn worker process (--workers N) starts unconfigured
        configure_from_settings("api", settings)
    # Work a request defers (outbox events, deliveries) goes to the broker after its commit.
    relay.install()
    # The console's previews render announcements as their kinds word them (decision 0032).
    register_all()
    app = FastAPI(
        title="Bantin",
        summary="Articles, RSS/Atom/JSON feeds and announcements for a Vietnamese news desk",
        version="0.1.0",
        lifespan=lifespan,
        # FastAPI's native OpenTelemetry: Bantin configures no provider, yet asking whether one
        # is configured cost ~30 µs a request (decision 0046). Metrics are Prometheus's.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    install_error_handlers(app)
    idempotency.install(app)
    # Innermost: every page and message below it is in the request's language (service.i18n).
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.body_max_bytes + REQUEST_OVERHEAD_BYTES,
        # The image upload carries a file up to BANTIN_MEDIA_MAX_BYTES.
        path_limits={"/console/media": settings.media_max_bytes + REQUEST_OVERHEAD_BYTES},
    )
    # Feeds, /calendar.ics and /healthz are answered here from memory, skipping the rest.
    app.add_middleware(PublicDocuments)
    # It sees every answer, the body-size 413 and the documents included.
    app.add_middleware(
        observability.RequestObservability,
        access_log_sample=settings.access_log_sample,
        access_lines=access_lines.for_this_process(),
    )
    # Added last, so outermost: who the client is, decided once for all below (decision 0028).
    app.add_middleware(ClientAddress, trusted=settings.trusted_proxy_networks)
    routers = (
        articles,
        subscriptions,
        privacy,
        calendar,
        tokens,
        pages,
        media,
        readers,
        reader_manage,
        unsubscribe,
        web_push,
        websub,
        telegram,
        zalo,
        ops,
    )
    for module in (*routers, observability):
        app.include_router(module.router)
    # One module per console area, each with its own router under /console.
    console_areas = (
        console_signin,
        console_articles,
        console_editor,
        console_review,
        console_media,
        console_calendar,
        console_preview,
        console_subscribers,
        console_deliveries,
        console_categories,
        console_corrections,
        console_outbox,
        console_audit,
        console_two_factor,
        console_workflow,
        console_notifications,
    )
    for console_area in console_areas:
        app.include_router(console_area.router)
    app.include_router(review.router)
    return app
