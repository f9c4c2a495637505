"""deploy/nginx bounds requests as the API does, and never tighter than the API needs
(issue 18, item 8; decision 0030). Real nginx runs them in tests/integration/test_nginx_export.py."""

from __future__ import annotations

import re
from pathlib import Path

from config.settings import Settings
from service.api.app import REQUEST_OVERHEAD_BYTES
from service.api.http_protocol import MAX_FIELD_BYTES, MAX_HEAD_BYTES, MAX_TARGET_BYTES

SITE = (Path(__file__).resolve().parents[3] / "deploy" / "nginx" / "bantin.conf").read_text()
UNITS = {"": 1, "k": 1024, "m": 1024 * 1024}


def directive(name: str) -> list[str]:
    """The arguments of the one ``name`` directive in the site (AssertionError if not exactly one)."""
    found = re.findall(rf"^\s*{name}\s+([^;]+);", SITE, re.MULTILINE)
    assert len(found) == 1, f"{name}: {found}"
    return str(found[0]).split()


def size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([km]?)", value.lower()).groups()  # type: ignore[union-attr]
    return int(number) * UNITS[unit]


def test_a_line_nginx_passes_is_one_the_api_takes() -> None:
    count, buffer = directive("large_client_header_buffers")
    # nginx: a request line or a header line must fit in one large buffer.
    assert size(buffer) <= min(MAX_TARGET_BYTES, MAX_FIELD_BYTES)
    assert int(count) >= 2


def test_a_head_nginx_passes_fits_the_api_with_what_nginx_adds() -> None:
    (small,) = directive("client_header_buffer_size")
    count, buffer = directive("large_client_header_buffers")
    longest_head = size(small) + int(count) * size(buffer)
    # Host, X-Forwarded-For (the client's chain plus one address), X-Forwarded-Proto,
    # Connection: well under a kilobyte beyond what the client sent.
    added = 1024
    assert longest_head + added <= MAX_HEAD_BYTES


def test_a_head_too_large_is_answered_431_and_must_arrive_in_time() -> None:
    # nginx's own 494 (a head too large) becomes 431 (RFC 6585); other error_page lines serve other ends.
    pages = re.findall(r"^\s*error_page\s+494\s+([^;]+);", SITE, re.MULTILINE)
    assert [page.split() for page in pages] == [["=431", "@head_too_large"]]
    assert re.search(r"location @head_too_large \{[^}]*return 431 ", SITE)
    (timeout,) = directive("client_header_timeout")
    assert int(timeout.removesuffix("s")) <= 30


def test_the_largest_upload_the_api_takes_passes_nginx() -> None:
    (limit,) = directive("client_max_body_size")
    default_media = Settings.model_fields["media_max_bytes"].default
    assert size(limit) >= default_media + REQUEST_OVERHEAD_BYTES
