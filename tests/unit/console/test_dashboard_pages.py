"""The dashboard's Facebook Page card (decision 0039): a Page Facebook stopped taking posts
from is told in Facebook's words, escaped, with the command that connects it again."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.db.engine import session_scope
from service.db.models import Subscription


def page(status: str, reason: str | None) -> None:
    with session_scope() as session:
        session.add(
            Subscription(
                channel="facebook", target="104381234567890", status=status, status_reason=reason,
                unsubscribe_token=f"t-{status}",
            )
        )  # fmt: skip


def test_a_paused_page_shows_facebooks_words_and_how_to_connect_it(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    assert 'id="facebook-pages"' not in client.get("/console/").text  # no Page, no card
    page("paused", "Facebook 190/460: Error validating access token <b>x</b> (fbtrace_id T)")
    html = client.get("/console/").text
    assert 'role="alert"' in html and "Đã dừng đăng bài." in html
    assert '<li class="warn"><span role="alert">' in html  # the item stays a list item (axe rule "list")
    assert "Error validating access token &lt;b&gt;x&lt;/b&gt;" in html
    assert "<code>bantin facebook connect 104381234567890</code>" in html


def test_an_active_page_says_what_it_does(editor: tuple[TestClient, str]) -> None:
    client, _ = editor
    page("active", None)
    html = client.get("/console/").text
    assert "mỗi bài đăng được đăng lên Trang một lần" in html and 'role="alert"' not in html
    assert 'href="/console/subscribers/' not in html  # only an admin gets the link
