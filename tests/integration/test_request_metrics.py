"""Request counts and latencies added up in each API process and flushed once a second
(decision 0046): with ``bantin api --workers 2`` a scrape shows every request of both
processes exactly once; BANTIN_ACCESS_LOG_SAMPLE=0 writes no access line (server errors'
are tests/unit/api/test_access_log.py's)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.stack import Stack, wait_until

REQUESTS = 300


@pytest.fixture(scope="module")
def two_processes(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """``bantin api --workers 2`` on SQLite, JSON logs, no access lines (as behind nginx)."""
    directory = tmp_path_factory.mktemp("request-metrics")
    stack = Stack(
        f"sqlite:///{directory / 'bantin.db'}",
        redis_url,
        directory,
        BANTIN_LOG_FORMAT="json",
        BANTIN_ACCESS_LOG_SAMPLE="0",
    )
    assert stack.run("db", "upgrade").returncode == 0
    stack.start("api", "api", "--port", str(stack.port), "--no-migrate", "--workers", "2")
    try:
        wait_until(stack._api_answers, 60, "the API to answer /healthz")
        yield stack
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.stop_all()


def counted(base: str, name: str, **labels: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def processes_that_counted(stack: Stack) -> set[str]:
    """The pids with a counter file in the API's multiprocess directory (``counter_<pid>.db``)."""
    folder = Path(stack.env["BANTIN_VAR_DIR"]) / "metrics" / f"api-{stack.port}"
    return {path.stem.removeprefix("counter_") for path in folder.glob("counter_*.db")}


def test_every_request_of_both_processes_is_counted_once_after_the_flush(two_processes: Stack) -> None:
    base = two_processes.base_url
    before = counted(base, "bantin_http_requests_total", route="/healthz", status="200")
    feeds_before = counted(base, "bantin_feed_requests_total", feed="site", format="atom", status="200")
    with httpx.Client(base_url=base, timeout=10) as one, ThreadPoolExecutor(8) as pool:
        # New connections as well as kept ones, in parallel: both processes answer some.
        answers = list(pool.map(lambda n: (one if n % 2 else httpx).get(f"{base}/healthz"), range(REQUESTS)))
        feeds = list(pool.map(lambda _: httpx.get(f"{base}/feeds/atom.xml"), range(50)))
    assert {a.status_code for a in answers} == {200} and {f.status_code for f in feeds} == {200}
    wait_until(
        lambda: counted(base, "bantin_http_requests_total", route="/healthz", status="200") - before == REQUESTS,
        15,
        "both processes' /healthz counts to be flushed",
    )
    wait_until(
        lambda: (
            counted(base, "bantin_feed_requests_total", feed="site", format="atom", status="200") - feeds_before == 50
        ),
        15,
        "the feed counts to be flushed",
    )
    assert len(processes_that_counted(two_processes)) == 2
    # Later scrapes (each flushing the process that answers it) add nothing more.
    for _ in range(4):
        assert counted(base, "bantin_http_requests_total", route="/healthz", status="200") - before == REQUESTS
    latency = counted(base, "bantin_http_request_duration_seconds_count", method="GET", route="/healthz")
    assert latency - before >= REQUESTS  # the histogram's count moves with the counter (earlier scrapes add too)
    inf = counted(base, "bantin_http_request_duration_seconds_bucket", route="/healthz", le="+Inf")
    assert inf == latency


def test_no_access_line_is_written_when_the_sample_is_zero(two_processes: Stack) -> None:
    # A path no other test asks for: any line naming it is an access line, ours or uvicorn's
    # (which would name the raw path: a reader's token, say).
    path = "/r/unsubscribe-token-sampled-out"
    assert httpx.get(f"{two_processes.base_url}{path}").status_code == 404
    log = two_processes.log_dir / "api.log"
    wait_until(lambda: "Application startup complete" in log.read_text(), 10, "the API's startup lines")
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert records, "the API logs nothing at all"
    assert [r for r in records if r.get("logger") in ("bantin.access", "uvicorn.access")] == []
    assert path not in log.read_text()
