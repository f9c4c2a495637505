"""A lean HTTP/1.1 client for POSTs to origins the egress guard has pinned (decision 0047).

A fan-out is thousands of POSTs of one body to subscribers' URLs, most of them on a few
origins, each already checked and pinned to an address by the guard. aiohttp's request
machinery (a URL object, request and response objects, payload writers, connector and
cookie bookkeeping, a timer context, a task per request) cost more CPU per delivery than
everything else a worker does for it (bench/README.md, fan-out, 2026-12-07). Here a
request is one ``bytes`` written to a kept-alive connection and the answer is read by
httptools (llhttp, the C parser uvicorn uses): the same wire, a fraction of the objects.

What it does not do, on purpose: redirects (never followed anyway), proxies, cookies,
compression (nothing is asked for, so answers come as they are), pipelining. A URL it
cannot write byte for byte (non-ASCII, spaces) and every other method stay on aiohttp.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Any

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

# Where to connect: scheme, address (a literal), port, and the name TLS checks (https only).
OriginKey = tuple[str, str, int, str | None]
Answer = tuple[int, CIMultiDictProxy[str], bytes]
# An answer's head (status line and headers, 1xx answers included) is refused past these:
# llhttp bounds neither, and a receiver streaming headers would otherwise fill the worker's
# memory until the timeout (aiohttp's client refused more than 128 headers or 8 KiB lines).
MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 128


class NoAnswer(Exception):
    """No whole answer: refused, reset, closed early, timed out or unparsable. Short words, no secret."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, its answer parsed as it arrives."""

    def __init__(self, pool: KeepAlivePool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.answer: asyncio.Future[Answer] | None = None
        self.lost = False
        self.reusable = False
        self.idle_since = 0.0
        self.max_bytes = 0
        self.head_bytes = 0  # bytes fed to the parser before the final answer's head ended
        self.head_done = False
        self.complete = False  # the answer to this request ended
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.size = 0
        self.interim = False

    def start(self, answer: asyncio.Future[Answer], max_bytes: int) -> None:
        self.answer, self.max_bytes, self.reusable = answer, max_bytes, False
        self.head_bytes, self.head_done, self.complete = 0, False, False
        self._reset()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.pool.opened.add(self)

    def data_received(self, data: bytes) -> None:
        if self.answer is None or self.answer.done():
            self.close()  # bytes nobody asked for: this connection's framing cannot be trusted
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:  # an upgrade included: we never ask for one
            self._fail(f"bad answer: {type(exc).__name__}")
            return
        if not self.head_done:
            self.head_bytes += len(data)
            if self.head_bytes > MAX_HEAD_BYTES:
                self._fail("answer head too large")

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.pool.opened.discard(self)
        if self.answer is None or self.answer.done():
            return
        framed = any(name.lower() in ("content-length", "transfer-encoding") for name, _ in self.headers)
        if self.status and not self.interim and not framed:
            self._finish()  # HTTP/1.1 §6.3: an answer without length ends when the connection does
        else:
            self._fail("ServerDisconnectedError")

    # httptools callbacks

    def on_message_begin(self) -> None:
        if self.complete:
            # Another answer after this request's: the server's framing is off (bytes left from
            # a proxy's bug, say). It must not become the next request's answer.
            self.close(abort=True)

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= MAX_HEADERS:
            self._fail("answer head too large")
            raise _Refused  # stops the parser (httptools raises HttpParserCallbackError)
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.interim = 100 <= self.status < 200  # 100 Continue and the like: the answer follows
        self.head_done = not self.interim

    def on_body(self, body: bytes) -> None:
        room = self.max_bytes - self.size
        if room <= 0:
            return
        self.chunks.append(body if len(body) <= room else body[:room])
        self.size += min(len(body), room)
        if self.size >= self.max_bytes:
            # A receiver streaming more is not held in memory; the rest of it is dropped with the connection.
            self._finish()
            self.close()

    def on_message_complete(self) -> None:
        if self.interim:
            self._reset()
            return
        self.complete = True
        self.reusable = self.parser.should_keep_alive() and not self.lost
        self._finish()

    # the answer

    def _finish(self) -> None:
        if self.answer is not None and not self.answer.done():
            headers = CIMultiDictProxy(CIMultiDict(self.headers))
            self.answer.set_result((self.status, headers, b"".join(self.chunks)))

    def _fail(self, words: str) -> None:
        self.reusable = False
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(NoAnswer(words))
        self.close(abort=True)

    def time_out(self) -> None:
        self._fail("timed out")

    def close(self, abort: bool = False) -> None:
        """Never reused from now (``connection_lost`` comes a loop turn later). ``abort``: at
        once, dropping unsent bytes — a failed exchange's peer may have stopped reading, and
        a graceful close would wait for it with the descriptor held."""
        self.reusable, self.lost = False, True
        if self.transport is not None:
            if abort:
                self.transport.abort()
            else:
                self.transport.close()

    def forget_answer(self) -> None:
        """Drop the last answer's headers and body (an idle connection holds no answer)."""
        self.answer = None
        self._reset()


class _Refused(Exception):
    """Raised from a parser callback to stop parsing an answer already failed."""


class KeepAlivePool:
    """Idle connections per origin, reused last-in first-out (the warmest first). At most
    ``idle_per_origin`` kept per origin and ``idle_total`` in all (the oldest closed first);
    one idle longer than ``keepalive_seconds`` is closed at the next sweep (at most once a
    second, from :meth:`post`: a worker's loop runs only while it sends, so a timer would
    not fire between batches either). An idle connection holds no answer. One per process
    and event loop, beside the aiohttp session (``service.channels.http.new_http_session``)."""

    def __init__(self, keepalive_seconds: float = 30.0, idle_per_origin: int = 64, idle_total: int = 128) -> None:
        self.keepalive_seconds = keepalive_seconds
        self.idle_per_origin = idle_per_origin
        self.idle_total = idle_total
        self.idle: dict[OriginKey, deque[_Connection]] = {}
        self.opened: set[_Connection] = set()
        self._idle_count = 0
        self._swept_at = 0.0
        self._tls: ssl.SSLContext | None = None

    async def post(
        self, origin: OriginKey, request: bytes, timeout: float, max_bytes: int
    ) -> tuple[int, CIMultiDictProxy[str], bytes]:
        """Write ``request`` (head and body, whole) on a connection to ``origin`` and read
        the answer: status, headers, at most ``max_bytes`` of body; NoAnswer otherwise.
        ``timeout`` (seconds) bounds the whole call, connecting included."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        deadline = now + timeout
        self._sweep(now)
        connection = self._take(origin, now)
        if connection is None:
            try:
                connection = await asyncio.wait_for(self._connect(loop, origin), timeout)
            except TimeoutError:
                raise NoAnswer("timed out") from None
            except OSError as exc:  # refused, unreachable, TLS refused (ssl.SSLError is an OSError)
                raise NoAnswer(type(exc).__name__) from None
        answer: asyncio.Future[Answer] = loop.create_future()
        connection.start(answer, max_bytes)
        timer = loop.call_at(deadline, connection.time_out)
        try:
            if connection.transport is None or connection.transport.is_closing():
                raise NoAnswer("ServerDisconnectedError")
            connection.transport.write(request)
            result = await answer
        except BaseException:
            connection.close(abort=True)  # cancelled or failed mid-answer: its framing is lost
            raise
        finally:
            timer.cancel()
        if connection.reusable and not connection.lost:
            self._give_back(origin, connection, loop.time())
        else:
            connection.close()
        return result

    def _usable(self, connection: _Connection, now: float) -> bool:
        # is_closing: the peer's close seen, its connection_lost not yet run.
        transport = connection.transport
        fresh = now - connection.idle_since <= self.keepalive_seconds
        return fresh and not connection.lost and transport is not None and not transport.is_closing()

    def _take(self, origin: OriginKey, now: float) -> _Connection | None:
        idle = self.idle.get(origin)
        while idle:
            connection = idle.pop()
            self._idle_count -= 1
            if self._usable(connection, now):
                return connection
            connection.close()
        return None

    def _give_back(self, origin: OriginKey, connection: _Connection, now: float) -> None:
        connection.forget_answer()
        connection.idle_since = now
        idle = self.idle.setdefault(origin, deque())
        if len(idle) >= self.idle_per_origin:
            connection.close()
            return
        if self._idle_count >= self.idle_total:
            self._close_oldest()
        idle.append(connection)
        self._idle_count += 1

    def _close_oldest(self) -> None:
        """Close the connection idle the longest, of any origin (each deque's left end is its oldest)."""
        origin = min((key for key, idle in self.idle.items() if idle), key=lambda key: self.idle[key][0].idle_since)
        self.idle[origin].popleft().close()
        self._idle_count -= 1
        if not self.idle[origin]:
            del self.idle[origin]

    def _sweep(self, now: float) -> None:
        """Close idle connections past ``keepalive_seconds`` or closed by their peer, and
        forget origins with none left; at most once a second."""
        if now - self._swept_at < 1.0:
            return
        self._swept_at = now
        for origin in list(self.idle):
            idle = self.idle[origin]
            kept = deque(c for c in idle if self._usable(c, now))
            for connection in idle:
                if connection not in kept:
                    connection.close()
            self._idle_count -= len(idle) - len(kept)
            if kept:
                self.idle[origin] = kept
            else:
                del self.idle[origin]

    async def _connect(self, loop: asyncio.AbstractEventLoop, origin: OriginKey) -> _Connection:
        scheme, address, port, server_hostname = origin
        tls: dict[str, Any] = {}
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = {"ssl": self._tls, "server_hostname": server_hostname}
        _, connection = await loop.create_connection(lambda: _Connection(self), address, port, **tls)
        return connection

    def close(self) -> None:
        """Close every connection, idle or not (the session is closing)."""
        for connection in list(self.opened):
            connection.close()
        self.idle.clear()
        self._idle_count = 0
