"""The guarded HTTP client against a real local server: what it sends and what it reads."""

import asyncio
from typing import Any

import pytest
from aiohttp import web

from config.settings import Settings
from service.channels.egress import EgressDenied
from service.channels.http import MAX_ANSWER_BYTES, GuardedHttp, new_http_session
from tests.integration.stack import free_port
from tests.unit.channels.local_server import serve


async def _with_server(check: Any) -> Any:
    """``check(http, port, seen)`` against a server answering every request with an endless body."""
    seen: list[web.Request] = []

    async def endless(request: web.Request) -> web.StreamResponse:
        seen.append(request)
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(3 * MAX_ANSWER_BYTES // 65536):
            await response.write(b"x" * 65536)
        return response

    return await serve(endless, lambda http, port: check(http, port, seen))


def test_get_keeps_the_query_sends_the_name_as_host_and_reads_at_most_what_it_needs() -> None:
    async def check(http: GuardedHttp, port: int, seen: list[web.Request]) -> None:
        answer = await http.get_guarded(f"http://127.0.0.1:{port}/cb?id=42&x=1", headers={}, max_bytes=10)
        assert answer.body == b"x" * 10
        assert seen[0].query_string == "id=42&x=1" and seen[0].host == f"127.0.0.1:{port}"
        posted = await http.post(f"http://127.0.0.1:{port}/hook", content=b"{}", headers={})
        assert len(posted.body) == MAX_ANSWER_BYTES  # a receiver streaming more is not held in memory

    asyncio.run(_with_server(check))


def test_a_denied_origin_is_denied_without_a_request() -> None:
    async def check(http: GuardedHttp, port: int, seen: list[web.Request]) -> None:
        with pytest.raises(EgressDenied):
            await http.get_guarded(f"http://10.0.0.1:{port}/cb", headers={}, max_bytes=10)
        assert seen == []

    asyncio.run(_with_server(check))


def test_api_bases_with_a_path_and_query_keep_them_on_the_wire() -> None:
    """An operator's API base behind a proxy (``…/proxy?key=k``): the method path goes after
    the base's path and the base's query stays (Telegram and Zalo alike)."""
    from service.deliveries.ratelimit import LocalRateLimiter
    from service.deliveries.sender import send_all
    from tests.outbound import outbound

    async def run() -> list[web.Request]:
        seen: list[web.Request] = []

        async def answer(request: web.Request) -> web.Response:
            seen.append(request)
            return web.json_response({"ok": True, "error": 0, "result": {}})

        app = web.Application()
        app.router.add_post("/{tail:.*}", answer)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}/proxy/?key=k"
        settings = Settings(telegram_api_base=base, telegram_bot_token="1:T", zalo_api_base=base, zalo_access_token="z")
        messages = [
            outbound("article.published", {"article": {}}, delivery_id="d1", channel="telegram", target="-100"),
            outbound(
                "article.published", {"article": {}}, delivery_id="d2", subscription_id=2, channel="zalo", target="42"
            ),
        ]
        session = new_http_session(settings)
        try:
            results = await send_all(messages, settings, LocalRateLimiter(), session)
        finally:
            await session.close()
            await runner.cleanup()
        assert all(r.ok for r in results), results
        return seen

    seen = asyncio.run(run())
    assert sorted((r.path, r.query_string) for r in seen) == [
        ("/proxy/bot1:T/sendMessage", "key=k"),
        ("/proxy/v3.0/oa/message/cs", "key=k"),
    ]
