"""What inputs that declare more than they weigh cost a real ``bantin api`` (issue 18, items 3, 8, 15).

    python -m bench.budgets [--repo DIR] [--redis URL] [--timeout S] [--legit] [--only TEXT]

Starts ``bantin api`` from DIR (default: this checkout; another checkout gives the
"before" figures) on SQLite in a temporary directory, signs an admin in, then sends
each input and prints its answer, how long it took, the growth of the API process's
peak resident memory (VmHWM, reset before each input) and the peak resident memory
of its child processes (the image decoders; sampled every 20 ms). ``--legit`` adds the
largest images the default budget accepts (50 million pixels; animations of 98
million), to show what the decoder's memory and time limits must allow.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
from PIL import Image

from tests.integration.processes import children, reset_peak, status_kib
from tests.integration.stack import free_port, wait_until
from tests.unit.media.bombs import apng_animation, gif_animation, webp_animation

REPO = Path(__file__).resolve().parents[1]
PASSWORD = secrets.token_urlsafe(16)
# Longer than any input is given (--timeout): a request is abandoned, never cut by the client.
CLIENT_SECONDS = 3600.0
KEY_DATES = itertools.count(1)


class Api:
    """``bantin api`` from ``repo`` and an admin signed in to its console."""

    def __init__(self, repo: Path, redis_url: str, var: Path) -> None:
        self.repo, self.port = repo, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BANTIN_")}
        self.env.update(
            BANTIN_ENVIRONMENT="test",
            BANTIN_SECRET_KEY=secrets.token_urlsafe(32),
            BANTIN_DATABASE_URL=f"sqlite:///{var}/bantin.db",
            BANTIN_REDIS_URL=redis_url,
            BANTIN_VAR_DIR=str(var),
            BANTIN_BASE_URL=self.base,
            BANTIN_LOG_LEVEL="WARNING",
        )
        self.bantin("db", "upgrade")
        self.bantin("users", "create", "--username", "quantri", "--role", "admin", stdin=PASSWORD + "\n")
        self.token = self.bantin("tokens", "create", "--name", "bench", "--scope", "admin").splitlines()[-1]
        log = open(var / "api.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli.main", "api", "--port", str(self.port), "--no-migrate"],
            cwd=repo,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._answers, 60, "the API to answer")
        self.console = httpx.Client(base_url=self.base, headers={"Origin": self.base}, timeout=CLIENT_SECONDS)
        page = self.console.get("/console/login").text
        login = re.search(r'name="login_csrf" value="([^"]+)"', page)
        assert login
        form = {"username": "quantri", "password": PASSWORD, "login_csrf": login.group(1)}
        assert self.console.post("/console/login", data=form).status_code == 303
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', self.console.get("/console/").text)
        assert csrf
        self.csrf = csrf.group(1)

    def bantin(self, *args: str, stdin: str = "") -> str:
        done = subprocess.run(
            [sys.executable, "-m", "service.cli.main", *args],
            cwd=self.repo,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.console.close()
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def children_peak(pid: int) -> Iterator[list[int]]:
    """Yields a list whose one item becomes the largest sum of the children's VmRSS (KiB) seen."""
    peak, done = [0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            total = 0
            for child in children(pid):
                with contextlib.suppress(OSError, AssertionError):  # gone between the listing and the read
                    total += status_kib(child, "VmRSS")
            peak[0] = max(peak[0], total)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield peak
    finally:
        done.set()
        watcher.join()


def measure(api: Api, name: str, send: Callable[[], str], timeout: float) -> None:
    pid = api.process.pid
    reset_peak(pid)
    before = status_kib(pid, "VmRSS")
    start = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=1)
    with children_peak(pid) as peak:
        future = pool.submit(send)
        try:
            answer = future.result(timeout=timeout)
        except TimeoutError:
            answer = f"no answer after {timeout:g} s"
        elapsed = time.monotonic() - start
        growth = status_kib(pid, "VmHWM") - before
    pool.shutdown(wait=False)  # a request still running ends when the API is stopped
    print(f"| {name} | {answer[:70]} | {elapsed:,.2f} s | {growth / 1024:,.0f} MB | {peak[0] / 1024:,.0f} MB |")
    if answer.startswith("no answer"):  # the API is still at it: restart it for what follows
        raise TimeoutError(name)


