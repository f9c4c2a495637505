"""What Bantin adds per request on its fastest path, measured in one process, no network.

    python -m bench.http_inprocess [--requests 20000] [--rounds 3] [--profile feed-304]

Seeds a SQLite database as ``bench.http`` does (50 articles, the site feeds, the seed
key dates), then calls the ASGI application ``bantin api`` serves (``create_app()``, in
prometheus-client's multiprocess mode and with the logging ``bantin api`` configures,
its lines written to a file) and the async reference (``bench/http_reference.py``) with
the same bytes, directly: ``await app(scope, receive, send)`` on one event loop. Prints
the CPU µs per request of both and the difference, per request kind, in rounds that
alternate the order. ``--profile NAME`` runs cProfile around Bantin for that kind and
prints the functions with the most own time. What uvicorn and the socket cost is the
same on both sides and not here (``bench.http`` measures the whole).

Environment: BANTIN_* settings of the run may be given (e.g. BANTIN_ACCESS_LOG_SAMPLE=0).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Asgi = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]
ARTICLES = 50
KINDS = ("feed-200", "feed-304", "calendar-200", "calendar-304", "healthz")


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"user-agent", b"wrk"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


class _Sink:
    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        else:
            self.body += message.get("body", b"")


async def _call(app: Asgi, path: str, headers: list[tuple[bytes, bytes]]) -> _Sink:
    sink = _Sink()
    await app(_scope(path, headers), _receive, sink)
    return sink


async def _cpu_per_request(app: Asgi, path: str, headers: list[tuple[bytes, bytes]], count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        await app(_scope(path, headers), _receive, _Sink())
    return (time.process_time() - started) / count * 1e6


def _prepare(root: Path) -> None:
    os.environ.setdefault("BANTIN_ENVIRONMENT", "test")
    os.environ.setdefault("BANTIN_SECRET_KEY", "bench-inprocess-secret-key-0123456789")
    os.environ["BANTIN_DATABASE_URL"] = f"sqlite:///{root / 'bantin.db'}"
    os.environ["BANTIN_VAR_DIR"] = str(root / "var")
    os.environ.setdefault("BANTIN_LOG_FORMAT", "json")
    from service.observability import multiprocess

    multiprocess.use_directory(root / "metrics")  # as `bantin api` does, before prometheus-client


def _seed() -> None:
    """``bench.http``'s 50 articles and site feeds (not imported from there: it imports the
    tests' environment, which sets BANTIN_FEED_RECHECK_SECONDS=0)."""
    from config.settings import get_settings
    from service.articles.editorial import OPERATOR
    from service.articles.schemas import ArticleCreate
    from service.articles.service import create_article
    from service.db.engine import get_engine, session_scope
    from service.db.migrate import upgrade
    from service.db.types import utcnow
    from service.feeds.publish import render_scope
    from service.feeds.scopes import SITE

    upgrade()
    body = "<p>Nội dung bài viết về ngày kỷ niệm, " + "đầy đủ và chính xác " * 50 + "</p>"
    with session_scope() as session:
        for n in range(ARTICLES):
            data = ArticleCreate(
                title=f"Kỷ niệm {n} năm Ngày thành lập Đảng Cộng sản Việt Nam",
                body_html=body,
                summary=f"Tóm tắt bài {n}",
                categories=["Xây dựng Đảng"],
                author="Ban Tuyên giáo",
            )
            create_article(session, data, utcnow(), get_settings(), OPERATOR)
    with session_scope() as session:
        render_scope(session, SITE, utcnow(), get_settings())
    get_engine().dispose()


async def _main(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="bantin-bench-inproc-"))
    _prepare(root)
    from config.settings import get_settings
    from service.api.app import _prepare as prepare_app
    from service.api.app import create_app
    from service.observability.logs import configure_from_settings

    _seed()
    get_settings.cache_clear()
    prepare_app_settings = get_settings()
    log_file = open(root / "api.log", "a")  # noqa: SIM115 - the run's length
    sys.stderr, saved_stderr = log_file, sys.stderr
    configure_from_settings("api", prepare_app_settings)
    sys.stderr = saved_stderr
    await asyncio.to_thread(prepare_app)
    bantin: Asgi = create_app()  # type: ignore[assignment]

    docs = {"feed": "/feeds/atom.xml", "calendar": "/calendar.ics"}
    folder = root / "reference"
    folder.mkdir()
    index, etags = {}, {}
    for n, path in enumerate(docs.values()):
        answer = await _call(bantin, path, [])
        assert answer.status == 200, (path, answer.status, answer.body[:200])
        answered = dict(answer.headers)
        etags[path] = answered[b"etag"]
        (folder / f"doc{n}").write_bytes(answer.body)
        index[path] = {"file": f"doc{n}", "type": answered[b"content-type"].decode(), "etag": etags[path].decode()}
    (folder / "index.json").write_text(json.dumps(index))
    os.environ["BENCH_REFERENCE_DIR"] = str(folder)
    from bench.http_reference import app as reference_app

    reference: Asgi = reference_app  # type: ignore[assignment]
    cases: dict[str, tuple[str, list[tuple[bytes, bytes]]]] = {"healthz": ("/healthz", [])}
    for name, path in docs.items():
        cases[f"{name}-200"] = (path, [])
        cases[f"{name}-304"] = (path, [(b"if-none-match", etags[path])])
    for name, (path, headers) in cases.items():
        for app in (bantin, reference):
            answer = await _call(app, path, headers)
            assert answer.status == (304 if name.endswith("304") else 200), (name, answer.status)
    print(f"load average {os.getloadavg()[0]:.1f}; {args.requests:,} requests a round; CPU µs per request")
    for name in KINDS:
        path, headers = cases[name]
        ours: list[float] = []
        theirs: list[float] = []
        for n in range(args.rounds):
            pair: list[tuple[list[float], Asgi]] = [(theirs, reference), (ours, bantin)]
            for runs, app in pair if n % 2 == 0 else pair[::-1]:
                runs.append(await _cpu_per_request(app, path, headers, args.requests))
        o, t = statistics.median(ours), statistics.median(theirs)
        print(
            f"  {name:<13} Bantin {o:6.1f}  reference {t:6.1f}  added {o - t:6.1f}   "
            f"(rounds {'/'.join(f'{v:.1f}' for v in ours)} vs {'/'.join(f'{v:.1f}' for v in theirs)})",
            flush=True,
        )
    if args.profile:
        path, headers = cases[args.profile]
        profiler = cProfile.Profile()
        profiler.enable()
        await _cpu_per_request(bantin, path, headers, args.requests)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", choices=KINDS)
    parser.add_argument("--top", type=int, default=25)
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
