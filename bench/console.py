"""The console with 100,000 articles on PostgreSQL: list page, diacritic-free search, dashboard.

    python -m bench.console [--articles 100000] [--runs 50]

Fills a fresh PostgreSQL database (titles built from Vietnamese news words), signs a
user in by creating a session row, and requests each page in-process through the
ASGI app (Starlette's TestClient: templates, session lookup and queries included, no
network). Prints p50 and p95 per page next to two same-run references: `/healthz`
through the same client (the HTTP stack's floor) and the search query alone.
Goals (issue 10): list and search under 100 ms at p95, the dashboard under 150 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tests.integration.conftest import create_database, drop_database

NEWS_TEXT = (
    "Đảng Cộng sản Việt Nam năm kỷ niệm ngày thành lập Đại hội Thành ủy Hội đồng nhân dân "
    "Đà Nẵng xây dựng chỉnh đốn kinh tế xã hội văn hóa giáo dục y tế quốc phòng an ninh "
    "nông thôn mới chuyển đổi số du lịch biển đảo thanh niên phụ nữ cựu chiến binh học tập "
    "Nghị quyết hội nghị tổng kết công tác cán bộ đầu tư hạ tầng giao thông môi trường"
)
WORDS = NEWS_TEXT.split(" ")


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    name = f"bantin_bench_{uuid.uuid4().hex[:8]}"
    os.environ["BANTIN_DATABASE_URL"] = create_database(name)
    os.environ["BANTIN_BASE_URL"] = "http://testserver"
    from fastapi.testclient import TestClient
    from sqlalchemy import insert

    from config.settings import get_settings
    from service.api.app import create_app
    from service.articles.derived import recount
    from service.articles.service import list_articles
    from service.auth.sessions import start_session
    from service.auth.users import create_user
    from service.console.security import SESSION_COOKIE
    from service.db.engine import get_engine, session_scope
    from service.db.migrate import upgrade
    from service.db.models import Article
    from service.text import search_key

    get_settings.cache_clear()
    try:
        upgrade()
        rng = random.Random(2027)
        base = datetime(2020, 1, 1, tzinfo=UTC)
        statuses = ["published"] * 8 + ["draft", "withdrawn"]
        started = time.perf_counter()
        with get_engine().begin() as connection:
            for chunk in range(0, args.articles, 5000):
                rows = []
                for n in range(chunk, min(chunk + 5000, args.articles)):
                    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))
                    when = base + timedelta(minutes=n * 20)
                    status = rng.choice(statuses)
                    rows.append(
                        {
                            "guid": f"urn:uuid:{uuid.uuid4()}",
                            "slug": f"bai-{n}",
                            "title": title,
                            "body_html": "<p>Nội dung</p>",
                            "status": status,
                            "published_at": when if status == "published" else None,
                            "created_at": when,
                            "updated_at": when,
                            "search_text": search_key(title),
                        }
                    )
                connection.execute(insert(Article), rows)
        print(f"{args.articles} articles inserted in {time.perf_counter() - started:.0f} s")
        with get_engine().begin() as connection:
            connection.exec_driver_sql("ANALYZE articles")

        with session_scope() as session:
            # The bulk insert went around the domain code: rebuild the counts it keeps.
            recount(session)
            user = create_user(session, "bench", "mật khẩu đo hiệu năng", "editor", datetime.now(UTC))
            raw = start_session(session, user, datetime.now(UTC))

        with TestClient(create_app()) as client:
            client.cookies.set(SESSION_COOKIE, raw, path="/console")

            def page(path: str) -> Callable[[], object]:
                def get() -> object:
                    response = client.get(path)
                    assert response.status_code == 200, (path, response.status_code)
                    return response

                return get

            def query(words: str) -> Callable[[], object]:
                def run() -> object:
                    with session_scope() as session:
                        return list_articles(session, search=words, limit=25)

                return run

            figures = [
                ("/healthz (floor)", page("/healthz")),
                ("list, page 1", page("/console/articles")),
                ("list, page 200", page("/console/articles?page=200")),
                ("search 'dang cong san' (page)", page("/console/articles?q=dang%20cong%20san")),
                ("search 'chuyen doi so' (page)", page("/console/articles?q=chuy%E1%BB%83n%20doi%20so")),
                ("search 'chuyen doi so' (query alone)", query("chuyen doi so")),
                ("search 'khong co' (no match, page)", page("/console/articles?q=khong%20co%20tu%20nay")),
                ("dashboard", page("/console/")),
            ]
            for label, call in figures:
                call()  # warm caches and plans
                p50, p95 = timed(call, args.runs)
                print(f"{label:40s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    finally:
        get_engine().dispose()
        drop_database(name)


if __name__ == "__main__":
    main()
