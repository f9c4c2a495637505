"""Whether an article's images have words: the rule publishing checks.

Circular 26/2020/TT-BTTTT asks state websites for accessibility, and WCAG 2.1 success
criterion 1.1.1 (non-text content) asks every image that carries meaning for a text
alternative: the ``alt`` a screen reader reads instead of the picture. A news picture
carries meaning, so publishing or scheduling an article (create, update, approve) is
refused while one of its images lacks it (``require_alt_text``); a draft may lack it.

An image lacks its words when (``alt_problem``):

- ``missing``: it has no ``alt`` at all (a screen reader then reads its address);
- ``empty``: its ``alt`` is empty or blank and it is not marked decorative — an empty
  ``alt`` says "decorative, skip it" only together with ``role="presentation"`` (or
  ``"none"``), which is how the body and the API mark an ornament on purpose;
- ``file_name``: its ``alt`` is a file name ("IMG_0042.JPG", "anh-bia.png", "DSC01234"),
  what a camera or an upload fills in, which says nothing of the picture.

The caption (``image_caption``, a ``<figcaption>``) is not the alt: it is read as well as
the picture, not instead of it. The cover's words are ``image_alt``; a cover is never
decorative (it is the article's picture in every listing and link preview).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from service.errors import InvalidField

DECORATIVE_ROLES = frozenset({"presentation", "none"})

# A camera's or phone's name for a file, with or without its extension: IMG_0042, DSC01234,
# PXL_20260203_071500123, Screenshot 2026-02-03, WhatsApp Image …, photo-12.
_CAMERA_NAME = re.compile(
    r"^(img|dsc|dscn|dscf|dcim|pxl|mvimg|photo|image|pic|screenshot|screen shot|whatsapp image|zalo)"
    r"[\s_-]*[\d\s_.:-]+$",
    re.IGNORECASE,
)
# Anything that ends like an image file: "anh-bia.png", "so do 1.JPEG".
_IMAGE_FILE = re.compile(r"\.(jpe?g|png|gif|webp|avif|bmp|tiff?|svg|heic|heif)$", re.IGNORECASE)


def alt_problem(alt: str | None, role: str | None = None) -> str | None:
    """Why an image with this ``alt`` (and ``role``) lacks its words: "missing", "empty",
    "file_name"; None when it has them or is marked decorative (empty alt, role presentation/none)."""
    if alt is None:
        return "missing"
    text = alt.strip()
    if not text:
        return None if (role or "").strip().lower() in DECORATIVE_ROLES else "empty"
    if _IMAGE_FILE.search(text) or _CAMERA_NAME.match(text):
        return "file_name"
    return None


@dataclass(frozen=True)
class LackingAlt:
    """One image of a body without its words: its ``src`` and why (``alt_problem``)."""

    src: str
    problem: str


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str | None, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            named = dict(attrs)
            # An attribute without a value (<img alt>) is an empty one, as browsers read it.
            alt = (named["alt"] or "") if "alt" in named else None
            self.found.append((named.get("src") or "", alt, named.get("role")))


def image_alts(body_html: str) -> dict[str, str]:
    """Each body image's address → its alt, for those that have one (the editor puts them back
    on its attachments: Trix reads a stored ``<img>`` without its alt)."""
    parser = _Images()
    parser.feed(body_html)
    parser.close()
    return {src: alt for src, alt, _ in parser.found if src and alt}


def body_images_lacking_alt(body_html: str) -> list[LackingAlt]:
    """The body's ``<img>`` elements that lack their words, in document order."""
    parser = _Images()
    parser.feed(body_html)
    parser.close()
    lacking = []
    for src, alt, role in parser.found:
        problem = alt_problem(alt, role)
        if problem is not None:
            lacking.append(LackingAlt(src, problem))
    return lacking


def require_alt_text(body_html: str, image_url: str | None, image_alt: str | None) -> None:
    """Refuse publishing while an image lacks its words.

    Raises InvalidField("image_alt", "cover_alt_missing", problem=…) for the cover first,
    then InvalidField("body_html", "image_alt_missing", count=n, images=[src, …]) naming
    every body image that lacks them (the console marks each one by its address).
    """
    if image_url:
        problem = alt_problem(image_alt)
        if problem is not None:
            raise InvalidField("image_alt", "cover_alt_missing", problem=problem)
    lacking = body_images_lacking_alt(body_html)
    if lacking:
        raise InvalidField("body_html", "image_alt_missing", count=len(lacking), images=[item.src for item in lacking])
