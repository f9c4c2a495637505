"""What staff send is stored as readers will see it: nothing-to-read bodies are refused,
invisible format characters removed, relative references resolved against the article."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from config.settings import get_settings
from service.db.engine import session_scope
from service.db.models import Article, Category
from service.db.types import utcnow
from service.feeds.documents import load_document
from service.feeds.publish import render_scope
from tests.feedcheck import assert_valid_atom, assert_valid_json_feed, assert_valid_rss
from tests.unit.api.conftest import make_token

ARTICLE = {"title": "Bài viết", "body_html": "<p>Nội dung</p>", "categories": ["Thời sự"]}
NOTHING_TO_READ = [
    "<script>alert(1)</script>",
    "<script>alert(1)</script>   <style>p{}</style>",
    "   \n\t ",
    "<!-- ghi chú -->",
    "<p></p><p> </p><br><hr><div></div>",
    "<p>&nbsp;</p>",
    "<p>\u200b\u202e\ufeff</p>",
    '<img src="javascript:alert(1)"><a href="javascript:x"></a>',
    "<iframe src='https://x.vn'></iframe><object></object>",
]


def articles() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Article)) or 0


@pytest.mark.parametrize("body", NOTHING_TO_READ)
def test_a_body_that_sanitises_to_nothing_is_refused_saying_why(
    client: TestClient, publisher: dict[str, str], body: str
) -> None:
    response = client.post("/api/v1/articles", json={**ARTICLE, "body_html": body}, headers=publisher)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["field"] == "body_html"
    assert "no visible content" in error["message"] or "must not be empty" in error["message"]
    assert articles() == 0


@pytest.mark.parametrize("body", NOTHING_TO_READ[:3])
def test_a_patch_to_a_body_with_nothing_to_read_is_refused(
    client: TestClient, publisher: dict[str, str], body: str
) -> None:
    created = client.post("/api/v1/articles", json=ARTICLE, headers=publisher).json()
    response = client.patch(f"/api/v1/articles/{created['id']}", json={"body_html": body}, headers=publisher)
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "body_html"
    assert client.get(f"/api/v1/articles/{created['id']}", headers=publisher).json()["body_html"] == "<p>Nội dung</p>"


def test_an_image_alone_is_content(client: TestClient, publisher: dict[str, str]) -> None:
    body = '<figure><img src="https://cdn.example.vn/anh.jpg" alt="Quang cảnh lễ chào cờ"></figure>'
    response = client.post("/api/v1/articles", json={**ARTICLE, "body_html": body}, headers=publisher)
    assert response.status_code == 201


@pytest.mark.parametrize("summary", ["<script>x</script>", "<!-- -->", "<b></b>", "\u202e\u200b"])
def test_a_summary_that_sanitises_to_nothing_is_refused(
    client: TestClient, publisher: dict[str, str], summary: str
) -> None:
    response = client.post("/api/v1/articles", json={**ARTICLE, "summary": summary}, headers=publisher)
    if summary.startswith("\u202e"):
        # Invisible characters only: the same as an empty summary, which clears it.
        assert response.status_code == 201 and response.json()["summary"] is None
        return
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "summary"
    assert "no visible text" in response.json()["detail"][0]["message"]


def test_bidi_controls_and_invisible_characters_are_stripped_from_every_text_field(
    client: TestClient, publisher: dict[str, str]
) -> None:
    rlo = "\u202e"
    response = client.post(
        "/api/v1/articles",
        json={
            "title": f"Thông báo {rlo}fdp.exe\u2066\u200b",
            "body_html": f"<p>Nội\u2067 dung{rlo}</p>",
            "summary": f"Tóm{rlo} tắt\ufeff",
            "categories": [f"Thời{rlo} sự"],
            "author": "Ban\u200f Tuyên giáo",
            "source_name": "\u202aBáo\u202c",
        },
        headers=publisher,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["title"] == "Thông báo fdp.exe"
    assert body["body_html"] == "<p>Nội dung</p>"
    assert body["summary"] == "Tóm tắt"
    assert body["categories"] == [{"name": "Thời sự", "slug": "thoi-su"}]
    assert body["author"] == "Ban Tuyên giáo" and body["source_name"] == "Báo"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("title", "\u202e\u2066\u200b", "must not be empty"),
        ("categories", ["\u202e\u200b"], "entry 0 is empty"),
        ("image_url", "https://example.vn/\u202eanh.jpg", "invisible formatting characters"),
        ("source_url", "https://exa\u200bmple.vn/", "invisible formatting characters"),
    ],
)
def test_fields_left_empty_or_urls_with_invisible_characters_are_refused(
    client: TestClient, publisher: dict[str, str], field: str, value: object, expected: str
) -> None:
    response = client.post("/api/v1/articles", json={**ARTICLE, field: value}, headers=publisher)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == field
    assert expected in response.json()["detail"][0]["message"]
    assert articles() == 0


def test_other_text_fields_are_cleaned_too(client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {make_token('admin')}"}
    target = client.post(
        "/api/v1/subscriptions", json={"channel": "email", "target": "a\u202e@example.vn"}, headers=admin
    )
    assert target.status_code == 422 and target.json()["detail"][0]["field"] == "target"
    key_date = client.post(
        "/api/v1/calendar/key-dates",
        json={
            "name": "Ngày\u202e thử",
            "calendar": "solar",
            "day": 1,
            "month": 5,
            "tags": ["\u2066Đảng"],
            "templates": {"vi": "{{ name }}\u202e!"},
        },
        headers=admin,
    )
    assert key_date.status_code == 201, key_date.text
    assert key_date.json()["name"] == "Ngày thử" and key_date.json()["tags"] == ["Đảng"]
    assert key_date.json()["templates"] == {"vi": "{{ name }}!"}
    from service.auth.tokens import create_token

    with session_scope() as session:
        assert create_token(session, "bàn\u202e biên tập", ["publish"], utcnow())[0].name == "bàn biên tập"


def test_relative_references_resolve_against_the_article_and_fragments_stay_in_page(
    client: TestClient, publisher: dict[str, str]
) -> None:
    body = (
        '<p><a href="#muc-2">Mục 2</a> <a href="../5/bai-cu">bài cũ</a> <a href="/tin">tin</a></p>'
        '<img src="anh.jpg" alt="Sơ đồ" srcset="anh.jpg 1x, anh@2x.jpg 2x"><h2 id="muc-2">Mục 2</h2>'
    )
    created = client.post("/api/v1/articles", json={**ARTICLE, "body_html": body}, headers=publisher).json()
    url = created["url"]  # https://bantin.example.vn/articles/{id}/bai-viet
    directory = url.rsplit("/", 1)[0]
    stored = created["body_html"]
    assert 'href="#muc-2"' in stored and '<h2 id="muc-2">' in stored  # the link and its target
    assert 'href="https://bantin.example.vn/articles/5/bai-cu"' in stored
    assert 'href="https://bantin.example.vn/tin"' in stored
    assert f'src="{directory}/anh.jpg"' in stored
    assert f'srcset="{directory}/anh.jpg 1x, {directory}/anh@2x.jpg 2x"' in stored

    page = client.get(url.removeprefix("https://bantin.example.vn"))
    assert page.status_code == 200 and 'href="#muc-2"' in page.text

    with session_scope() as session:
        render_scope(session, "site", utcnow(), get_settings())
        feeds = {fmt: load_document(session, "site", fmt) for fmt in ("rss", "atom", "json")}
    atom = assert_valid_atom(feeds["atom"].body).entries[0].content[0].value  # type: ignore[union-attr]
    rss = assert_valid_rss(feeds["rss"].body).entries[0].content[0].value  # type: ignore[union-attr]
    json_feed = assert_valid_json_feed(feeds["json"].body)["items"][0]["content_html"]  # type: ignore[union-attr]
    for content in (atom, rss, json_feed):
        assert f'href="{url}#muc-2"' in content
        assert 'href="#muc-2"' not in content
        assert f'src="{directory}/anh.jpg"' in content


def test_a_patched_body_resolves_against_the_article_too(client: TestClient, publisher: dict[str, str]) -> None:
    created = client.post("/api/v1/articles", json=ARTICLE, headers=publisher).json()
    patched = client.patch(
        f"/api/v1/articles/{created['id']}",
        json={"title": "Tiêu đề mới", "body_html": '<p><a href="#a">a</a><img src="b.png" alt="Bản đồ"></p>'},
        headers=publisher,
    ).json()
    assert 'href="#a"' in patched["body_html"]
    assert f'src="https://bantin.example.vn/articles/{created["id"]}/b.png"' in patched["body_html"]


def test_categories_created_on_first_use_are_single(client: TestClient, publisher: dict[str, str]) -> None:
    for _ in range(3):
        assert client.post("/api/v1/articles", json=ARTICLE, headers=publisher).status_code == 201
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Category)) == 1
