"""Articles from files: Markdown or HTML with a small YAML front matter.

---
title: Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam
categories: [Xây dựng Đảng, Thời sự]
author: Ban Tuyên giáo
---
Nội dung bài viết…
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import markdown
import yaml

from service.errors import InvalidField

FRONT_MATTER_FIELDS = {
    "title",
    "summary",
    "categories",
    "author",
    "image_url",
    "image_caption",
    "image_alt",
    "source_name",
    "source_url",
    "status",
    "publish_at",
}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}


def parse_article_file(path: Path) -> dict[str, Any]:
    """The fields of an ArticleCreate, before validation; InvalidField names what is wrong."""
    suffix = path.suffix.lower()
    if suffix not in MARKDOWN_SUFFIXES | HTML_SUFFIXES:
        raise InvalidField("file", "file_type", name=path.name)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidField("file", "file_not_utf8", name=path.name, byte=exc.start) from None
    text = unicodedata.normalize("NFC", text.removeprefix("\ufeff"))
    meta, body = split_front_matter(text)
    unknown = sorted(set(meta) - FRONT_MATTER_FIELDS)
    if unknown:
        raise InvalidField(
            "front matter", "unknown_fields", unknown=", ".join(unknown), known=", ".join(sorted(FRONT_MATTER_FIELDS))
        )
    if "title" not in meta:
        raise InvalidField("title", "no_title")
    if isinstance(meta.get("categories"), str):
        meta["categories"] = [c.strip() for c in meta["categories"].split(",") if c.strip()]
    body_html = markdown.markdown(body, extensions=["tables", "fenced_code"]) if suffix in MARKDOWN_SUFFIXES else body
    return {**meta, "body_html": body_html}


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split leading YAML front matter from the body: ``(fields, body)``.

    Front matter runs from a first line ``---`` to the next ``---`` or ``...`` line (the
    Jekyll/Hugo convention); text that does not start with ``---`` is all body, with no fields.
    Raises InvalidField("front matter", …) for invalid YAML, YAML that is not a mapping, or
    no closing line.
    """
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, text
    for index in range(1, len(lines)):
        if lines[index].strip() in {"---", "..."}:
            try:
                meta = yaml.safe_load("".join(lines[1:index])) or {}
            except yaml.YAMLError as exc:
                raise InvalidField("front matter", "not_yaml", reason=str(exc)) from None
            if not isinstance(meta, dict):
                raise InvalidField("front matter", "not_mapping")
            # YAML reads 2027-02-03 08:00 as a datetime already; the schema accepts both.
            return {str(k): v for k, v in meta.items()}, "".join(lines[index + 1 :])
    raise InvalidField("front matter", "unclosed_front_matter")
