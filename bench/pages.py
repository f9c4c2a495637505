"""Public pages at scale: 100,000 articles on PostgreSQL, home, category and article pages
and their 304s, next to the same run's ``/feeds/atom.xml`` 304 (the reference).

    python -m bench.pages [--articles 100000] [--requests 400]

Seeds a fresh PostgreSQL database directly (20 categories, each article in one or two,
3 KB bodies, two in three with a cover, 1 % withdrawn, 1 % drafts, three years of
dates), renders the site feeds, starts the real API process (``bantin api``) and times
requests from one keep-alive HTTP client: wall time per request as the client sees it,
over loopback. Goal: p95 under 5 ms for every page; 304s as fast as the feed's.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, text

from tests.integration.conftest import REDIS_URL, create_database, drop_database
from tests.integration.stack import Stack

CATEGORIES = [
    "Thời sự",
    "Xây dựng Đảng",
    "Chính trị",
    "Kinh tế",
    "Xã hội",
    "Văn hóa",
    "Giáo dục",
    "Y tế",
    "Pháp luật",
    "Quốc phòng - An ninh",
    "Đối ngoại",
    "Du lịch",
    "Thể thao",
    "Khoa học - Công nghệ",
    "Môi trường",
    "Nông nghiệp",
    "Đô thị",
    "Giao thông",
    "Lao động - Việc làm",
    "Gương người tốt",
]
BODY = "".join(
    f"<p>Đoạn {n}: Thành ủy Đà Nẵng tổ chức hội nghị quán triệt, triển khai các nghị quyết của Trung ương; "
    "đồng chí Bí thư nhấn mạnh yêu cầu nâng cao năng lực lãnh đạo, sức chiến đấu của tổ chức đảng.</p>"
    for n in range(15)
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def seed(database_url: str, count: int) -> tuple[list[int], list[str]]:
    """Insert ``count`` articles in bulk; returns the published ids and the category slugs."""
    os.environ["BANTIN_DATABASE_URL"] = database_url
    from config.settings import get_settings
    from service.articles.derived import recount
    from service.db.engine import get_engine, session_scope
    from service.db.migrate import upgrade
    from service.db.models import Article, Category, article_categories
    from service.feeds.publish import render_scope
    from service.feeds.scopes import SITE
    from service.text import slugify_vi

    get_settings.cache_clear()
    upgrade()
    rng = random.Random(2027)
    now = datetime.now(UTC)
    start = now - timedelta(days=3 * 365)
    step = (now - start) / count
    with session_scope() as session:
        session.execute(insert(Category), [{"name": n, "slug": slugify_vi(n), "created_at": start} for n in CATEGORIES])
    published: list[int] = []
    chunk = 5000
    with get_engine().begin() as connection:
        for first in range(1, count + 1, chunk):
            rows, links = [], []
            for n in range(first, min(first + chunk, count + 1)):
                status = "withdrawn" if n % 100 == 7 else "draft" if n % 100 == 13 else "published"
                at = start + step * n + timedelta(seconds=rng.randint(0, 60))
                title = f"Tin số {n}: Đà Nẵng triển khai nghị quyết về phát triển kinh tế - xã hội năm {2024 + n % 4}"
                rows.append(
                    {
                        "id": n,
                        "guid": f"urn:uuid:{uuid.UUID(int=n)}",
                        "slug": slugify_vi(title),
                        "title": title,
                        "summary": f"Tóm tắt bài số {n} về hoạt động của Thành ủy và chính quyền thành phố.",
                        "body_html": BODY,
                        "author": "Ban Tuyên giáo" if n % 3 else None,
                        "image_url": f"https://anh.example.vn/{n}.jpg" if n % 3 else None,
                        "source_name": "dukccq.danang.gov.vn" if n % 5 == 0 else None,
                        "source_url": None,
                        "status": status,
                        "publish_at": None,
                        "published_at": at if status != "draft" else None,
                        "withdrawn_at": at if status == "withdrawn" else None,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                if status == "published":
                    published.append(n)
                # Thời sự (id 1) is the big category: every other article is in it.
                picks = {rng.randint(2, len(CATEGORIES))} | ({1} if n % 2 == 0 else set())
                links += [{"article_id": n, "category_id": c} for c in picks]
            connection.execute(insert(Article), rows)
            connection.execute(insert(article_categories), links)
        connection.execute(text("SELECT setval(pg_get_serial_sequence('articles', 'id'), :n)"), {"n": count})
        connection.execute(text("ANALYZE"))
    with session_scope() as session:
        # The bulk insert went around the domain code: rebuild the rows it keeps in step.
        recount(session)
        render_scope(session, SITE, now, get_settings())
    get_engine().dispose()
    return published, [slugify_vi(n) for n in CATEGORIES]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(
    client: httpx.Client, paths: Callable[[int], str], count: int, headers: Callable[[str], dict[str, str]]
) -> tuple[list[float], int]:
    """Milliseconds per request, and the status code seen (all must agree)."""
    timings: list[float] = []
    statuses: set[int] = set()
    for n in range(count):
        path = paths(n)
        extra = headers(path)
        started = time.perf_counter()
        response = client.get(path, headers=extra)
        timings.append((time.perf_counter() - started) * 1000)
        statuses.add(response.status_code)
    assert len(statuses) == 1, statuses
    return timings, statuses.pop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()

    name = f"bantin_bench_{uuid.uuid4().hex[:8]}"
    database_url = create_database(name)
    stack: Stack | None = None
    try:
        seeded = time.perf_counter()
        published, slugs = seed(database_url, args.articles)
        seeded = time.perf_counter() - seeded
        stack = Stack(database_url, REDIS_URL, Path(tempfile.mkdtemp(prefix="bantin-bench-pages-")))
        stack.start_api()
        rng = random.Random(7)
        etags: dict[str, str] = {}
        with httpx.Client(base_url=stack.base_url, timeout=10) as client:

            def etag_of(path: str) -> dict[str, str]:
                if path not in etags:
                    etags[path] = client.get(path).headers["etag"]
                return {"If-None-Match": etags[path]}

            articles = [
                f"/articles/{i}/{client.get(f'/articles/{i}/x').headers['location'].rsplit('/', 1)[1]}"
                for i in rng.sample(published, args.requests)
            ]
            deep = client.get("/?before=" + str(published[len(published) // 2])).status_code
            assert deep == 200
            plain: Callable[[str], dict[str, str]] = lambda _: {}  # noqa: E731
            cases: list[tuple[str, Callable[[int], str], Callable[[str], dict[str, str]]]] = [
                ("home", lambda _: "/", plain),
                ("home, page deep in the archive", lambda n: f"/?before={published[len(published) // 2 - n]}", plain),
                ("category, large (half of all)", lambda _: "/categories/thoi-su", plain),
                ("category, small", lambda n: f"/categories/{slugs[1 + n % (len(slugs) - 1)]}", plain),
                (
                    "category, small, deep (a new cursor each time)",
                    lambda n: (
                        f"/categories/{slugs[1 + n % (len(slugs) - 1)]}?before={published[len(published) // 3 - n]}"
                    ),
                    plain,
                ),
                ("article (a different one each time)", lambda n: articles[n], plain),
                ("home 304", lambda _: "/", etag_of),
                ("category 304", lambda _: "/categories/thoi-su", etag_of),
                ("article 304", lambda n: articles[n % 50], etag_of),
                ("reference: /feeds/atom.xml 304", lambda _: "/feeds/atom.xml", etag_of),
                ("reference: /healthz", lambda _: "/healthz", plain),
            ]
            for _, paths, headers in cases:  # warm up connections, caches and plans
                timed(client, paths, 50, headers)
            api_pid = stack.processes["api"].pid
            results = []
            for label, paths, headers in cases:
                cpu_before = cpu_seconds(api_pid)
                timings, status = timed(client, paths, args.requests, headers)
                cpu_ms = (cpu_seconds(api_pid) - cpu_before) * 1000 / args.requests
                results.append((label, timings, status, cpu_ms))
    finally:
        if stack is not None:
            stack.stop_all()
        drop_database(name)

    print(
        f"pages: {args.articles:,} articles ({len(published):,} published, {len(CATEGORIES)} categories), "
        f"PostgreSQL, seeded in {seeded:.0f} s; {args.requests} requests each, one keep-alive client, loopback"
    )
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  {'':40} {'status':>6} {'p50':>9} {'p95':>9} {'p99':>9} {'API CPU/request':>16}")
    for label, timings, status, cpu_ms in results:
        print(
            f"  {label:40} {status:>6} {statistics.median(timings):6.2f} ms {percentile(timings, 0.95):6.2f} ms "
            f"{percentile(timings, 0.99):6.2f} ms {cpu_ms:13.2f} ms"
        )
    print("  goal: p95 < 5 ms for every page; page 304s as fast as the feed 304")


if __name__ == "__main__":
    main()
