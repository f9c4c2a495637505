"""Content negotiation (RFC 9110 §12.5): which content coding to send for an
Accept-Encoding header, and whether an Accept header asks for HTML.

Framework-free, like ``service/web/http.py`` next to it; the public documents' ASGI layer
(``service/api/documents.py``) asks :class:`Negotiator`, which remembers its answers per
distinct header value, since feed readers send the same few headers millions of times.
"""

from __future__ import annotations

# The content codings Bantin serves besides identity, in the order it prefers them when a
# client accepts several equally: brotli is the smaller (service/feeds/variants.py makes both).
CODINGS = ("br", "gzip")
# Distinct header values remembered with the answer given for them; past this many, further
# values are worked out each time (a client cannot grow the process's memory with made-up ones).
MAX_REMEMBERED = 512


def parse_accept_encoding(header: str) -> dict[str, float]:
    """``"gzip;q=0.5, br"`` → ``{"gzip": 0.5, "br": 1.0}``; unparseable weights count as 0.
    Reads an Accept header's media ranges the same way (RFC 9110 §12.5.1 has the same shape)."""
    weights: dict[str, float] = {}
    for part in header.split(","):
        name, _, params = part.partition(";")
        coding = name.strip().lower()
        if not coding:
            continue
        if coding == "x-gzip":  # RFC 9110 §8.4.1.3: a recipient should treat it as gzip
            coding = "gzip"
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(1.0, max(0.0, float(value.strip())))
                except ValueError:
                    quality = 0.0
        weights[coding] = quality
    return weights


def choose_coding(header: str | None, available: tuple[str, ...] = CODINGS) -> str | None:
    """The content coding to send (None: identity) for an Accept-Encoding header.

    No header: identity. A coding not named is acceptable only through ``*``; identity
    is acceptable unless refused by ``identity;q=0`` or by ``*;q=0`` without naming it.
    Ties go to the first of ``available`` (the server's preference: :data:`CODINGS`), then identity. When
    nothing is acceptable, identity is sent (RFC 9110 allows it instead of 406).
    """
    if not header:
        return None
    weights = parse_accept_encoding(header)
    star = weights.get("*")
    best: str | None = None
    best_quality = weights.get("identity", star if star is not None else 1.0)
    if "identity" not in weights and star == 0.0:
        best_quality = 0.0
    for coding in available:
        quality = weights.get(coding, star if star is not None else 0.0)
        if quality > 0.0 and quality >= best_quality and (best is None or quality > best_quality):
            best, best_quality = coding, quality
    return best


class Negotiator:
    """:func:`choose_coding` and "does it want HTML" for one server's codings, each answer
    remembered per header value (at most :data:`MAX_REMEMBERED` of each). Not locked: it
    lives on one event loop, and a lost race only works an answer out twice."""

    def __init__(self, available: tuple[str, ...] = CODINGS) -> None:
        self.available = available
        self._codings: dict[str, str | None] = {}
        self._pages: dict[str, bool] = {}

    def coding(self, accept_encoding: str | None) -> str | None:
        """The coding to send for an Accept-Encoding value (None: absent, or identity)."""
        if accept_encoding is None:
            return None
        try:
            return self._codings[accept_encoding]
        except KeyError:
            coding = choose_coding(accept_encoding, self.available)
            if len(self._codings) < MAX_REMEMBERED:
                self._codings[accept_encoding] = coding
            return coding

    def wants_page(self, accept: str) -> bool:
        """Whether an Accept header asks for HTML (q > 0): a browser opening the address."""
        try:
            return self._pages[accept]
        except KeyError:
            wanted = parse_accept_encoding(accept).get("text/html", 0.0) > 0.0
            if len(self._pages) < MAX_REMEMBERED:
                self._pages[accept] = wanted
            return wanted
