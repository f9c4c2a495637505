"""Compressed variants of a rendered document, made once when it is rendered.

Each variant has its own strong ETag (RFC 9110 §8.8.3: a different representation of
the same resource must not share a strong validator with the others): the identity
ETag with ``-gzip`` or ``-br`` before its closing quote.
"""

from __future__ import annotations

import gzip

import brotli

# Made on every render of every scope, so their cost bounds how many publishes a worker
# keeps up with. Measured on a 172 kB Atom feed of varied Vietnamese article text: brotli
# 6 takes 4.4 ms for 46.1 kB (quality 11: 188 ms for 37.9 kB); gzip 4 takes 2.3 ms for
# 49.8 kB against 9.8 ms for 45.7 kB at 6, 9 % more bytes for a quarter of the time
# (bench/README.md, publish latency).
BROTLI_QUALITY = 6
GZIP_LEVEL = 4


def compress_gzip(body: bytes) -> bytes:
    """gzip with a zero mtime, so the same body always gives the same bytes."""
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def compress_brotli(body: bytes) -> bytes:
    """Brotli (RFC 7932) at BROTLI_QUALITY; the same body always gives the same bytes."""
    return bytes(brotli.compress(body, quality=BROTLI_QUALITY))


def variant_etag(etag: str, coding: str | None) -> str:
    """The strong ETag of ``coding``'s variant of a document whose identity ETag is ``etag``."""
    if coding is None:
        return etag
    return f'{etag[:-1]}-{coding}"'
