"""Publish latency: POST returning → item served by ``GET /feeds/atom.xml``.

Starts the real API, a Celery worker and beat on PostgreSQL and Redis (as the
integration tests do), publishes 200 articles of varied Vietnamese text (~3.5 kB each)
one after another (two a second by default; ``--interval 0``: each as soon as the last
is served, where the worker's throughput, not latency, decides), and prints
p50/p95/p99. Then, in the same run, times rendering one 50-item Atom feed through
our renderer next to feedgen's bare time for the same items (the floor).

    python -m bench.publish_latency [--articles 200] [--interval 0.5] [--text varied|repeated]
                                    [--websub-subscribers 0] [--websub-answer-seconds 2]
                                    [--database postgresql|sqlite]

``--websub-subscribers N`` first subscribes N WebSub callbacks on 127.0.0.1 to the site's
Atom feed, each answering content distribution after ``--websub-answer-seconds``
(verification at once): every publish then also sends N slow POSTs, the load that took
publish → feed from 0.5 s to 13 s while the same worker processes rendered feeds
(decision 0031).

``--database sqlite``: the embedded default's file (in a temporary directory) instead of a
PostgreSQL database, the API, the worker's pool processes and beat all writing it.

Environment: BANTIN_TEST_POSTGRES_URL, BANTIN_TEST_REDIS_URL (defaults: the local servers).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import redis
from sqlalchemy import create_engine, text

from service.feeds.model import FeedCategory, FeedItem, FeedSpec
from service.feeds.render import render
from tests.integration.conftest import REDIS_URL, create_database, drop_database
from tests.integration.stack import Stack, wait_until
from tests.integration.websub_callbacks import CallbackServer

# BANTIN_TEST_REDIS_URL's database (flushed first): each engineer's own, never a shared one.
BENCH_REDIS_URL = REDIS_URL


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


# Words of a city Party committee's news, drawn at random into each article's body: feeds
# of real, varied text compress like real feeds (a repeated phrase compresses ~20× faster
# and hid the cost of making the gzip and brotli variants on the publish path).
TEXT = (
    "Thành ủy Đà Nẵng tổ chức hội nghị quán triệt triển khai nghị quyết Trung ương đồng chí Bí thư "
    "nhấn mạnh yêu cầu nâng cao năng lực lãnh đạo sức chiến đấu của tổ chức đảng đảng viên cán bộ "
    "nhân dân thành phố kinh tế xã hội phát triển bền vững chuyển đổi số đô thị thông minh an sinh "
    "giáo dục y tế văn hóa quốc phòng an ninh đối ngoại doanh nghiệp đầu tư hạ tầng giao thông "
    "cảng biển du lịch môi trường biển đảo phường xã quận huyện kỷ niệm năm ngày thành lập Đảng "
    "Cộng sản Việt Nam mừng xuân truyền thống vẻ vang tháng mười hai lễ mít tinh trang trọng"
)
WORDS = TEXT.split()


def varied_body(n: int, paragraphs: int = 6, words: int = 90) -> str:
    """About 3–4 kB of varied Vietnamese prose for article ``n`` (the same for the same ``n``)."""
    rng = random.Random(n)
    return "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + ".</p>" for _ in range(paragraphs)
    )


def measure_publish_latency(stack: Stack, count: int, *, varied: bool = True, interval: float = 0.0) -> list[float]:
    token = stack.create_token("publish")
    latencies: list[float] = []
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        etag = ""
        for n in range(count):
            response = client.post(
                "/api/v1/articles",
                json={
                    "title": f"Kỷ niệm {n} năm Ngày thành lập Đảng Cộng sản Việt Nam",
                    "body_html": varied_body(n) if varied else "<p>Nội dung bài viết " + "đầy đủ " * 200 + "</p>",
                    "categories": ["Xây dựng Đảng", f"Chuyên mục {n % 5}"],
                    "author": "Ban Tuyên giáo",
                },
            )
            returned = time.perf_counter()
            guid = response.json()["guid"]
            while True:
                feed = client.get("/feeds/atom.xml", headers={"If-None-Match": etag} if etag else {})
                if feed.status_code == 200:
                    etag = feed.headers["etag"]
                    if guid.encode() in feed.content:
                        break
                if time.perf_counter() - returned > 10:
                    raise RuntimeError(f"article {n} not in the feed after 10 s")
                time.sleep(0.002)
            latencies.append((time.perf_counter() - returned) * 1000)
            time.sleep(max(0.0, interval - (time.perf_counter() - returned)))
    return latencies


class SlowSubscribers:
    """WebSub callbacks on 127.0.0.1: verification of intent answered at once, each content
    POST answered after ``seconds`` (a slow third-party server)."""

    def __init__(self, seconds: float) -> None:
        self.server = CallbackServer(lambda method, _path: time.sleep(seconds) if method == "POST" else None)
        self.base = self.server.base

    def subscribe(self, stack: Stack, count: int) -> None:
        """``count`` callbacks subscribed to the site's Atom feed, verified before returning."""
        topic = f"{stack.base_url}/feeds/atom.xml"
        wait_until(lambda: httpx.get(topic).status_code == 200, 30, "the site feed")
        for n in range(count):
            form = {"hub.mode": "subscribe", "hub.callback": f"{self.base}/cb/{n}", "hub.topic": topic}
            assert httpx.post(f"{stack.base_url}/websub", data=form).status_code == 202
        engine = create_engine(stack.env["BANTIN_DATABASE_URL"])
        active = "SELECT count(*) FROM subscriptions WHERE channel = 'websub' AND status = 'active'"
        with engine.connect() as connection:
            wait_until(lambda: connection.execute(text(active)).scalar_one() == count, 120, "verified callbacks", 0.2)
        engine.dispose()

    def stop(self) -> None:
        self.server.stop()


