"""Search over the shared fixture of Vietnamese articles (tests/search_fixture.py), on SQLite;
tests/integration/test_search_pg.py runs every scenario here on PostgreSQL too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.settings import get_settings
from service.articles.editorial import OPERATOR
from service.articles.schemas import ArticleCreate, ArticleUpdate
from service.articles.service import create_article, publish_due_articles, update_article, withdraw_article
from service.db.engine import session_scope
from service.search.query import Result, Results, parse_query, search
from service.site.navigation import read_navigation
from tests.search_fixture import ITEMS, SEED_TITLE, T0, load


def found(text: str, category: str | None = None, page: int = 1, page_size: int = 50) -> Results:
    with session_scope() as session:
        categories = read_navigation(session).ids_by_slug()
        query = parse_query(text, category, str(page), categories)
        results = search(session, query, page_size)
        # Read in two parts split after the newest few articles, a tier finds the same.
        for recent in (1, 3, 7):
            assert search(session, query, page_size, recent=recent) == results, (text, category, recent)
        return results


def titles(text: str, category: str | None = None) -> list[str]:
    return ["".join(piece.text for piece in r.title) for r in found(text, category).results]


def ranked(text: str) -> list[tuple[int, str]]:
    return [(r.tier, "".join(piece.text for piece in r.title)) for r in found(text).results]


@pytest.fixture
def articles() -> dict[str, int]:
    with session_scope() as session:
        return load(session)


def test_a_query_without_marks_finds_the_accented_words_and_the_seed_leads(articles: dict[str, int]) -> None:
    assert titles("dang cong san") == [SEED_TITLE, "Đảng Cộng sản Việt Nam: 96 năm một chặng đường"]
    assert titles("DANG CONG SAN") == titles("dang cong san") == titles("Đảng Cộng sản")[:2]


def test_the_exact_spelling_ranks_above_its_look_alikes(articles: dict[str, int]) -> None:
    results = ranked("Đảng")
    with_dang = [t for _, t in results if "Đảng" in t or "đảng" in t]
    look_alikes = ["Thành phố đang triển khai chuyển đổi số trong các phường", "Giá xăng đang tăng trở lại"]
    positions = {t: n for n, (_, t) in enumerate(results)}
    assert max(positions[t] for t in with_dang) < min(positions[t] for t in look_alikes)
    # …and the other way round for "đang".
    results = ranked("đang")
    assert [t for _, t in results[:2]] == look_alikes
    assert {tier for tier, _ in results[:2]} == {0}
    assert all(tier >= 2 for tier, _ in results[2:])


def test_title_then_summary_then_body_and_newest_first_within_each(articles: dict[str, int]) -> None:
    results = ranked("Đảng")
    tiers = [tier for tier, _ in results]
    assert tiers == sorted(tiers)
    assert (1, "Đón Tết an toàn, tiết kiệm") in results  # "Đảng bộ" in its summary only
    assert (2, "Tọa đàm về công tác tuyên giáo") in results  # in its body only
    hours = {item.title: item.hours_ago for item in ITEMS}
    for tier in set(tiers):
        ages = [hours[t] for t_tier, t in results if t_tier == tier]
        assert ages == sorted(ages), f"tier {tier} not newest first"


def test_equal_dates_are_ordered_by_id_newest_first(articles: dict[str, int]) -> None:
    same_hour = [t for t in titles("đảng viên") if t.startswith("Hai bài cùng giờ")]
    assert same_hour == ["Hai bài cùng giờ: bài B về đảng viên", "Hai bài cùng giờ: bài A về đảng viên"]
    assert articles[same_hour[0]] > articles[same_hour[1]]


def test_the_old_and_new_places_of_a_tone_mark_are_the_same_word(articles: dict[str, int]) -> None:
    both = ["Phường Hoà Khánh Bắc ra mắt mô hình dân vận khéo", "Phường Hòa Khánh Nam tổ chức ngày hội đại đoàn kết"]
    assert titles("hoà khánh") == titles("hòa khánh") == titles("hoa khanh") == both
    assert {tier for tier, _ in ranked("hòa khánh")} == {0}
    assert [tier for tier, _ in ranked("thủy")] == [0, 0]


def test_every_field_is_searched_body_caption_and_author_included(articles: dict[str, int]) -> None:
    assert titles("sạt lở") == ["Bản tin thời tiết: mưa lớn ở vùng núi"]  # the end of a long body
    assert titles("Nguyễn Đăng") == ["Lễ hội pháo hoa quốc tế Đà Nẵng 2027"]  # the cover's caption
    assert titles("nguyen van duc") == ["Kinh tế quý I tăng trưởng khả quan"]  # the author
    assert titles("3/2/1930") == [SEED_TITLE]
    assert titles("covid 19") == titles("covid19") == ["COVID-19: tiêm vắc-xin mũi nhắc lại cho người cao tuổi"]


def test_only_published_articles_are_ever_found(articles: dict[str, int]) -> None:
    hidden = [item.title for item in ITEMS if item.status != "published"]
    for text in ("dang cong san", "ban nhap", "hen gio", "da go"):
        assert not set(titles(text)) & set(hidden), text
    settings = get_settings()
    with session_scope() as session:
        # The scheduled article once beat publishes it; the seed once withdrawn.
        published = publish_due_articles(session, T0 + timedelta(days=31), settings)
        assert published == [articles["Bài hẹn giờ về Đảng Cộng sản"]]
        withdraw_article(session, articles[SEED_TITLE], T0, settings, OPERATOR)
    assert titles("dang cong san") == ["Bài hẹn giờ về Đảng Cộng sản", "Đảng Cộng sản Việt Nam: 96 năm một chặng đường"]
    with session_scope() as session:
        # Back to a draft: gone again.
        update_article(
            session, articles["Bài hẹn giờ về Đảng Cộng sản"], ArticleUpdate(status="draft"), T0, settings, OPERATOR
        )
    assert titles("dang cong san") == ["Đảng Cộng sản Việt Nam: 96 năm một chặng đường"]


def test_an_edit_replaces_the_words_in_the_same_transaction(articles: dict[str, int]) -> None:
    article_id = articles["Giá xăng đang tăng trở lại"]
    with session_scope() as session:
        change = ArticleUpdate(title="Giá dầu hỏa giảm", summary="Tin vắn.")
        update_article(session, article_id, change, T0, get_settings(), OPERATOR)
        # Seen inside the transaction that made the change, before it commits.
        inside = search(session, parse_query("dau hoa", None, None, {}), 10)
        assert [r.id for r in inside.results] == [article_id]
    assert titles("tro lai") == []  # the old title's words
    assert titles("dầu hỏa") == ["Giá dầu hỏa giảm"]
    assert titles("tin van") == ["Giá dầu hỏa giảm"]


def test_a_new_article_is_found_once_published_and_a_draft_never(articles: dict[str, int]) -> None:
    settings = get_settings()
    with session_scope() as session:
        for status in ("draft", "published"):
            title = f"Tin {status} về cải cách hành chính"
            data = ArticleCreate(title=title, body_html="<p>Một cửa.</p>", status=status)
            create_article(session, data, T0, settings, OPERATOR)
    assert titles("cai cach hanh chinh") == ["Tin published về cải cách hành chính"]


def test_a_category_narrows_the_results_to_its_articles(articles: dict[str, int]) -> None:
    assert titles("ĐẢNG", "xay-dung-dang") == [
        SEED_TITLE,
        "Hội nghị Ban Chấp hành Đảng bộ thành phố lần thứ 15",
        "Hai bài cùng giờ: bài B về đảng viên",
        "Hai bài cùng giờ: bài A về đảng viên",
        "Đảng Cộng sản Việt Nam: 96 năm một chặng đường",
        "Tọa đàm về công tác tuyên giáo",
    ]
    assert titles("dang", "du-lich") == ["Lễ hội pháo hoa quốc tế Đà Nẵng 2027"]
    assert titles("cộng sản", "thoi-su") == [SEED_TITLE]
    assert titles("cộng sản", "giao-duc") == []


def test_pages_follow_each_other_without_gaps_or_repeats(articles: dict[str, int]) -> None:
    everything = found("dang").results
    assert len(everything) > 7
    pages: list[Result] = []
    page = 1
    while True:
        one = found("dang", page=page, page_size=3)
        pages.extend(one.results)
        assert one.more == (page * 3 < len(everything))
        if not one.more:
            break
        page += 1
    assert [r.id for r in pages] == [r.id for r in everything]
    past = found("dang", page=page + 1, page_size=3)
    assert past.results == () and not past.more


def test_words_are_only_words_whatever_the_query_syntax(articles: dict[str, int]) -> None:
    # FTS5 and tsquery syntax, SQL quoting: no error from either database, and the same
    # results as the words alone.
    for hostile, plain in (
        ('"dang" OR *', "dang or"),
        ("dang:*", "dang"),
        ("' OR 1=1 --", "or 1"),
        ("NEAR(dang cong)", "near dang cong"),
        ("{title}: dang", "title dang"),
        ("dang & !cong | san", "dang cong san"),
        ("\\'", ""),
    ):
        assert found(hostile).results == found(plain).results, hostile
    assert found("dang:*").results


def test_a_query_without_words_finds_nothing_and_is_not_an_error(articles: dict[str, int]) -> None:
    for empty in ("", "   ", "!!! — …", "\x00\u200b"):
        assert found(empty).results == ()
