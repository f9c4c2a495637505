"""A real local aiohttp server and the guarded client pointed at it, for the HTTP client tests."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from config.settings import Settings
from service.channels.egress import EgressPolicy
from service.channels.http import GuardedHttp, new_http_session
from tests.integration.stack import free_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve(handler: Handler, check: Callable[[GuardedHttp, int], Awaitable[Any]], **settings: Any) -> Any:
    """``check(http, port)`` with a guarded client (settings from ``settings``) against a local
    server answering every path with ``handler``; both closed after."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    session = new_http_session(Settings(**settings))
    try:
        return await check(GuardedHttp(session, EgressPolicy.parse("127.0.0.1/32")), port)
    finally:
        await session.close()
        await runner.cleanup()