def sample_items(count: int) -> list[FeedItem]:
    now = datetime.now(UTC)
    return [
        FeedItem(
            guid=f"urn:uuid:{uuid.uuid4()}",
            url=f"https://bantin.example.vn/articles/{n}/ky-niem-{n}",
            title=f"Kỷ niệm {n} năm Ngày thành lập Đảng Cộng sản Việt Nam",
            content_html="<p>Nội dung bài viết " + "đầy đủ " * 200 + "</p>",
            published=now - timedelta(hours=n),
            updated=now - timedelta(hours=n),
            summary="Tóm tắt",
            author="Ban Tuyên giáo",
            categories=(FeedCategory("Xây dựng Đảng", "xay-dung-dang"),),
        )
        for n in range(count)
    ]


def bare_feedgen_atom(spec: FeedSpec, items: list[FeedItem]) -> bytes:
    """The floor: feedgen with the same fields and none of our fixes or cleaning."""
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.id(spec.url("atom.xml"))
    fg.title(spec.title)
    fg.author({"name": spec.author})
    fg.link(href=spec.url("atom.xml"), rel="self")
    fg.link(href=spec.home_url, rel="alternate")
    fg.language("vi")
    fg.updated(items[0].updated)
    for item in items:
        entry = fg.add_entry(order="append")
        entry.id(item.guid)
        entry.title(item.title)
        entry.link(href=item.url, rel="alternate", type="text/html")
        entry.published(item.published)
        entry.updated(item.updated)
        entry.summary(item.summary)
        entry.content(item.content_html, type="html")
        entry.author({"name": item.author})
        for category in item.categories:
            entry.category(term=category.slug, label=category.name)
    body: bytes = fg.atom_str(pretty=False)
    return body


def best_of(function: object, repeat: int = 30) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()  # type: ignore[operator]
        timings.append((time.perf_counter() - started) * 1000)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument(
        "--sweep-interval",
        type=float,
        default=10.0,
        help="BANTIN_SWEEP_INTERVAL_SECONDS: production's default (10); the test stack's is 1, "
        "seven periodic tasks a second on the same two worker processes",
    )
    parser.add_argument(
        "--text",
        choices=("varied", "repeated"),
        default="varied",
        help="article bodies: varied Vietnamese prose, or one phrase repeated (the bench before 2026-11-30)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=0.5,
        help="seconds from one POST to the next: 0.5 is two publishes a second, far above a newsroom's "
        "rate; 0 sends the next as soon as the last is served, which measures how many publishes a second "
        "the worker keeps up with rather than latency",
    )
    parser.add_argument("--websub-subscribers", type=int, default=0, help="slow WebSub callbacks on the site feed")
    parser.add_argument(
        "--websub-answer-seconds", type=float, default=2.0, help="how long each callback takes to answer a POST"
    )
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args()

    name = f"bantin_bench_{uuid.uuid4().hex[:8]}"
    directory = Path(tempfile.mkdtemp(prefix="bantin-bench-"))
    database_url = create_database(name) if args.database == "postgresql" else f"sqlite:///{directory / 'bantin.db'}"
    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    stack = Stack(
        database_url,
        BENCH_REDIS_URL,
        directory,
        BANTIN_SWEEP_INTERVAL_SECONDS=str(args.sweep_interval),
        BANTIN_EGRESS_ALLOW="127.0.0.1/32",
        BANTIN_WEBSUB_PENDING_PER_HOST=str(max(50, args.websub_subscribers)),
        BANTIN_WEBSUB_PENDING_TOTAL=str(max(500, args.websub_subscribers)),
    )
    subscribers = SlowSubscribers(args.websub_answer_seconds) if args.websub_subscribers else None
    try:
        stack.start_all()
        if subscribers is not None:
            subscribers.subscribe(stack, args.websub_subscribers)
        latencies = measure_publish_latency(stack, args.articles, varied=args.text == "varied", interval=args.interval)
    finally:
        stack.stop_all()
        if args.database == "postgresql":
            drop_database(name)
        if subscribers is not None:
            subscribers.stop()

    spec = FeedSpec(
        "Bantin", "Bản tin", "https://bantin.example.vn/", "https://bantin.example.vn", "/feeds", "Ban biên tập"
    )
    items = sample_items(50)
    ours = best_of(lambda: render("atom", spec, items))
    floor = best_of(lambda: bare_feedgen_atom(spec, items))

    print(
        f"publish → served by /feeds/atom.xml, {len(latencies)} articles, "
        f"{'PostgreSQL' if args.database == 'postgresql' else 'a SQLite file'} + Redis + the stack's workers, "
        f"sweeps every {args.sweep_interval:g} s, {args.text} text, "
        + (f"a publish every {args.interval:g} s" if args.interval else "each publish once the last is served")
        + (
            f", {args.websub_subscribers} WebSub callbacks answering in {args.websub_answer_seconds:g} s"
            if args.websub_subscribers
            else ""
        )
    )
    print(f"  p50 {percentile(latencies, 50):7.1f} ms")
    print(f"  p95 {percentile(latencies, 95):7.1f} ms")
    print(f"  p99 {percentile(latencies, 99):7.1f} ms   (goal < 150 ms)")
    print(f"  max {max(latencies):7.1f} ms   mean {statistics.fmean(latencies):.1f} ms")
    print(f"  first five: {', '.join(f'{v:.1f}' for v in latencies[:5])} ms (the first is on a fresh stack)")
    print("render one 50-item Atom feed (best of 30)")
    print(f"  Bantin render      {ours:6.2f} ms")
    print(f"  bare feedgen floor {floor:6.2f} ms   (ratio {ours / floor:.2f}×)")


if __name__ == "__main__":
    main()
