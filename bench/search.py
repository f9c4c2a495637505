"""Search at scale: 100,000 articles of varied Vietnamese text on PostgreSQL, one- to
four-word queries through the search function, next to a plain indexed look-up (the home
page's listing) timed in the same run.

    python -m bench.search [--articles 100000] [--queries 200]

Seeds a fresh PostgreSQL database directly (20 categories, each article in one or two;
titles, summaries and ~500-word bodies drawn from a Zipf distribution over about 4,000
Vietnamese syllables, so that common words are in most articles and rare ones in a
handful; a few recurring names such as "Đảng Cộng sản Việt Nam"; 1 % withdrawn, 1 %
drafts), builds the search index the way ``bantin db recount`` does, then times
``service.search.query.search`` in this process on one connection: the statement, the
rows and the snippets, as a results page needs them. Queries are drawn from the same
vocabulary at every frequency, typed with and without diacritics, some with a category.
Goal: p95 under 50 ms for one- to four-word queries.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from bench.pages import CATEGORIES, cpu_seconds, percentile
from tests.integration.conftest import POSTGRES_ADMIN_URL as ADMIN_URL
from tests.integration.conftest import create_database, drop_database

T = TypeVar("T")

# Common words of the desk's news, most frequent first (they head the Zipf ranking).
_COMMON_TEXT = (
    "của và các có được trong là cho với những này đã một người không thành phố năm để về theo tại đến "
    "công tác cán bộ nhân dân phát triển kinh tế xã hội đồng chí Đảng đang ngày tổ chức hội nghị triển khai "
    "Thành ủy Ủy ban quận huyện phường xã chính quyền lãnh đạo thực hiện nhiệm vụ kế hoạch chương trình "
    "doanh nghiệp đầu tư dự án hạ tầng giao thông giáo dục y tế văn hóa du lịch môi trường an ninh quốc phòng "
    "đối ngoại chuyển đổi số đô thị biển đảo nông nghiệp sản xuất xuất khẩu lao động việc làm an sinh "
    "truyền thống kỷ niệm lễ mít tinh trang trọng tháng quý tăng trưởng ngân sách đại biểu báo cáo "
    "đánh giá kết quả nâng cao năng lực hiệu quả quản lý nhà nước cải cách hành chính dịch vụ công trực tuyến "
    "đăng ký học sinh sinh viên trường bệnh viện khám chữa bệnh người dân du khách lượt khách sông Hàn "
    "Đà Nẵng Hà Nội Việt Nam Trung ương Bộ Chính trị Ban Bí thư nghị quyết chỉ thị kết luận quy định "
    "đảng viên chi bộ đảng bộ cơ sở mặt trận tổ quốc đoàn thanh niên hội phụ nữ cựu chiến binh nông dân "
    "đang đáng đăng dạng đằng sản sân sạn cộng công cống hòa hoà thủy thuỷ khỏe khoẻ"
)
COMMON = _COMMON_TEXT.split()
_ONSETS_TEXT = "b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x"
ONSETS = [*_ONSETS_TEXT.split(), ""]
_RHYMES_TEXT = (
    "a ai am an ang anh ao au ay e em en eng eo i ia im in inh iu o oa oai oan oang oanh oi om on ong "
    "u ua uan uang ui um un ung uy uyen ưa ưi ươi ương ưu ơi ơm ơn âm ân âng ây âu ăm ăn ăng ê êm ên ênh êu "
    "iêm iên iêng iêu ô ôi ôm ôn ông uôi uôn uông"
)
RHYMES = _RHYMES_TEXT.split()
TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")  # ngang, sắc, huyền, hỏi, ngã, nặng
VOCABULARY = 4000  # distinct syllables
NAMES = ("Đảng Cộng sản Việt Nam", "Hồ Chí Minh", "Hòa Vang", "Ngũ Hành Sơn", "Liên Chiểu", "Sơn Trà", "Cẩm Lệ")


def syllables(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct syllables, the common words first, then made-up ones of Vietnamese shape."""
    import unicodedata

    seen = dict.fromkeys(COMMON)
    made = [
        unicodedata.normalize("NFC", onset + rhyme[0] + tone + rhyme[1:])
        for onset, rhyme, tone in itertools.product(ONSETS, RHYMES, TONES)
    ]
    rng.shuffle(made)
    for candidate in made:
        if len(seen) >= count:
            break
        seen.setdefault(candidate)
    return list(seen)


