"""The search page through the real app: results, marks, escaping, paging, the category
filter, refusals (never a 500), noindex, validators, and the search box of every page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from lxml import html

from tests.unit.api.test_pages import SEED, body_of, head_of, publish

DRAFT_ONLY = "Chuyên mục nháp chưa duyệt"


def results(page: str) -> list[str]:
    """The result titles of a search page, as text."""
    return [" ".join(a.text_content().split()) for a in body_of(page.encode()).xpath("//li[@class='result']//h2/a")]


@pytest.fixture
def articles(client: TestClient, publisher: dict[str, str]) -> dict[str, Any]:
    made = {
        "old": publish(client, publisher, title="Đảng Cộng sản Việt Nam: 96 năm một chặng đường", summary=None),
        "dang": publish(
            client, publisher, title="Giá xăng đang tăng", summary=None, body_html="<p>Tin kinh tế.</p>",
            categories=["Kinh tế"],
        ),
        "seed": publish(client, publisher),
    }  # fmt: skip
    response = client.post(
        "/api/v1/articles",
        json={"title": "Bản nháp về Đảng", "body_html": "<p>x</p>", "status": "draft", "categories": [DRAFT_ONLY]},
        headers=publisher,
    )
    assert response.status_code == 201
    return made


def test_an_unaccented_query_finds_the_seed_first_with_its_words_marked(
    client: TestClient, articles: dict[str, Any]
) -> None:
    response = client.get("/tim-kiem?q=dang+cong+san")
    assert response.status_code == 200
    assert results(response.text) == [SEED["title"], "Đảng Cộng sản Việt Nam: 96 năm một chặng đường"]
    first = body_of(response.content).xpath("//li[@class='result']")[0]
    assert [m.text for m in first.xpath(".//h2//mark")] == ["Đảng", "Cộng", "sản"]
    assert first.xpath(".//h2/a/@href") == [str(articles["seed"]["url"]).removeprefix("https://bantin.example.vn")]
    # Not a page to index, whatever it finds.
    assert head_of(response.text).xpath("meta[@name='robots']/@content") == ["noindex, follow"]


def test_search_is_the_same_page_under_both_addresses(client: TestClient, articles: dict[str, Any]) -> None:
    one, other = client.get("/tim-kiem?q=%C4%90%E1%BA%A3ng"), client.get("/search?q=%C4%90%E1%BA%A3ng")
    assert one.status_code == other.status_code == 200
    assert results(one.text) == results(other.text)
    # The exact word first: "Đảng" above "đang".
    assert results(one.text)[-1] == "Giá xăng đang tăng"
    canonical = {head_of(r.text).xpath("link[@rel='canonical']/@href")[0] for r in (one, other)}
    assert canonical == {"https://bantin.example.vn/tim-kiem?q=%C4%90%E1%BA%A3ng"}


def test_titles_and_snippets_are_text_even_when_they_hold_markup(client: TestClient, publisher: dict[str, str]) -> None:
    publish(
        client, publisher, title="Tin <script>alert(1)</script> về Đảng", summary="<img src=x onerror=alert(2)> Đảng",
    )  # fmt: skip
    response = client.get("/tim-kiem?q=dang")
    assert "<script>alert(1)" not in response.text and "<img src=x" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert results(response.text) == ["Tin <script>alert(1)</script> về Đảng"]


def test_an_empty_query_is_a_page_that_invites_one(client: TestClient, articles: dict[str, Any]) -> None:
    for path in ("/tim-kiem", "/tim-kiem?q=", "/tim-kiem?q=+++", "/search?q=%E2%80%94+%21%21"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert results(response.text) == []
        assert "Nhập một hay vài từ" in response.text


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("q=" + "a" * 201, "Từ khóa dài quá 200 ký tự"),
        ("q=" + "+".join(f"tu{n}" for n in range(9)), "nhiều nhất 8 từ"),
        ("q=" + "x" * 65, "dài quá 64 ký tự"),
        ("q=dang&page=0", "đến trang 25"),
        ("q=dang&page=26", "đến trang 25"),
        ("q=dang&page=abc", "đến trang 25"),
        ("q=dang&page=%EF%BC%91", "đến trang 25"),  # a full-width digit one
        ("q=dang&category=khong-co", "Không có chuyên mục này"),
        ("q=dang&category=chuyen-muc-nhap-chua-duyet", "Không có chuyên mục này"),  # only drafts use it
        ("q=" + quote("Đảng " * 2000), "Từ khóa dài quá 200 ký tự"),
    ],
)
def test_a_query_outside_the_bounds_gets_the_form_and_the_reason(
    client: TestClient, articles: dict[str, Any], query: str, words: str
) -> None:
    response = client.get(f"/tim-kiem?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    alert = body_of(response.content).xpath("//*[@role='alert']")
    assert len(alert) == 1 and words in alert[0].text_content()
    form_value = body_of(response.content).xpath("//input[@id='tu-khoa']/@value")[0]
    assert len(form_value) <= 200
    assert response.headers["x-robots-tag"] == "noindex"


def test_odd_bytes_in_the_query_are_never_an_error(client: TestClient, articles: dict[str, Any]) -> None:
    for query in ("q=%FF%FE", "q=%00dang", "q=dang%E2%80%AEng", "q[]=dang", "q=dang&q=cong", "category=&page="):
        response = client.get(f"/tim-kiem?{query}")
        assert response.status_code in (200, 400), query


def test_the_category_filter_lists_public_categories_and_narrows_the_results(
    client: TestClient, articles: dict[str, Any]
) -> None:
    page = client.get("/tim-kiem?q=dang")
    options = body_of(page.content).xpath("//select[@id='chuyen-muc']/option/@value")
    assert set(options) == {"", "kinh-te", "thoi-su", "xay-dung-dang"}  # not the draft-only one
    narrowed = client.get("/tim-kiem?q=dang&category=kinh-te")
    assert results(narrowed.text) == ["Giá xăng đang tăng"]
    assert body_of(narrowed.content).xpath("//option[@selected]/@value") == ["kinh-te"]


def test_results_page_by_page_with_links_that_keep_the_query(
    client: TestClient, publisher: dict[str, str], settings_override: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        publish(client, publisher, title=f"Hội nghị số {n} về chuyển đổi số", summary=None)
    settings_override.setenv("BANTIN_PAGE_SIZE", "2")
    seen, path = [], "/tim-kiem?q=chuyen+doi+so"
    while path:
        response = client.get(path)
        assert response.status_code == 200
        seen += results(response.text)
        older = body_of(response.content).xpath("//a[@rel='next']/@href")
        path = older[0] if older else ""
    assert seen == [f"Hội nghị số {n} về chuyển đổi số" for n in reversed(range(5))]
    assert client.get("/tim-kiem?q=chuyen+doi+so&page=3").status_code == 200
    beyond = client.get("/tim-kiem?q=chuyen+doi+so&page=4")
    assert beyond.status_code == 200 and "Không còn kết quả ở trang này" in beyond.text


def test_a_search_page_is_validated_by_the_site_generation(
    client: TestClient, publisher: dict[str, str], articles: dict[str, Any]
) -> None:
    first = client.get("/tim-kiem?q=dang")
    assert client.get("/tim-kiem?q=dang", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    publish(client, publisher, title="Đảng bộ phường họp", summary=None)
    again = client.get("/tim-kiem?q=dang", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200 and "Đảng bộ phường họp" in results(again.text)


@pytest.mark.parametrize(
    "path", ["/", "/categories/thoi-su", "/tim-kiem?q=dang", "/theo-doi", "/subscribe", "/articles/999999/khong-co"]
)
def test_every_public_page_has_a_labelled_search_box_that_works_without_script(
    client: TestClient, articles: dict[str, Any], path: str
) -> None:
    page = client.get(path)
    form = body_of(page.content).xpath("//header//form[@role='search']")
    assert len(form) == 1, path
    assert form[0].get("action") == "/tim-kiem" and form[0].get("method") == "get"
    field = form[0].xpath(".//input[@name='q']")[0]
    labels = body_of(page.content).xpath(f"//label[@for='{field.get('id')}']")
    assert len(labels) == 1 and labels[0].text_content().strip()
    assert form[0].xpath(".//button[@type='submit']")


def test_english_pages_search_in_english(client: TestClient, articles: dict[str, Any]) -> None:
    page = client.get("/tim-kiem?q=dang&lang=en")
    assert page.status_code == 200
    header_form = body_of(page.content).xpath("//header//form[@role='search']")[0]
    assert header_form.xpath(".//input[@name='lang']/@value") == ["en"]
    assert re.search(r'href="/articles/\d+/[^"]+\?lang=en"', page.text)
    assert html.fromstring(page.content).get("lang") == "en"
