"""The editor hands Trix its own words (toolbar tooltips, link dialog, captions) in the page's
language: a JSON object on the trix-lang.js script tag, loaded after Trix and before the editor."""

from __future__ import annotations

import html
import json
import re

from fastapi.testclient import TestClient

TRIX_KEYS = {
    "attachFiles", "bold", "bullets", "captionPlaceholder", "code", "heading1", "indent", "italic", "link",
    "numbers", "outdent", "quote", "redo", "remove", "strike", "undo", "unlink", "url", "urlPlaceholder",
}  # fmt: skip


def trix_words(page: str) -> dict[str, str]:
    match = re.search(r"<script src=\"/console/static/trix-lang.js\" data-trix-lang='([^']*)'></script>", page)
    assert match, "no trix-lang.js with its words"
    trix = page.index("trix.umd.min.js")
    assert trix < match.start() < page.index("<trix-editor")  # Trix loaded, toolbar not built yet
    words: dict[str, str] = json.loads(html.unescape(match.group(1)))
    return words


def test_the_vietnamese_editor_gives_trix_vietnamese_words(editor: tuple[TestClient, str]) -> None:
    client, _ = editor
    words = trix_words(client.get("/console/articles/new").text)
    assert set(words) == TRIX_KEYS
    assert words["bold"] == "Đậm" and words["link"] == "Liên kết" and words["urlPlaceholder"] == "Nhập địa chỉ URL…"


def test_the_english_editor_keeps_trixs_english(editor: tuple[TestClient, str]) -> None:
    client, _ = editor
    words = trix_words(client.get("/console/articles/new?lang=en").text)
    assert words["bold"] == "Bold" and words["heading1"] == "Heading" and words["urlPlaceholder"] == "Enter a URL…"
    assert words["strike"] == "Strikethrough" and words["captionPlaceholder"] == "Add a caption…"


def test_the_script_is_served(editor: tuple[TestClient, str]) -> None:
    client, _ = editor
    script = client.get("/console/static/trix-lang.js")
    assert script.status_code == 200 and "Trix.config.lang" in script.text
