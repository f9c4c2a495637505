"""The staff list, ``GET /api/v1/articles?limit=20``, with 100,000 articles on PostgreSQL.

    python -m bench.articles_api [--articles 100000] [--requests 300]

Inserts the articles with one INSERT … SELECT (two categories, 1 KB bodies, one in ten a
draft), starts one API process, and times ``--requests`` sequential requests on one
keep-alive connection for: the first page, a page deep in the list, the first page of a
category, and the published ones. In the same run, the reference: ``GET /healthz`` on the
same connection (the floor of a request through uvicorn and httpx). Each line also gives the
API process's CPU per request (/proc). Goal: p95 < 10 ms.

Environment: BANTIN_TEST_POSTGRES_URL, BANTIN_TEST_REDIS_URL (defaults: the local servers).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bench.pages import cpu_seconds
from tests.integration.conftest import REDIS_URL, create_database, drop_database
from tests.integration.stack import Stack

QUERIES = {
    "first page": "/api/v1/articles?limit=20",
    "page at offset 50,000": "/api/v1/articles?limit=20&offset=50000",
    "a category's first page": "/api/v1/articles?limit=20&category=chuyen-muc-3",
    "published, first page": "/api/v1/articles?limit=20&status=published",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def seed(database_url: str, count: int) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO categories (name, slug, created_at) "
                "SELECT 'Chuyên mục ' || n, 'chuyen-muc-' || n, now() FROM generate_series(0, 9) AS n"
            )
        )
        connection.execute(
            text(
                """
                INSERT INTO articles (guid, slug, title, summary, body_html, author, status, published_at,
                                      created_at, updated_at)
                SELECT 'urn:uuid:' || md5(n::text)::uuid, 'bai-' || n, 'Bài viết số ' || n, 'Tóm tắt ' || n,
                       '<p>' || repeat('Nội dung đầy đủ. ', 60) || '</p>', 'Ban biên tập',
                       CASE WHEN n % 10 = 0 THEN 'draft' ELSE 'published' END,
                       CASE WHEN n % 10 = 0 THEN NULL ELSE now() - (n || ' minutes')::interval END,
                       now() - (n || ' minutes')::interval, now() - (n || ' minutes')::interval
                FROM generate_series(1, :count) AS n
                """
            ),
            {"count": count},
        )
        connection.execute(
            text(
                "INSERT INTO article_categories (article_id, category_id) "
                "SELECT a.id, c.id FROM articles a JOIN categories c ON c.slug = 'chuyen-muc-' || (a.id % 10)"
            )
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def timed(client: httpx.Client, path: str, requests: int, api_pid: int) -> tuple[list[float], float]:
    """Latencies (ms) of ``requests`` sequential GETs of ``path``, and the API process's CPU per request (ms)."""
    for _ in range(10):  # warm: connection, statement caches
        client.get(path).raise_for_status()
    timings = []
    cpu_before = cpu_seconds(api_pid)
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    return timings, (cpu_seconds(api_pid) - cpu_before) * 1000 / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    name = f"bantin_bench_{uuid.uuid4().hex[:8]}"
    database_url = create_database(name)
    stack = Stack(database_url, REDIS_URL, Path(tempfile.mkdtemp(prefix="bantin-bench-articles-")))
    try:
        migrated = stack.run("db", "upgrade")
        assert migrated.returncode == 0, migrated.stderr
        started = time.perf_counter()
        seed(database_url, args.articles)
        # The bulk insert went around the domain code: rebuild the counts it keeps.
        recounted = stack.run("db", "recount")
        assert recounted.returncode == 0, recounted.stderr
        print(f"{args.articles:,} articles inserted in {time.perf_counter() - started:.1f} s; one API process")
        stack.start_api()
        token = stack.create_token("publish")
        headers = {"Authorization": f"Bearer {token}"}
        api_pid = stack.processes["api"].pid
        with httpx.Client(base_url=stack.base_url, headers=headers, timeout=30) as client:
            floor, floor_cpu = timed(client, "/healthz", args.requests, api_pid)
            reference = "reference: /healthz"
            print(
                f"  {reference:<28} p50 {percentile(floor, 50):6.2f} ms   p95 {percentile(floor, 95):6.2f} ms"
                f"   API CPU/request {floor_cpu:5.2f} ms"
            )
            for label, path in QUERIES.items():
                got, cpu_ms = timed(client, path, args.requests, api_pid)
                # The goal is for the first page; a deep offset walks the index by nature.
                goal = "   (goal: p95 < 10 ms)" if "offset" not in path else "   (no goal: linear in the offset)"
                print(
                    f"  {label:<28} p50 {percentile(got, 50):6.2f} ms   p95 {percentile(got, 95):6.2f} ms"
                    f"   p99 {percentile(got, 99):6.2f} ms   API CPU/request {cpu_ms:5.2f} ms{goal}"
                )
        print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        stack.stop_all()
        drop_database(name)


if __name__ == "__main__":
    main()
