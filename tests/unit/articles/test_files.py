from pathlib import Path

import pytest

from service.articles.files import parse_article_file
from service.errors import InvalidField


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_with_front_matter(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bai.md",
        "---\ntitle: Kỷ niệm 97 năm\ncategories: Xây dựng Đảng, Thời sự\nauthor: Ban Tuyên giáo\n---\n"
        "Đoạn **một**.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    )
    fields = parse_article_file(path)
    assert fields["title"] == "Kỷ niệm 97 năm"
    assert fields["categories"] == ["Xây dựng Đảng", "Thời sự"]
    assert "<strong>một</strong>" in fields["body_html"]
    assert "<table>" in fields["body_html"]


def test_html_file_keeps_body(tmp_path: Path) -> None:
    fields = parse_article_file(write(tmp_path, "bai.html", "---\ntitle: T\n---\n<p>Nội dung</p>\n"))
    assert fields["body_html"].strip() == "<p>Nội dung</p>"


@pytest.mark.parametrize(
    ("name", "text", "field", "fragment"),
    [
        ("a.txt", "x", "file", "expected a .md"),
        ("a.md", "no front matter", "title", "no title"),
        ("a.md", "---\ntitle: [unclosed\n---\nx", "front matter", "not valid YAML"),
        ("a.md", "---\ntitle: T\n", "front matter", "no closing ---"),
        ("a.md", "---\ntitle: T\ncolour: red\n---\nx", "front matter", "unknown field(s) colour"),
        ("a.md", "---\n- a\n---\nx", "front matter", "mapping"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, name: str, text: str, field: str, fragment: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_article_file(write(tmp_path, name, text))
    assert caught.value.field == field
    assert fragment in caught.value.message


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(b"---\ntitle: \xd0\xa3ng\xff\n---\n")
    with pytest.raises(InvalidField, match="not UTF-8"):
        parse_article_file(path)
