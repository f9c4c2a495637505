"""The lean keep-alive client behind ``GuardedHttp.post_pinned`` (decision 0047), against real local servers."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from config.settings import Settings
from service.channels.egress import EgressPolicy
from service.channels.http import MAX_ANSWER_BYTES, GuardedHttp, HttpAnswer, HttpFailure, new_http_session
from tests.integration.stack import free_port
from tests.unit.channels.local_server import serve


async def _post(http: GuardedHttp, url: str, body: bytes = b"{}", headers: dict[str, str] | None = None) -> HttpAnswer:
    target = await http.guard(url)
    return await http.post_pinned(target, content=body, headers=headers or {"Content-Type": "application/json"})


def test_posts_the_body_with_the_names_host_and_reuses_the_connection() -> None:
    seen: list[tuple[Any, ...]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        seen.append((request.method, request.path_qs, request.host, dict(request.headers), body, peer))
        return web.Response(status=204)

    async def check(http: GuardedHttp, port: int) -> None:
        for n in range(3):
            answer = await _post(http, f"http://127.0.0.1:{port}/hooks/{n}?a=1", b'{"x":1}', {"webhook-id": f"m{n}"})
            assert (answer.status_code, answer.body) == (204, b"")
        assert [s[1] for s in seen] == ["/hooks/0?a=1", "/hooks/1?a=1", "/hooks/2?a=1"]
        method, _, host, headers, body, _ = seen[0]
        assert (method, host, body) == ("POST", f"127.0.0.1:{port}", b'{"x":1}')
        assert (
            headers["webhook-id"] == "m0" and headers["Content-Length"] == "7" and headers["User-Agent"] == "Bantin/1"
        )
        assert len({s[5] for s in seen}) == 1  # one connection, kept alive

    asyncio.run(serve(hook, check))


def test_reads_status_headers_and_a_chunked_body_and_bounds_what_it_keeps() -> None:
    async def answer(request: web.Request) -> web.StreamResponse:
        if request.path == "/busy":
            return web.json_response({"error": "later"}, status=429, headers={"Retry-After": "7"})
        response = web.StreamResponse()  # chunked, longer than we read
        await response.prepare(request)
        for _ in range(3 * MAX_ANSWER_BYTES // 65536):
            await response.write(b"x" * 65536)
        return response

    async def check(http: GuardedHttp, port: int) -> None:
        busy = await _post(http, f"http://127.0.0.1:{port}/busy")
        assert busy.status_code == 429 and busy.headers["retry-after"] == "7" and busy.json() == {"error": "later"}
        streamed = await _post(http, f"http://127.0.0.1:{port}/endless")
        assert streamed.status_code == 200 and len(streamed.body) == MAX_ANSWER_BYTES
        again = await _post(http, f"http://127.0.0.1:{port}/busy")  # a new connection: the other was dropped
        assert again.status_code == 429

    asyncio.run(serve(answer, check))


def test_a_connection_the_server_closes_is_not_used_again() -> None:
    async def closing(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=200, text="ok", headers={"Connection": "close"})

    async def check(http: GuardedHttp, port: int) -> None:
        for _ in range(3):
            answer = await _post(http, f"http://127.0.0.1:{port}/h")
            assert (answer.status_code, answer.text) == (200, "ok")

    asyncio.run(serve(closing, check))


def test_an_answer_without_length_ends_with_the_connection() -> None:
    async def run() -> HttpAnswer:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
            await writer.drain()
            writer.close()

        port = free_port()
        server = await asyncio.start_server(serve, "127.0.0.1", port)
        session = new_http_session(Settings())
        try:
            return await _post(GuardedHttp(session, EgressPolicy.parse("127.0.0.1/32")), f"http://127.0.0.1:{port}/")
        finally:
            await session.close()
            server.close()
            await server.wait_closed()

    answer = asyncio.run(run())
    assert (answer.status_code, answer.body) == (200, b"until the end")


def test_no_answer_is_a_failure_in_the_services_words() -> None:
    async def silent(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response(status=204)

    async def check(http: GuardedHttp, port: int) -> None:
        with pytest.raises(HttpFailure, match="timed out"):
            await _post(http, f"http://127.0.0.1:{port}/slow")
        with pytest.raises(HttpFailure, match="ConnectionRefusedError"):
            await _post(http, f"http://127.0.0.1:{free_port()}/nobody")

    asyncio.run(serve(silent, check, delivery_timeout_seconds=0.3))


def test_what_it_cannot_write_as_is_goes_through_aiohttp() -> None:
    paths: list[str] = []

    async def hook(request: web.Request) -> web.Response:
        paths.append(request.raw_path)
        return web.Response(status=204)

    async def check(http: GuardedHttp, port: int) -> None:
        answer = await _post(http, f"http://127.0.0.1:{port}/tin-tức")
        assert answer.status_code == 204
        with pytest.raises(HttpFailure):  # a line break would start a header of the sender's choosing
            await _post(http, f"http://127.0.0.1:{port}/h", headers={"X-A": "1\r\nX-Injected: 1"})

    asyncio.run(serve(hook, check))
    assert paths == ["/tin-t%E1%BB%A9c"]


def test_an_idle_connection_the_server_dropped_is_replaced_not_waited_on() -> None:
    async def run() -> list[int]:
        async def hook(request: web.Request) -> web.Response:
            return web.Response(status=204)

        app = web.Application()
        app.router.add_post("/{tail:.*}", hook)
        runner = web.AppRunner(app, keepalive_timeout=0.1)  # the server closes idle connections at once
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        session = new_http_session(Settings(delivery_timeout_seconds=5))
        http = GuardedHttp(session, EgressPolicy.parse("127.0.0.1/32"))
        try:
            first = await _post(http, f"http://127.0.0.1:{port}/a")
            await asyncio.sleep(0.4)
            started = asyncio.get_running_loop().time()
            second = await _post(http, f"http://127.0.0.1:{port}/b")
            assert asyncio.get_running_loop().time() - started < 1
            return [first.status_code, second.status_code]
        finally:
            await session.close()
            await runner.cleanup()

    assert asyncio.run(run()) == [204, 204]


def test_https_goes_to_the_pinned_address_and_checks_the_certificate(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TLS with the name for SNI and the certificate check; a certificate from an unknown
    authority is a failure, never a silent downgrade."""
    import ssl

    import trustme

    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_tls)

    async def run(trusted: bool) -> tuple[HttpAnswer, int]:
        async def hook(request: web.Request) -> web.Response:
            return web.Response(status=200, text=request.headers["Host"])

        app = web.Application()
        app.router.add_post("/{tail:.*}", hook)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port, ssl_context=server_tls).start()
        session = new_http_session(Settings())
        try:
            if trusted:
                monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # read by ssl.create_default_context
            http = GuardedHttp(session, EgressPolicy.parse("127.0.0.1/32"))
            answers = [await _post(http, f"https://127.0.0.1:{port}/h") for _ in range(2)]  # the second reuses
            return answers[-1], port
        finally:
            monkeypatch.delenv("SSL_CERT_FILE", raising=False)
            await session.close()
            await runner.cleanup()

    with pytest.raises(HttpFailure, match="SSLCertVerificationError"):
        asyncio.run(run(trusted=False))
    answer, port = asyncio.run(run(trusted=True))
    assert (answer.status_code, answer.text) == (200, f"127.0.0.1:{port}")


