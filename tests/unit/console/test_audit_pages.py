"""The audit log's console page (admins only): what a sign-in, a failed one and an edit made
through the console wrote, filtered by person, action, object and time, and as CSV."""

from __future__ import annotations

import csv
import io
import json
import re

from fastapi.testclient import TestClient

from tests.unit.console.conftest import ORIGIN, hidden, login, make_user
from tests.unit.console.conftest import post_form as post


def shown(page: str) -> list[str]:
    """The actions of the rows the page lists, top to bottom (not the filter's options)."""
    return re.findall(r"<td><code>([a-z_.]+)</code></td>", page)


def test_the_log_shows_who_did_what_from_where_and_filters(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    wrong = client.get("/console/login")
    client.post(
        "/console/login",
        data={"username": "ai-do", "password": "sai mật khẩu rồi", "login_csrf": hidden(wrong.text, "login_csrf")},
        headers={"Origin": ORIGIN},
    )
    made = post(client, "/console/articles/new", token, {"title": "Tin kiểm tra", "body_html": "<p>Nội dung</p>"})
    assert made.status_code == 303, made.text
    article_id = made.headers["location"].rstrip("/").split("/")[-1]

    page = client.get("/console/audit")
    assert page.status_code == 200
    assert shown(page.text) == ["article.create", "sign_in.failed", "sign_in", "user.create"]
    assert "Tin kiểm tra" in page.text
    assert "testclient" in page.text  # the client's address, as service/web/client.py decided it

    mine = client.get("/console/audit", params={"person": "quantri", "action": "article.create"}).text
    assert shown(mine) == ["article.create"]
    by_object = client.get("/console/audit", params={"object_type": "article", "object_id": article_id}).text
    assert shown(by_object) == ["article.create"]
    future = client.get("/console/audit", params={"since": "01/01/2199"}).text
    assert "0 bản ghi." in future and shown(future) == []

    exported = client.get("/console/audit.csv", params={"object_type": "article", "object_id": article_id})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["action"], r["actor_kind"], r["actor_name"], r["object_id"]) for r in rows] == [
        ("article.create", "user", "quantri", article_id)
    ]
    assert json.loads(rows[0]["after"])["title"] == "Tin kiểm tra" and rows[0]["before"] == ""


def test_an_unknown_filter_is_refused_not_ignored(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    for params in ({"action": "article.delete"}, {"object_type": "planet"}, {"since": "31/02/2026"}):
        page = client.get("/console/audit", params=params)
        assert page.status_code == 422 and "bản ghi" in page.text
        assert client.get("/console/audit.csv", params=params).status_code == 422


def test_only_admins_read_the_log(app_client: TestClient) -> None:
    make_user("bientap", "editor")
    login(app_client)
    assert app_client.get("/console/audit").status_code == 403
    assert app_client.get("/console/audit.csv").status_code == 403
