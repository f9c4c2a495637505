"""Counts on English console pages take the singular for one and the plural otherwise
(ngettext with the catalogue's Plural-Forms); Vietnamese has one form. The nav names the
subscriber list as its page title does."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.unit.console.conftest import ORIGIN
from tests.unit.console.conftest import post_form as post

ARTICLE = {"title": "Tin số một", "summary": "Tóm tắt", "author": "Ban Tuyên giáo", "body_html": "<div>Nội dung</div>"}


def publish(client: TestClient, token: str, title: str) -> None:
    response = post(client, "/console/articles/new", token, {**ARTICLE, "title": title, "action": "publish"})
    assert response.status_code == 303, response.text


def test_one_article_is_singular_and_two_are_plural_in_english(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    publish(client, token, "Tin số một")
    assert "(1 article)" in client.get("/console/?lang=en").text
    assert "1 article." in client.get("/console/articles").text
    assert "1 article matches “một”." in client.get("/console/articles?q=một").text
    publish(client, token, "Tin số hai")
    assert "(2 articles)" in client.get("/console/").text
    assert "2 articles." in client.get("/console/articles").text
    assert "2 bài." in client.get("/console/articles?lang=vi").text


def test_subscriber_counts_and_the_nav_agree_with_the_title(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    assert "0 subscribers." in client.get("/console/subscribers?lang=en").text
    data = {"channel": "email", "target": "bandoc@example.vn"}
    assert post(client, "/console/subscribers/new", token, data).status_code == 303
    page = client.get("/console/subscribers").text
    assert "1 subscriber." in page
    assert '<a href="/console/subscribers">Subscribers</a>' in page and "<h1>Subscribers</h1>" in page
    vietnamese = client.get("/console/subscribers?lang=vi").text
    assert '<a href="/console/subscribers">Người nhận tin</a>' in vietnamese


def test_one_form_error_is_not_errors(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    client.get("/console/?lang=en")
    response = client.post(
        "/console/articles/new",
        data={"csrf_token": token, **ARTICLE, "title": "", "action": "draft"},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 422
    assert "Not saved: please correct the error below." in response.text
    assert "error(s)" not in response.text
