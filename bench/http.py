"""Public GETs next to a bare Starlette app serving the same bytes, in one run.

    python -m bench.http [--databases sqlite,postgresql] [--duration 5] [--connections 16]
                         [--production] [--workers N] [--env BANTIN_X=value ...]

For each database: a fresh Bantin (one API process, no worker) with 50 published
articles (a ~100 KB Atom feed) and the seed key dates, and — in the same run — the
reference (``bench/http_reference.py``: Starlette on uvicorn, one process, the same
bytes with the same ETag, answering 304 on a match). wrk (from Debian's packages;
installed here when missing) drives each endpoint for ``--duration`` seconds against
the reference and Bantin in alternating rounds (``--rounds``, the order swapped each
round, since the shared host's load drifts), and the bench prints the median req/s for
both and the ratio, with every round's figure.
Goal: every ratio at least 0.8.

The API runs as ``make run`` starts it (``bantin api``, one process, text logs) unless
``--production``: BANTIN_ENVIRONMENT=production (JSON logs) and ``--workers 2`` as
deploy/compose.yaml runs it; ``--workers`` runs that many processes on both sides (the
reference too, for a fair floor); ``--env`` adds settings (e.g. BANTIN_ACCESS_LOG_SAMPLE=0).

Environment: BANTIN_TEST_POSTGRES_URL, BANTIN_TEST_REDIS_URL (defaults: the local servers).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.integration.conftest import REDIS_URL, create_database, drop_database
from tests.integration.stack import REPO, Stack, free_port, wait_until

ARTICLES = 50
BODY = "<p>Nội dung bài viết về ngày kỷ niệm, " + "đầy đủ và chính xác " * 50 + "</p>"


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    conditional: bool


CASES = (
    Case("feed 200", "/feeds/atom.xml", False),
    Case("feed 304", "/feeds/atom.xml", True),
    Case("calendar.ics 200", "/calendar.ics", False),
    Case("calendar.ics 304", "/calendar.ics", True),
    Case("home page 304", "/", True),
    Case("healthz", "/healthz", False),
)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing it from Debian's packages", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed")
    return found


def wrk(binary: str, url: str, duration: int, connections: int, headers: dict[str, str]) -> float:
    argv = [binary, "-t1", f"-c{connections}", f"-d{duration}s"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run([*argv, url], check=True, capture_output=True, text=True).stdout
    if "Non-2xx or 3xx" in out:
        raise RuntimeError(f"wrk saw errors from {url}:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{out}")
    return float(match.group(1))


def seed(stack: Stack) -> None:
    """50 published articles and their feeds, written in-process before the API starts."""
    for name, value in stack.env.items():
        if name.startswith("BANTIN_"):
            os.environ[name] = value
    from config.settings import get_settings
    from service.articles.editorial import OPERATOR
    from service.articles.schemas import ArticleCreate
    from service.articles.service import create_article
    from service.db.engine import get_engine, get_sessionmaker, session_scope
    from service.db.migrate import upgrade
    from service.db.types import utcnow
    from service.feeds.publish import render_scope
    from service.feeds.scopes import SITE

    get_settings.cache_clear()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()
    upgrade()
    with session_scope() as session:
        for n in range(ARTICLES):
            data = ArticleCreate(
                title=f"Kỷ niệm {n} năm Ngày thành lập Đảng Cộng sản Việt Nam",
                body_html=BODY,
                summary=f"Tóm tắt bài {n}",
                categories=["Xây dựng Đảng"],
                author="Ban Tuyên giáo",
            )
            create_article(session, data, utcnow(), get_settings(), OPERATOR)
    with session_scope() as session:
        render_scope(session, SITE, utcnow(), get_settings())
    get_engine().dispose()


def start_reference(folder: Path, log_dir: Path, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = open(log_dir / "reference.log", "ab")  # noqa: SIM115 - lives as long as the process
    uvicorn = ["-m", "uvicorn", "bench.http_reference:app", "--port", str(port), "--proxy-headers"]
    process = subprocess.Popen(
        [sys.executable, *uvicorn, "--workers", str(workers)],
        env={**os.environ, "BENCH_REFERENCE_DIR": str(folder)},
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answers, 30, "the reference to answer")
    return process, base


def save_reference(bantin_base: str, folder: Path) -> dict[str, str]:
    """The bytes, type and ETag Bantin serves, for the reference to serve; returns the ETags."""
    index, etags = {}, {}
    for n, path in enumerate(sorted({case.path for case in CASES if case.path != "/healthz"})):
        # As wrk asks (no Accept-Encoding): the identity bytes and *their* ETag. httpx asks for
        # gzip and brotli by default and decodes, which gave the reference identity bytes under
        # the brotli variant's ETag, so Bantin answered wrk's "304" requests with 200s.
        response = httpx.get(f"{bantin_base}{path}", headers={"Accept-Encoding": "identity"}, timeout=30)
        response.raise_for_status()
        etag = response.headers.get("etag") or f'"reference-{n}"'
        (folder / f"doc{n}").write_bytes(response.content)
        index[path] = {"file": f"doc{n}", "type": response.headers["content-type"], "etag": etag}
        etags[path] = etag
        print(f"  {path}: {len(response.content):,} bytes, ETag {response.headers.get('etag')}")
    (folder / "index.json").write_text(json.dumps(index))
    return etags


def _runs(values: list[float]) -> str:
    return "/".join(f"{v:,.0f}" for v in values)


def profile_api(stack: Stack, args: argparse.Namespace, binary: str) -> None:
    """py-spy the API process (and its --workers children) while wrk sends feed 200s, then 304s; writes flame graphs."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    pid = stack.processes["api"].pid
    for name, headers in (("feed-200", {}), ("feed-304", {"If-None-Match": "*"})):
        out = Path(tempfile.gettempdir()) / f"bench-http-{name}.svg"
        spying = subprocess.Popen(
            # --subprocesses: with --workers N the requests are served by uvicorn's children.
            [spy, "record", "-p", str(pid), "--subprocesses", "-o", str(out), "-d", str(args.duration), "-r", "200"]
        )
        wrk(binary, stack.base_url + "/feeds/atom.xml", args.duration, args.connections, headers)
        spying.wait(60)
        print(f"  profile: {out}")


