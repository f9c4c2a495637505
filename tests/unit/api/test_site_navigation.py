"""Moving around the site: the category menu (admin's choice and order, public categories
only), breadcrumbs with BreadcrumbList JSON-LD, related articles, and /theo-doi."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.db.engine import session_scope
from service.errors import InvalidField
from service.site.navigation import menu_choices, set_menu
from tests.unit.api.test_pages import BASE, SEED, body_of, configure, head_of, json_ld, path_of, publish


def menu(page: bytes) -> list[tuple[str, str]]:
    """(text, href) of the header menu's links."""
    return [(a.text_content(), a.get("href")) for a in body_of(page).xpath("//nav[@data-menu]//a")]


def place(**positions: int) -> None:
    """Put the categories named by slug (with - as _) in the menu at these places."""
    with session_scope() as session:
        ids = {c.slug: c.id for c in menu_choices(session)}
        set_menu(session, {ids[slug.replace("_", "-")]: n for slug, n in positions.items()})


@pytest.fixture
def site(client: TestClient, publisher: dict[str, str]) -> dict[str, Any]:
    made = {
        "economy": publish(client, publisher, title="Kinh tế quý I", categories=["Kinh tế"]),
        "seed": publish(client, publisher),
    }
    draft = {"title": "Bản nháp", "body_html": "<p>x</p>", "status": "draft", "categories": ["Nháp riêng"]}
    assert client.post("/api/v1/articles", json=draft, headers=publisher).status_code == 201
    return made


def test_the_menu_shows_the_admins_categories_in_their_order_on_every_page(
    client: TestClient, site: dict[str, Any]
) -> None:
    assert menu(client.get("/").content) == []  # nothing chosen: no menu at all
    place(xay_dung_dang=2, kinh_te=1, thoi_su=3)
    expected = [("Kinh tế", "/categories/kinh-te"), ("Xây dựng Đảng", "/categories/xay-dung-dang"),
                ("Thời sự", "/categories/thoi-su")]  # fmt: skip
    for path in ("/", "/categories/kinh-te", path_of(site["seed"]), "/tim-kiem?q=dang", "/theo-doi", "/subscribe"):
        assert menu(client.get(path).content) == expected, path
    current = body_of(client.get("/categories/kinh-te").content).xpath("//nav[@data-menu]//a[@aria-current='page']")
    assert [a.text for a in current] == ["Kinh tế"]
    in_english = menu(client.get("/?lang=en").content)
    assert in_english[0] == ("Kinh tế", "/categories/kinh-te?lang=en")


def test_a_category_no_published_article_uses_is_never_in_the_menu(
    client: TestClient, publisher: dict[str, str], site: dict[str, Any]
) -> None:
    place(nhap_rieng=1, kinh_te=2)
    assert menu(client.get("/").content) == [("Kinh tế", "/categories/kinh-te")]
    # …until an article in it is published; and out again once none is.
    published = publish(client, publisher, title="Bài đầu tiên", categories=["Nháp riêng"])
    assert menu(client.get("/").content)[0] == ("Nháp riêng", "/categories/nhap-rieng")
    assert client.delete(f"/api/v1/articles/{published['id']}", headers=publisher).status_code == 204
    assert menu(client.get("/").content) == [("Kinh tế", "/categories/kinh-te")]


