"""uvicorn's httptools protocol with the request head bounded: 414 and 431 before anything is kept.

uvicorn (0.55) puts no limit on a request's head when it parses with httptools: llhttp
has none, and httptools joins a header's pieces in memory until the header ends, so an
8 MB header was answered 200 and four parallel 50 MB headers took the API to 391 MB
(issue 18, item 8). h11's ``h11_max_incomplete_event_size`` bounds only h11, which costs
more CPU per request (pyproject.toml). This subclass, which ``bantin api`` runs
(``service/cli/main.py``), fixes a budget before any byte is parsed (decision 0030):

- the request target (URL): at most MAX_TARGET_BYTES, else 414 URI Too Long (RFC 9110
  §15.5.15);
- each header field line (name and value): at most MAX_FIELD_BYTES, at most MAX_FIELDS
  of them, and the whole head at most MAX_HEAD_BYTES, else 431 Request Header Fields
  Too Large (RFC 6585 §5).

The parser is fed FEED_BYTES at a time, a head no more than it has room left for, and
the head's bytes are counted after each piece, so it never holds more than
MAX_HEAD_BYTES of a head, however the reads fall. A head that begins inside a piece (a
request pipelined behind another) is counted from the piece's start: an over-count of
less than FEED_BYTES, never an under-count. A refusal is written, the sending side closed, and whatever the client
still sends is read and dropped for LINGER_SECONDS, so that it gets to read the answer
instead of a reset (nginx's "lingering close"); then the connection is closed.

The line limits are nginx's (``large_client_header_buffers 4 8k``, deploy/nginx) and
Apache's; the count is Apache's and gunicorn's (``LimitRequestFields 100``). The head
limit is twice what nginx lets through, so nothing nginx passes, with the headers it
adds, is refused here.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from service.i18n import N_, gettext, number, use_language

log = logging.getLogger(__name__)
MAX_TARGET_BYTES = 8 * 1024
MAX_FIELD_BYTES = 8 * 1024
MAX_FIELDS = 100
MAX_HEAD_BYTES = 64 * 1024
FEED_BYTES = 8 * 1024
LINGER_SECONDS = 2.0
# Messages are msgids (Vietnamese); the answer carries them in both languages, since the
# head that would say which one the client wants is what is refused.
TARGET_TOO_LONG = N_("Địa chỉ yêu cầu (URL) quá dài: tối đa %(limit)s byte.")
HEAD_TOO_LARGE = N_(
    "Phần đầu yêu cầu (các header) quá lớn: tối đa %(fields)s trường, mỗi trường %(field)s byte, "
    "cả phần đầu %(head)s byte."
)


class HeadRefused(Exception):
    """Raised inside the parser's callbacks to stop it; ``status`` is 414 or 431."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _words(status: HTTPStatus) -> bytes:
    """The refusal's text, Vietnamese then English, one line each."""
    lines = []
    for code in ("vi", "en"):
        with use_language(code):
            if status == HTTPStatus.REQUEST_URI_TOO_LONG:
                lines.append(gettext(TARGET_TOO_LONG, limit=number(MAX_TARGET_BYTES)))
            else:
                fields, field, head = number(MAX_FIELDS), number(MAX_FIELD_BYTES), number(MAX_HEAD_BYTES)
                lines.append(gettext(HEAD_TOO_LARGE, fields=fields, field=field, head=head))
    return "\n".join(lines).encode() + b"\n"


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with the request head bounded (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Bytes of the head being read; None between heads (in a body, or before a request).
        self._head_bytes: int | None = None
        self._head_began = False  # in the piece just fed
        self._fields = 0
        self._refusal: HeadRefused | None = None

    def data_received(self, data: bytes) -> None:
        """Feed ``data`` to the parser in pieces the head has room for; refuse a head over MAX_HEAD_BYTES."""
        if self._refusal is not None:
            return  # lingering: dropped unread
        self._unset_keepalive_if_required()
        view, start = memoryview(data), 0
        while start < len(view):
            # A head being read gets no more than it has room for, so it cannot end past the limit unseen.
            size = FEED_BYTES if self._head_bytes is None else min(FEED_BYTES, MAX_HEAD_BYTES - self._head_bytes)
            piece = view[start : start + size]
            start += size
            self._head_began = False
            self._feed(piece)
            if self._refusal is not None or self.transport.is_closing():
                return
            if self._head_bytes is None:
                continue
            self._head_bytes = len(piece) if self._head_began else self._head_bytes + len(piece)
            if self._head_bytes >= MAX_HEAD_BYTES:  # full, and not ended: it is longer
                self._refuse(HeadRefused(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "head over the limit"))
                return

    def _feed(self, data: memoryview) -> None:
        # uvicorn's data_received, with a refusal of ours told apart from a malformed request.
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self._refusal is not None:
                self._refuse(self._refusal)
                return
            message = "Invalid HTTP request received."
            self.logger.warning(message)
            self.send_400_response(message)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def _stop(self, refusal: HeadRefused) -> None:
        # Raised inside a parser callback: httptools ends feed_data with HttpParserCallbackError.
        self._refusal = refusal
        raise refusal

    def on_message_begin(self) -> None:
        """A new request: its head's byte and field counts start at zero."""
        super().on_message_begin()
        self._head_bytes, self._head_began, self._fields = 0, True, 0

    def on_url(self, url: bytes) -> None:
        """Refuse a request target over MAX_TARGET_BYTES with 414 (RFC 9110 §15.5.15)."""
        super().on_url(url)
        if len(self.url) > MAX_TARGET_BYTES:
            self._stop(HeadRefused(HTTPStatus.REQUEST_URI_TOO_LONG, f"target over {MAX_TARGET_BYTES} bytes"))

    def on_header(self, name: bytes, value: bytes) -> None:
        """Refuse more than MAX_FIELDS fields, or one over MAX_FIELD_BYTES, with 431 (RFC 6585 §5)."""
        self._fields += 1
        if self._fields > MAX_FIELDS:
            self._stop(HeadRefused(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"more than {MAX_FIELDS} fields"))
        if len(name) + len(value) > MAX_FIELD_BYTES:
            self._stop(HeadRefused(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"a field over {MAX_FIELD_BYTES} bytes"))
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The head ended within its limits: what follows is body, not counted as head."""
        self._head_bytes = None
        super().on_headers_complete()

    def _refuse(self, refusal: HeadRefused) -> None:
        """Answer ``refusal`` and close, reading and dropping what the client still sends."""
        self._refusal = refusal
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        log.warning("request head refused with %d (%s) from %s", refusal.status, refusal.reason, client)
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request's answer is still being written: a second one would garble it.
            self.transport.close()
            return
        body = _words(refusal.status)
        content = [STATUS_LINE[refusal.status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: text/plain; charset=utf-8\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
