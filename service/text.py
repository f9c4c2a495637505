"""Text hygiene for everything staff send us (DESIGN.md decision 8).

NFC first, so that "ệ" typed as e + combining marks and "ệ" precomposed are one
string; then characters XML 1.0 forbids are removed, because a single one makes a
whole feed unreadable; HTML goes through nh3 with an allow-list of article markup.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import urljoin, urlsplit

import nh3
from slugify import slugify as _slugify

# XML 1.0 Char production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_WHITESPACE_RUN = re.compile(r"\s+")

ARTICLE_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "a",
        "img",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "s",
        "sub",
        "sup",
        "small",
        "mark",
        "code",
        "pre",
        "blockquote",
        "q",
        "cite",
        "abbr",
        "span",
        "div",
        "figure",
        "figcaption",
        "picture",
        "source",
        "table",
        "caption",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "colgroup",
        "col",
    }
)
ARTICLE_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height", "srcset", "sizes"},
    "source": {"srcset", "media", "type", "sizes"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "reversed", "type"},
    "*": {"lang", "dir"},
}
URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


def remove_xml_forbidden(text: str) -> str:
    return _XML_FORBIDDEN.sub("", text)


def has_xml_forbidden(text: str) -> bool:
    return _XML_FORBIDDEN.search(text) is not None


def clean_text(text: str) -> str:
    """NFC, no XML-forbidden characters, surrounding white space trimmed."""
    return remove_xml_forbidden(unicodedata.normalize("NFC", text)).strip()


def clean_line(text: str) -> str:
    """Like `clean_text`, and runs of white space (newlines too) become one space: titles, names."""
    return _WHITESPACE_RUN.sub(" ", clean_text(text))


def plain_text_from_html(fragment: str) -> str:
    """Visible text of an HTML fragment, for a summary someone sent with markup in it."""
    stripped = nh3.clean(clean_text(fragment), tags=set(), attributes={}, strip_comments=True)
    return clean_line(html.unescape(stripped))


def sanitize_html(fragment: str, base_url: str) -> str:
    """Article markup only; scripts, styles, event handlers and javascript: URLs removed.

    Relative links and image sources become absolute against ``base_url``, because
    a feed reader resolves them against the feed's address, not the article's.
    """
    base = base_url.rstrip("/") + "/"

    def absolutise(tag: str, attribute: str, value: str) -> str | None:
        if attribute in URL_ATTRIBUTES:
            return _absolute_url(value, base)
        if attribute == "srcset":
            return ", ".join(_absolute_srcset_item(item, base) for item in value.split(",") if item.strip())
        return value

    return nh3.clean(
        clean_text(fragment),
        tags=set(ARTICLE_TAGS),
        attributes={tag: set(names) for tag, names in ARTICLE_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        attribute_filter=absolutise,
        strip_comments=True,
        link_rel=None,
    )


def _absolute_url(value: str, base: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    absolute = urljoin(base, value)
    scheme = urlsplit(absolute).scheme.lower()
    return absolute if scheme in URL_SCHEMES else None


def _absolute_srcset_item(item: str, base: str) -> str:
    url, _, descriptor = item.strip().partition(" ")
    absolute = _absolute_url(url, base) or ""
    return f"{absolute} {descriptor}".strip()


def slugify_vi(text: str, max_length: int = 120) -> str:
    """ASCII slug for Vietnamese text: "Xây dựng Đảng" → "xay-dung-dang".

    Đ/đ is a letter of its own, not D with a mark, so NFKD-and-drop-marks would
    lose it; the transliteration table maps it to d explicitly.
    """
    text = unicodedata.normalize("NFC", text).replace("Đ", "D").replace("đ", "d")
    return _slugify(text, max_length=max_length, word_boundary=True)


def search_key(text: str) -> str:
    """What search compares: lower case, no diacritics, Đ/đ → d, single spaces.

    "Kỷ niệm Ngày thành lập Đảng" → "ky niem ngay thanh lap dang". Đ has no
    decomposition in Unicode, so it is mapped by hand before the marks are dropped.
    """
    text = unicodedata.normalize("NFC", text).replace("Đ", "d").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WHITESPACE_RUN.sub(" ", bare).strip()