def test_a_menu_change_moves_every_pages_etag(client: TestClient, site: dict[str, Any]) -> None:
    for path in ("/", path_of(site["seed"])):
        before = client.get(path)
        place(kinh_te=1)
        after = client.get(path, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200 and menu(after.content) == [("Kinh tế", "/categories/kinh-te")], path
        place()


def test_menu_places_are_checked(site: dict[str, Any]) -> None:
    with session_scope() as session:
        some = menu_choices(session)[0].id
    for positions in ({some: 0}, {some: 100}, {999_999: 1}):
        with pytest.raises(InvalidField), session_scope() as session:
            set_menu(session, positions)


def test_the_menu_without_script_is_plain_links_and_its_button_starts_hidden(
    client: TestClient, site: dict[str, Any]
) -> None:
    place(kinh_te=1)
    nav = body_of(client.get("/").content).xpath("//nav[@data-menu]")[0]
    assert nav.get("aria-label") == "Chuyên mục"
    button = nav.xpath(".//button")[0]
    assert button.get("hidden") is not None and button.get("aria-expanded") == "false"
    assert button.get("aria-controls") == nav.xpath(".//ul/@id")[0]
    assert body_of(client.get("/").content).xpath(".//script") == []  # scripts live in the head only
    assert head_of(client.get("/").text).xpath("script[@src]/@src")[0].startswith("/static/site.js?v=")


def test_an_article_page_has_breadcrumbs_and_their_breadcrumb_list(client: TestClient, site: dict[str, Any]) -> None:
    page = client.get(path_of(site["seed"]))
    trail = body_of(page.content).xpath("//nav[@class='crumbs']//a")
    assert [(a.text, a.get("href")) for a in trail] == [
        ("Trang chủ", "/"),
        ("Thời sự", "/categories/thoi-su"),  # the first category by slug, as article:section says
        (SEED["title"], path_of(site["seed"])),
    ]
    assert trail[-1].get("aria-current") == "page"
    data = json_ld(head_of(page.text), "BreadcrumbList")
    assert data["itemListElement"] == [
        {"@type": "ListItem", "position": 1, "name": "Thành ủy Đà Nẵng", "item": f"{BASE}/"},
        {"@type": "ListItem", "position": 2, "name": "Thời sự", "item": f"{BASE}/categories/thoi-su"},
        {"@type": "ListItem", "position": 3, "name": SEED["title"]},
    ]


def test_an_article_without_a_category_has_a_two_step_trail(client: TestClient, publisher: dict[str, str]) -> None:
    lone = publish(client, publisher, title="Thông báo", categories=[])
    data = json_ld(head_of(client.get(path_of(lone)).text), "BreadcrumbList")
    assert [item["position"] for item in data["itemListElement"]] == [1, 2]


def test_related_articles_are_the_newest_of_the_same_categories_but_itself(
    client: TestClient, publisher: dict[str, str]
) -> None:
    older = [publish(client, publisher, title=f"Tin thời sự {n}", categories=["Thời sự"]) for n in range(3)]
    party = publish(client, publisher, title="Tin xây dựng Đảng", categories=["Xây dựng Đảng"])
    publish(client, publisher, title="Tin kinh tế", categories=["Kinh tế"])
    draft = {"title": "Nháp thời sự", "body_html": "<p>x</p>", "status": "draft", "categories": ["Thời sự"]}
    assert client.post("/api/v1/articles", json=draft, headers=publisher).status_code == 201
    page = client.get(path_of(older[0]))
    related = body_of(page.content).xpath("//section[@class='related']//li/a")
    assert [a.text for a in related] == ["Tin thời sự 2", "Tin thời sự 1"]
    # An article in two categories: the newest of both, each once, at most four.
    both = publish(client, publisher, title="Tin hai chuyên mục", categories=["Thời sự", "Xây dựng Đảng"])
    page = client.get(path_of(both))
    titles = [a.text for a in body_of(page.content).xpath("//section[@class='related']//li/a")]
    assert titles == ["Tin xây dựng Đảng", "Tin thời sự 2", "Tin thời sự 1", "Tin thời sự 0"]
    assert path_of(party) in page.text
    lone = publish(client, publisher, title="Một mình", categories=[])
    assert body_of(client.get(path_of(lone)).content).xpath("//section[@class='related']") == []


def test_related_articles_are_read_once_per_generation(client: TestClient, publisher: dict[str, str]) -> None:
    from service.articles.derived import site_generation_of
    from service.db.types import utcnow
    from service.site.pages import article_view, related_articles

    first, second = (publish(client, publisher, title=f"Tin {n}", categories=["Kinh tế"]) for n in range(2))

    def related(article_id: int, generation: int | None) -> list[str]:
        with session_scope() as session:
            article = article_view(session, article_id, utcnow())
            return [h.title for h in related_articles(session, article, 4, generation)]

    with session_scope() as session:
        before = site_generation_of(session)
    assert related(first["id"], before) == ["Tin 1"] and related(second["id"], before) == ["Tin 0"]
    publish(client, publisher, title="Tin 2", categories=["Kinh tế"])
    with session_scope() as session:
        after = site_generation_of(session)
    assert after != before
    assert related(first["id"], before) == ["Tin 1"]  # held for the generation it was read at
    assert related(first["id"], after) == ["Tin 2", "Tin 1"]  # a new generation reads again
    assert related(first["id"], None) == ["Tin 2", "Tin 1"]  # no generation: always read


def test_the_follow_page_lists_every_way_and_every_feed_address(
    client: TestClient, site: dict[str, Any], settings_override: pytest.MonkeyPatch
) -> None:
    page = client.get("/theo-doi")
    assert page.status_code == 200
    addresses = body_of(page.content).xpath("//code[@class='copy__text']/text()")
    for path in ("", "/categories/kinh-te", "/categories/thoi-su", "/categories/xay-dung-dang"):
        for name in ("rss.xml", "atom.xml", "feed.json"):
            assert f"{BASE}/feeds{path}/{name}" in addresses
    assert f"{BASE}/calendar.ics" in addresses
    assert not any("nhap-rieng" in a for a in addresses)  # a category only drafts use
    buttons = body_of(page.content).xpath("//button[@data-copy]")
    assert len(buttons) == len(addresses) and all(b.get("hidden") is not None for b in buttons)
    text = page.text
    assert "Trang này chưa mở thông báo trên trình duyệt" in text  # no VAPID key pair: no button
    assert body_of(page.content).xpath("//*[@data-push]") == []
    assert "Trang này chưa mở kênh Zalo" in text and "Trang này chưa mở kênh Telegram" in text
    assert head_of(page.text).xpath("meta[@name='robots']") == []

    etag = page.headers["etag"]
    configure(settings_override, TELEGRAM_BOT_USERNAME="BantinDaNangBot", ZALO_OA_ID="1234567890")
    offered = client.get("/theo-doi", headers={"If-None-Match": etag})
    assert offered.status_code == 200  # the build's fingerprint names these settings
    hrefs = body_of(offered.content).xpath("//a/@href")
    assert "https://t.me/BantinDaNangBot" in hrefs and "https://zalo.me/1234567890" in hrefs

    # A VAPID pair set: the page offers browser notifications, with the categories to choose
    # and the consent words; the buttons wait hidden for site.js (decision 0041).
    from service.channels.web_push import new_vapid_keys

    private, public = new_vapid_keys()
    configure(
        settings_override,
        WEB_PUSH_VAPID_PRIVATE_KEY=private,
        WEB_PUSH_VAPID_PUBLIC_KEY=public,
        WEB_PUSH_SUBJECT="mailto:toasoan@example.vn",
    )
    pushing = client.get("/theo-doi", headers={"If-None-Match": offered.headers["etag"]})
    assert pushing.status_code == 200
    [panel] = body_of(pushing.content).xpath("//*[@data-push]")
    assert panel.get("data-push-key") == public
    assert panel.xpath(".//input[@name='push-category']/@value") == ["kinh-te", "thoi-su", "xay-dung-dang"]
    assert all(b.get("hidden") is not None for b in panel.xpath(".//button"))
    assert "Nhận thông báo" in panel.xpath(".//button[@data-push-subscribe]/text()")[0]
    assert "Nghị định 13/2023" in "".join(panel.xpath(".//p[@class='push__consent']/text()"))
    assert "connect-src 'self'" in pushing.headers["content-security-policy"]


@pytest.mark.parametrize(("name", "value"), [("TELEGRAM_BOT_USERNAME", "@bot"), ("ZALO_OA_ID", "abc")])
def test_follow_settings_are_checked(name: str, value: str, settings_override: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from config.settings import get_settings

    settings_override.setenv(f"BANTIN_{name}", value)
    get_settings.cache_clear()
    with pytest.raises(ValidationError):
        get_settings()


def test_a_category_an_admin_created_for_readers_is_in_the_menu_before_any_article(
    client: TestClient, site: dict[str, Any]
) -> None:
    from service.articles.categories import create_listed_category
    from service.db.types import utcnow

    with session_scope() as session:
        create_listed_category(session, "Chuyển đổi số", utcnow())
    place(chuyen_doi_so=1, nhap_rieng=2)
    assert menu(client.get("/").content) == [("Chuyển đổi số", "/categories/chuyen-doi-so")]