def run_database(kind: str, args: argparse.Namespace, binary: str) -> list[tuple[str, float, float]]:
    database_name = None
    with tempfile.TemporaryDirectory(prefix="bantin-bench-http-") as tmp:
        root = Path(tmp)
        if kind == "postgresql":
            database_name = f"bantin_bench_{uuid.uuid4().hex[:8]}"
            database_url = create_database(database_name)
        else:
            database_url = f"sqlite:///{root / 'bantin.db'}"
        extra = dict(item.split("=", 1) for item in args.env)
        if args.production:
            extra.setdefault("BANTIN_ENVIRONMENT", "production")
        stack = Stack(database_url, args.redis_url, root / "logs", **extra)
        reference = None
        try:
            seed(stack)
            if args.workers == 1:
                stack.start_api()
            else:
                stack.start("api", "api", "--port", str(stack.port), "--no-migrate", "--workers", str(args.workers))
                wait_until(stack._api_answers, 180, "the API to answer /healthz")
            folder = root / "reference"
            folder.mkdir()
            etags = save_reference(stack.base_url, folder)
            reference, reference_base = start_reference(folder, root / "logs", args.workers)
            if args.profile:
                profile_api(stack, args, binary)
            rows = []
            for case in CASES:
                headers = {"If-None-Match": etags[case.path]} if case.conditional else {}
                ours_url, theirs_url = stack.base_url + case.path, reference_base + case.path
                # Warm both (first requests load code and fill caches), then measure in
                # rounds that alternate which goes first: the host's load drifts.
                wrk(binary, theirs_url, 1, args.connections, headers)
                wrk(binary, ours_url, 1, args.connections, headers)
                ours_runs: list[float] = []
                theirs_runs: list[float] = []
                for n in range(args.rounds):
                    pair = [(theirs_runs, theirs_url), (ours_runs, ours_url)]
                    for runs, url in pair if n % 2 == 0 else pair[::-1]:
                        runs.append(wrk(binary, url, args.duration, args.connections, headers))
                ours, theirs = statistics.median(ours_runs), statistics.median(theirs_runs)
                rows.append((case.name, ours, theirs))
                print(
                    f"  {case.name:<18} Bantin {ours:>9,.0f} req/s   reference {theirs:>9,.0f} req/s   "
                    f"ratio {ours / theirs:.2f}   (rounds: {_runs(ours_runs)} vs {_runs(theirs_runs)})",
                    flush=True,
                )
            return rows
        finally:
            if reference is not None:
                reference.terminate()
                reference.wait(10)
            stack.stop_all()
            if database_name is not None:
                drop_database(database_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per request (median)")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--profile", action="store_true", help="py-spy the API first (flame graphs in the temp dir)")
    parser.add_argument("--production", action="store_true", help="BANTIN_ENVIRONMENT=production, --workers 2")
    parser.add_argument("--workers", type=int, default=None, help="API and reference processes (default 1)")
    parser.add_argument("--env", action="append", default=[], help="BANTIN_NAME=value for the API (repeatable)")
    args = parser.parse_args()
    if args.workers is None:
        args.workers = 2 if args.production else 1
    binary = ensure_wrk()
    results = {}
    for kind in args.databases.split(","):
        load = os.getloadavg()[0]
        print(
            f"{kind}: {args.workers} API process(es){' (production)' if args.production else ''} {args.env}, "
            f"wrk -t1 -c{args.connections} -d{args.duration:g}s, load average {load:.1f}",
            flush=True,
        )
        started = time.perf_counter()
        results[kind] = run_database(kind, args, binary)
        print(f"  ({time.perf_counter() - started:.0f} s, load average {os.getloadavg()[0]:.1f})")
    print("\n| database | request | Bantin req/s | reference req/s | ratio |\n| --- | --- | --- | --- | --- |")
    for kind, rows in results.items():
        for name, ours, theirs in rows:
            print(f"| {kind} | {name} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f} |")


if __name__ == "__main__":
    main()