class Writer:
    """Words drawn from a Zipf distribution (exponent 1.05) over the vocabulary."""

    def __init__(self, vocabulary: list[str], seed: int) -> None:
        self.vocabulary = vocabulary
        self.rng = random.Random(seed)
        self.cumulative = list(itertools.accumulate(1 / (rank + 1) ** 1.05 for rank in range(len(vocabulary))))

    def words(self, count: int) -> str:
        return " ".join(self.rng.choices(self.vocabulary, cum_weights=self.cumulative, k=count))

    def sentence(self, count: int) -> str:
        text = self.words(count)
        if self.rng.random() < 0.1:
            text += " " + self.rng.choice(NAMES)
        return text[0].upper() + text[1:] + "."


def seed(database_url: str, count: int) -> list[str]:
    """Insert ``count`` articles in bulk and build the derived rows; returns the vocabulary."""
    os.environ["BANTIN_DATABASE_URL"] = database_url
    from config.settings import get_settings
    from service.articles.derived import recount
    from service.db.engine import get_engine, session_scope
    from service.db.migrate import upgrade
    from service.db.models import Article, Category, article_categories
    from service.text import slugify_vi

    get_settings.cache_clear()
    upgrade()
    vocabulary = syllables(VOCABULARY, random.Random(1))
    writer = Writer(vocabulary, 2027)
    now = datetime.now(UTC)
    start = now - timedelta(days=3 * 365)
    step = (now - start) / count
    with session_scope() as session:
        session.execute(insert(Category), [{"name": n, "slug": slugify_vi(n), "created_at": start} for n in CATEGORIES])
    chunk = 2000
    with get_engine().begin() as connection:
        for first in range(1, count + 1, chunk):
            rows, links = [], []
            for n in range(first, min(first + chunk, count + 1)):
                status = "withdrawn" if n % 100 == 7 else "draft" if n % 100 == 13 else "published"
                at = start + step * n
                title = writer.sentence(writer.rng.randint(8, 14)).rstrip(".")
                body = "".join(f"<p>{writer.sentence(80)}</p>" for _ in range(6))
                rows.append(
                    {
                        "id": n,
                        "guid": f"urn:uuid:{uuid.UUID(int=n)}",
                        "slug": slugify_vi(title),
                        "title": title,
                        "summary": writer.sentence(25),
                        "body_html": body,
                        "status": status,
                        "published_at": at if status != "draft" else None,
                        "withdrawn_at": at if status == "withdrawn" else None,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                picks = {writer.rng.randint(2, len(CATEGORIES))} | ({1} if n % 2 == 0 else set())
                links += [{"article_id": n, "category_id": c} for c in picks]
            connection.execute(insert(Article), rows)
            connection.execute(insert(article_categories), links)
        connection.execute(text("SELECT setval(pg_get_serial_sequence('articles', 'id'), :n)"), {"n": count})
        connection.execute(text("ANALYZE"))
    with session_scope() as session:
        recount(session)  # counts, the categories' dates and the search index, as `bantin db recount`
    get_engine().dispose()
    return vocabulary


def queries(vocabulary: list[str], count: int, rng: random.Random) -> list[tuple[str, int, str | None]]:
    """(text, number of words, category) for ``count`` queries of one to four words each:
    words from every part of the frequency ranking, half typed without diacritics, one in
    five with a category."""
    from service.text import search_key

    bands = (vocabulary[:50], vocabulary[50:500], vocabulary[500:2000], vocabulary[2000:])
    slugs = [None, None, None, None, "thoi-su", "xay-dung-dang", "du-lich"]
    chosen = []
    for n in range(count):
        size = 1 + n % 4
        words = [rng.choice(rng.choice(bands)) for _ in range(size)]
        typed = " ".join(words)
        if rng.random() < 0.5:
            typed = search_key(typed)
        chosen.append((typed, size, rng.choice(slugs)))
    chosen += [("dang cong san", 3, None), ("Đảng Cộng sản Việt Nam", 4, None), ("Đảng", 1, None), ("đang", 1, None)]
    return chosen


@dataclass
class Timings:
    """Wall time and CPU (this process and its PostgreSQL backend) per call, in ms."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def time(self, call: Callable[[], T], backend: int) -> T:
        cpu = time.process_time() + cpu_seconds(backend)
        started = time.perf_counter()
        result = call()
        self.wall.append((time.perf_counter() - started) * 1000)
        self.cpu.append((time.process_time() + cpu_seconds(backend) - cpu) * 1000)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (its name is printed)")
    parser.add_argument("--reuse", metavar="NAME", help="time the queries on a database --keep kept (no seeding)")
    args = parser.parse_args()

    name = args.reuse or f"bantin_bench_{uuid.uuid4().hex[:8]}"
    database_url = (
        create_database(name) if not args.reuse else make_url(ADMIN_URL).set(database=name).render_as_string(False)
    )
    try:
        started = time.perf_counter()
        if args.reuse:
            os.environ["BANTIN_DATABASE_URL"] = database_url
            from config.settings import get_settings as settings_cache

            settings_cache.cache_clear()
            vocabulary = syllables(VOCABULARY, random.Random(1))
        else:
            vocabulary = seed(database_url, args.articles)
        seeded = time.perf_counter() - started
        from config.settings import get_settings
        from service.db.engine import get_engine, read_scope
        from service.search.index import entry_count
        from service.search.query import parse_query, search
        from service.site.navigation import read_navigation
        from service.site.pages import article_view, latest

        page_size = get_settings().page_size
        asked = queries(vocabulary, args.queries, random.Random(7))
        by_size = {size: Timings() for size in (1, 2, 3, 4)}
        listing, article = Timings(), Timings()
        found: list[int] = []
        published = [n for n in range(1, args.articles + 1) if n % 100 not in (7, 13)]
        with read_scope() as session:
            backend = int(session.scalar(text("SELECT pg_backend_pid()")) or 0)
            entries = entry_count(session)
            slugs = read_navigation(session).ids_by_slug()
            for text_, _, category in asked[:20]:  # warm the caches, plans and connection
                search(session, parse_query(text_, category, None, slugs), page_size)
            for n, (text_, size, category) in enumerate(asked):
                query = parse_query(text_, category, None, slugs)
                results = by_size[size].time(lambda q=query: search(session, q, page_size), backend)  # type: ignore[misc]
                found.append(len(results.results))
                listing.time(lambda: latest(session, limit=page_size), backend)
                article_id = published[(n * 7919) % len(published)]
                article.time(lambda a=article_id: article_view(session, a, datetime.now(UTC)), backend)  # type: ignore[misc]
        get_engine().dispose()
    finally:
        if args.keep or args.reuse:
            print(f"kept: {name}")
        else:
            drop_database(name)

    every = Timings([ms for t in by_size.values() for ms in t.wall], [ms for t in by_size.values() for ms in t.cpu])
    made = "reused" if args.reuse else f"seeded and indexed in {seeded:.0f} s"
    print(
        f"search: {args.articles:,} articles, {entries:,} in the index, PostgreSQL, {made}; "
        f"{len(asked)} queries, {page_size} results a page, in-process, one connection"
    )
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  {'':34} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9}   CPU p50   CPU p95")
    rows = [(f"{size} word{'s' if size > 1 else ''}", t) for size, t in by_size.items()]
    rows += [("every query", every), ("reference: home listing (index)", listing)]
    rows += [("reference: article by id", article)]
    for label, t in rows:
        print(
            f"  {label:34} {statistics.median(t.wall):6.2f} ms {percentile(t.wall, 0.95):6.2f} ms "
            f"{percentile(t.wall, 0.99):6.2f} ms {max(t.wall):6.2f} ms "
            f"{statistics.median(t.cpu):6.2f} ms {percentile(t.cpu, 0.95):6.2f} ms"
        )
    print("  CPU: this process's and its PostgreSQL backend's, from /proc (what a quieter host would take)")
    print(f"  results per query: median {statistics.median(found):.0f}, {sum(1 for f in found if f == 0)} with none")
    print("  goal: p95 < 50 ms for one- to four-word queries")


if __name__ == "__main__":
    main()
