"""Header fields of the mails we send, as bytes that decode to the text they were made from.

Two shapes cover every header ``build_email`` writes:

- unstructured text (``Subject``, and any value with no syntax of its own): kept as it is
  when plain ASCII can carry it unchanged, else RFC 2047 encoded-words of UTF-8 in which
  every character of the text, spaces included, is *inside* an encoded-word. The
  whitespace between two encoded-words is only folding, which RFC 2047 §6.2 tells every
  decoder to drop: Python 3.11's SMTP policy folder put the text's own spaces there, so
  readers (Thunderbird, Gmail, Python's parser) saw "lậpĐảng" for "lập Đảng".
- a display name before an address (``From``, ``List-Id``): whitespace runs become one
  space and the ends are trimmed (RFC 5322 §3.2.2: between the words of a structured
  field, a run of whitespace means one space, and parsers read it so), then plain
  atoms, or else the whole name as *one* encoded-word. One, however long: Python 3.11's
  address parser keeps the whitespace between two encoded-words of a display name as a
  space (CPython gh-128110, fixed only in later versions), so a name cut in two would
  read "Đản g". RFC 2047 §2 asks for encoded-words of at most 75 characters; decoders
  accept longer ones (Python's, and those of the services that send them, such as Gmail
  and Go's ``mime`` encoder), and the line stays far below RFC 5322's 998.

Both are cached per distinct value (ARCHITECTURE.md decision 17): a subject shared by
100,000 readers is encoded once per process.
"""

from __future__ import annotations

import base64
import re
from email.header import Header
from functools import lru_cache

# Below this many characters a plain ASCII value fits RFC 5322's 998-character line unfolded.
MAX_RAW_HEADER = 900
# Longest display name sent as one encoded-word: its line stays under 998 characters.
MAX_PHRASE_BYTES = 600
# RFC 5322 atext and single spaces between atoms: a display name readable without quotes or encoding.
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+( [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
# Printable ASCII with single spaces inside, no space at either end.
_PLAIN = re.compile(r"[!-~]+( [!-~]+)*")


def ascii_domain(domain: str) -> str:
    """A domain as a header and SMTP carry it without SMTPUTF8: its IDNA form ("bản-tin.vn" →
    "xn--bn-tin-2ua.vn"); unchanged when IDNA cannot encode it."""
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def header(name: str, value: str) -> bytes:
    """``Name: value`` and CRLF for unstructured text (``Subject``; ASCII values such as ``Date``).

    Plain when the value is printable ASCII that a parser reads back unchanged; else
    RFC 2047 encoded-words (``email.header.Header``: UTF-8, each word an integral
    number of characters, lines of at most 76). An ASCII value that looks like an
    encoded-word (``=?``) is encoded too, so it is not decoded into something else.
    """
    if _is_plain(value):
        return f"{name}: {value}\r\n".encode()
    return _encoded_header(name, value)


def _is_plain(value: str) -> bool:
    return len(value) < MAX_RAW_HEADER and "=?" not in value and _PLAIN.fullmatch(value) is not None


@lru_cache(maxsize=4096)
def _encoded_header(name: str, value: str) -> bytes:
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}\r\n".encode()


def display_name(text: str) -> str:
    """The display name as it is sent and read: whitespace runs as one space, no space at the ends."""
    return " ".join(text.split())


def named_address(name: str, display: str, address: str) -> bytes:
    """``Name: display-name <address>`` and CRLF (``From``, ``List-Id``); ``address`` is ASCII.

    The display name is normalised by :func:`display_name`; an empty one leaves the bare
    ``<address>``. Folded before the address when the line would pass 78 characters.
    """
    return _named_address(name, display_name(display), address)


@lru_cache(maxsize=1024)
def _named_address(name: str, display: str, address: str) -> bytes:
    if not display:
        return f"{name}: <{address}>\r\n".encode()
    phrase = _phrase(display)
    separator = " " if len(name) + len(phrase) + len(address) + 5 <= 78 else "\r\n "
    return f"{name}: {phrase}{separator}<{address}>\r\n".encode()


def _phrase(display: str) -> str:
    if "=?" not in display and _ATOMS.fullmatch(display):
        return display
    data = display.encode()
    if len(data) <= MAX_PHRASE_BYTES:
        return "=?utf-8?b?" + base64.b64encode(data).decode("ascii") + "?="
    # Longer than any site title: standard encoded-words (readers drop nothing; Python 3.11
    # alone shows a space where one word ends).
    return Header(display, "utf-8").encode(linesep="\r\n")