async def _raw_server(
    answer: Callable[[int], bytes], check: Callable[[GuardedHttp, int], Awaitable[Any]], endless: bytes = b""
) -> Any:
    """A server writing ``answer(n)`` for the n-th request it reads (over all connections;
    then ``endless`` for ever, when given), reading each request's head and body first."""
    served = iter(range(1000))

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for n in served:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                writer.write(answer(n))
                await writer.drain()
                while endless:
                    writer.write(endless)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    port = free_port()
    server = await asyncio.start_server(serve, "127.0.0.1", port)
    session = new_http_session(Settings(delivery_timeout_seconds=5))
    try:
        return await check(GuardedHttp(session, EgressPolicy.parse("127.0.0.1/32")), port)
    finally:
        await session.close()
        server.close()


def test_an_answer_head_without_end_is_refused_early() -> None:
    async def check(http: GuardedHttp, port: int) -> float:
        started = asyncio.get_running_loop().time()
        with pytest.raises(HttpFailure, match="answer head too large"):
            await _post(http, f"http://127.0.0.1:{port}/")
        return asyncio.get_running_loop().time() - started

    # Headers for ever, and one header value for ever: refused at the bound, not at the 5 s timeout.
    assert asyncio.run(_raw_server(lambda _: b"HTTP/1.1 200 OK\r\n", check, endless=b"X-A: b\r\n")) < 4
    assert asyncio.run(_raw_server(lambda _: b"HTTP/1.1 200 OK\r\nX: ", check, endless=b"a" * 4096)) < 4


def test_bytes_after_an_answer_never_become_the_next_requests_answer() -> None:
    def answers(n: int) -> bytes:
        if n == 0:  # a 204, then the start of another answer nobody asked for
            return b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 410 Gone\r\nX-Stale: 1"
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    async def check(http: GuardedHttp, port: int) -> list[int]:
        return [(await _post(http, f"http://127.0.0.1:{port}/")).status_code for _ in range(2)]

    assert asyncio.run(_raw_server(answers, check)) == [204, 200]


def test_idle_connections_hold_no_answer_and_are_closed_when_stale_or_too_many() -> None:
    from service.channels.keepalive import KeepAlivePool

    async def check(http: GuardedHttp, port: int) -> None:
        pool = KeepAlivePool(keepalive_seconds=0.2, idle_per_origin=4, idle_total=2)
        origins = [("http", "127.0.0.1", port, None), ("http", "127.0.0.1", port, "other-name")]
        request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        for origin in origins:
            await asyncio.gather(*(pool.post(origin, request, 5, 1 << 20) for _ in range(2)))
        idle = [c for queue in pool.idle.values() for c in queue]
        assert len(idle) == 2 and all(c.chunks == [] and c.headers == [] for c in idle)  # the total bound
        await asyncio.sleep(1.1)
        pool._swept_at = 0.0
        await pool.post(origins[0], request, 5, 1 << 20)  # sweeps first: the stale ones are closed
        assert sum(len(q) for q in pool.idle.values()) == 1 and len(pool.opened) <= 1 + 1
        pool.close()

    asyncio.run(_raw_server(lambda _: b"HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n" + b"x" * 65536, check))