def upload(api: Api, data: bytes) -> Callable[[], str]:
    def send() -> str:
        files = {"file": ("anh", data, "application/octet-stream")}
        answer = api.console.post("/console/media", data={"csrf_token": api.csrf}, files=files)
        return f"{answer.status_code} {answer.json().get('message', '')}"

    return send


def raw_head(api: Api, header_bytes: int, parallel: int = 1) -> Callable[[], str]:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * header_bytes + b"\r\nConnection: close\r\n\r\n"

    def one(_: int) -> str:
        try:
            with socket.create_connection(("127.0.0.1", api.port), timeout=120) as connection:
                connection.sendall(request)
                return connection.recv(64).split(b"\r\n")[0].decode()
        except OSError as exc:
            return type(exc).__name__

    def send() -> str:
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            return ", ".join(sorted(set(pool.map(one, range(parallel)))))

    return send


def key_date(api: Api, template: str) -> Callable[[], str]:
    # A name of its own each time: a second "Ngày đo" would be a 409 for its id, not its template.
    body = {"name": f"Ngày đo {next(KEY_DATES)}", "calendar": "solar", "day": 3, "month": 2, "origin_year": 1930}

    def send() -> str:
        answer = httpx.post(
            f"{api.base}/api/v1/calendar/key-dates",
            json={**body, "templates": {"vi": template}},
            headers={"Authorization": f"Bearer {api.token}"},
            timeout=CLIENT_SECONDS,
        )
        detail = answer.json().get("detail")
        return f"{answer.status_code} {detail[0]['message'][-60:] if isinstance(detail, list) else ''}"

    return send


def encoded(fmt: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(out, fmt)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=REPO)
    parser.add_argument("--redis", default=os.environ.get("BANTIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--legit", action="store_true")
    parser.add_argument("--only", default="", help="only the inputs whose name contains this")
    args = parser.parse_args()

    inputs: list[tuple[str, Callable[[Api], Callable[[], str]]]] = [
        ("GIF, 40 frames × 7,000²", lambda api: upload(api, gif_animation(40, 7000, 7000))),
        ("APNG, 40 frames × 7,000²", lambda api: upload(api, apng_animation(40, 7000, 7000))),
        ("WebP, 40 frames × 7,000² canvas", lambda api: upload(api, webp_animation(40, 7000, 7000))),
        ("header of 8 MB", lambda api: raw_head(api, 8_000_000)),
        ("4 parallel headers of 50 MB", lambda api: raw_head(api, 50_000_000, 4)),
        ("template 'x' * 10**7", lambda api: key_date(api, "{{ 'x' * 10**7 }}")),
        (
            "template 2,000 × 2,000 loop",
            lambda api: key_date(api, "{% for i in range(2000) %}{% for j in range(2000) %}{% endfor %}{% endfor %}x"),
        ),
        ("template '%0999999999d' % 1", lambda api: key_date(api, "{{ '%0999999999d' % 1 }}")),
    ]
    if args.legit:
        inputs += [
            ("JPEG 7,071² (50 million pixels)", lambda api: upload(api, encoded("JPEG", (7071, 7071)))),
            ("PNG 7,071²", lambda api: upload(api, encoded("PNG", (7071, 7071)))),
            ("WebP 7,071²", lambda api: upload(api, encoded("WEBP", (7071, 7071)))),
            ("GIF, 2 frames × 7,000² (98 million)", lambda api: upload(api, gif_animation(2, 7000, 7000))),
            ("APNG, 2 frames × 7,000²", lambda api: upload(api, apng_animation(2, 7000, 7000))),
            ("WebP, 2 frames × 7,000²", lambda api: upload(api, webp_animation(2, 7000, 7000))),
        ]
    inputs = [(name, make) for name, make in inputs if args.only in name]
    commit = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=args.repo, text=True).strip()
    print(f"code: {args.repo} ({commit})")
    print("| input | answer | time | API peak RSS growth | decoders' peak RSS |\n| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        api = Api(args.repo, args.redis, Path(folder))
        try:
            for name, make in inputs:
                try:
                    measure(api, name, make(api), args.timeout)
                except TimeoutError:
                    api.stop()
                    api = Api(args.repo, args.redis, Path(tempfile.mkdtemp(dir=folder)))
        finally:
            api.stop()


if __name__ == "__main__":
    main()
