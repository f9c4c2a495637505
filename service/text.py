"""Text hygiene for everything staff send us.

NFC first, so that "ệ" typed as e + combining marks and "ệ" precomposed are one
string; then characters XML 1.0 forbids are removed, because a single one makes a
whole feed unreadable; then invisible format characters are removed (see
``remove_invisible``); HTML goes through nh3 with an allow-list of article markup.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import nh3
from slugify import slugify as _slugify

# XML 1.0 Char production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_WHITESPACE_RUN = re.compile(r"\s+")
# Every character of Unicode category Cf (format: bidi embeddings, overrides and isolates
# U+202A-U+202E and U+2066-U+2069, marks U+200E/U+200F/U+061C, zero-width U+200B-U+200D,
# U+2060-U+2064, BOM U+FEFF, soft hyphen, tag characters U+E0000-U+E007F …) and the C1
# controls U+0080-U+009F. A test checks the class against unicodedata.
_INVISIBLE = re.compile(
    "[\x80-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
# An id an editor gives a section: a letter, then letters, digits, - and _ (no "__proto__"-like names).
_ELEMENT_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_IMAGE = re.compile(r'<img\b[^>]*\ssrc="[^"]+"')

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
    # role: only "presentation"/"none", which with alt="" marks an ornament (service.articles.alt_text).
    "img": {"src", "alt", "title", "width", "height", "srcset", "sizes", "role"},
    "source": {"srcset", "media", "type", "sizes"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "reversed", "type"},
    # id: the targets of in-page links (<a href="#muc-2"> … <h2 id="muc-2">).
    "*": {"lang", "dir", "id"},
}
URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


def remove_xml_forbidden(text: str) -> str:
    """The text without the characters XML 1.0 forbids (§2.2 Char)."""
    return _XML_FORBIDDEN.sub("", text)


def has_xml_forbidden(text: str) -> bool:
    """Whether the text holds a character XML 1.0 forbids (§2.2 Char)."""
    return _XML_FORBIDDEN.search(text) is not None


def remove_invisible(text: str) -> str:
    """Remove invisible format characters: bidi controls, zero-width characters, C1 controls.

    They are stripped, not refused: they have no use in Vietnamese text (right-to-left
    passages are marked up with ``dir``), editors paste them from Word and web pages
    without seeing them (an error about an invisible character is one nobody can find),
    and what is left is exactly what a reader sees — a title with U+202E can no longer
    show text in another order than it is stored ("Trojan Source", CVE-2021-42574).
    """
    return _INVISIBLE.sub("", text)


def has_invisible(text: str) -> bool:
    """Whether ``text`` has a character `remove_invisible` removes (URLs are refused for it)."""
    return _INVISIBLE.search(text) is not None


def clean_text(text: str) -> str:
    """NFC, no XML-forbidden or invisible format characters, surrounding white space trimmed."""
    return remove_invisible(remove_xml_forbidden(unicodedata.normalize("NFC", text))).strip()


def clean_line(text: str) -> str:
    """Like `clean_text`, and runs of white space (newlines too) become one space: titles, names."""
    return _WHITESPACE_RUN.sub(" ", clean_text(text))


def plain_text_from_html(fragment: str) -> str:
    """Visible text of an HTML fragment, for a summary someone sent with markup in it."""
    stripped = nh3.clean(clean_text(fragment), tags=set(), attributes={}, strip_comments=True)
    return clean_line(html.unescape(stripped))


# Where a block of text ends in a body: a space goes there, so "<p>Một</p><p>Hai</p>" reads "Một Hai".
_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|td|th|dt|dd|blockquote|figcaption|pre|div)>|<br\b|<hr\b", re.I)
_SPACES = re.compile(r"\s+")


def text_of_html(fragment: str) -> str:
    """The text an article's body shows, a space where a block ends, runs of space as one.

    For bodies as stored: already NFC and free of control and invisible characters
    (``service.text.sanitize_html``), so only the tags go (scripts and styles with their
    content, should any be there) and the entities are read.
    """
    stripped = nh3.clean(_BLOCK_END.sub(r" \g<0>", fragment), tags=set(), attributes={}, strip_comments=True)
    return _SPACES.sub(" ", html.unescape(stripped)).strip()


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, white space runs as one space, cut between words (never
    inside one, unless a single word fills more than half the limit) with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:–-") + "…"


# The start of a body read for an excerpt: far more than any excerpt needs, so a long article is never parsed whole.
EXCERPT_BODY_CHARS = 6000


def excerpt(summary: str | None, body_html: str, limit: int) -> str:
    """An article in at most ``limit`` characters: its summary, else the start of its body as
    text, shortened between words (``shorten``), at a sentence's end when one ends in the
    second half; empty when both are."""
    text = summary if summary and summary.strip() else text_of_html(body_html[:EXCERPT_BODY_CHARS])
    short = shorten(text, limit)
    if not short.endswith("…") or short == " ".join(text.split()):
        return short
    # Vietnamese writes a word's syllables apart ("tiếp tục"): a space may fall inside a word,
    # so a sentence's end, when one is in the second half, is the better place to stop.
    kept = short[:-1]
    end = max(kept.rfind(". "), kept.rfind("! "), kept.rfind("? "))
    return kept[: end + 1].rstrip(" ,.;:–-") + "…" if end >= limit // 2 else short


def sanitize_html(fragment: str) -> str:
    """Article markup only; scripts, styles, comments, event handlers and javascript: URLs removed.

    Relative references are kept as written: they are resolved against the article's own
    address by `resolve_references` once the article has one.
    """
    return _clean(clean_text(fragment), _drop_empty_urls)


def resolve_references(fragment: str, page_url: str, *, keep_fragments: bool = True) -> str:
    """Resolve relative references in sanitised HTML against ``page_url`` (RFC 3986 §5.2).

    ``href="img/a.jpg"`` on ``https://x.vn/articles/12/slug`` becomes
    ``https://x.vn/articles/12/img/a.jpg``. A reference that is only a fragment
    (``#muc-2``) points into the page itself: kept as it is where the HTML is shown at
    ``page_url`` (the stored body, the article page), and made absolute with
    ``keep_fragments=False`` where the HTML is read elsewhere (a feed, whose base is the
    feed's address). A reference whose scheme is not allowed is dropped.
    """

    def resolve(value: str) -> str | None:
        value = value.strip()
        if not value:
            return None
        if keep_fragments and value.startswith("#"):
            return value
        absolute = urljoin(page_url, value)
        return absolute if urlsplit(absolute).scheme.lower() in URL_SCHEMES else None

    def attribute(tag: str, name: str, value: str) -> str | None:
        if name in URL_ATTRIBUTES:
            return resolve(value)
        if name == "srcset":
            return _srcset(value, resolve)
        return value

    return _clean(fragment, attribute)


def has_visible_content(fragment: str) -> bool:
    """Whether sanitised HTML shows anything: text other than white space, or an image.

    Empty paragraphs, ``<br>``, ``<hr>``, ``&nbsp;`` and what sanitising removed
    (scripts, styles, comments) are not content.
    """
    text = html.unescape(nh3.clean(fragment, tags=set(), attributes={}, strip_comments=True))
    return bool(remove_invisible(text).strip()) or _IMAGE.search(fragment) is not None


def _drop_empty_urls(tag: str, name: str, value: str) -> str | None:
    if name == "id":
        return value if _ELEMENT_ID.match(value) else None
    if name == "role":
        return value.strip().lower() if value.strip().lower() in ("presentation", "none") else None
    if name in URL_ATTRIBUTES:
        return value.strip() or None
    if name == "srcset":  # not a URL attribute to nh3: schemes are checked here
        return _srcset(value, _relative_or_allowed)
    return value


def _relative_or_allowed(url: str) -> str | None:
    scheme = urlsplit(url).scheme.lower()
    return url if not scheme or scheme in URL_SCHEMES else None


def _clean(fragment: str, attribute_filter: Callable[[str, str, str], str | None]) -> str:
    return nh3.clean(
        fragment,
        tags=set(ARTICLE_TAGS),
        attributes={tag: set(names) for tag, names in ARTICLE_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        attribute_filter=attribute_filter,
        strip_comments=True,
        link_rel=None,
    )


def _srcset(value: str, resolve: Callable[[str], str | None]) -> str | None:
    items = []
    for item in value.split(","):
        url, _, descriptor = item.strip().partition(" ")
        resolved = resolve(url) if url else None
        if resolved:
            items.append(f"{resolved} {descriptor.strip()}".strip())
    return ", ".join(items) or None


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
