"""``Idempotency-Key`` on every POST of the API (decision 29).

A client that sends a POST again — its connection dropped, it timed out, it crashed before
reading the answer — must not create a second article, subscription or test message. The
key (the IETF httpapi draft "The Idempotency-Key HTTP Header Field"; Stripe's API) names
one request per token:

- the same key with the same request (method, path, query and JSON body, compared as
  parsed) gets the first answer again: its status, body and Location, with
  ``Idempotent-Replayed: true``, and nothing is done twice;
- the same key with another request is a 422 naming ``Idempotency-Key``;
- only a success is kept: a refused request leaves the key unused.

The key's row (``idempotent_requests``) is inserted first, in the transaction that does the
work, and the answer is written into it before that transaction commits. So two requests
with one key at once are one: the second's insert waits on the first's (PostgreSQL's
unique index, SQLite's write lock), fails once the first commits, and the second answers
what the first answered. A request that fails rolls its key back with its work.

An endpoint takes ``once: Idempotent`` and does its work in ``once.unit_of_work(caller)``
instead of ``session_scope()``, returning ``once.answer(...)``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, StringConstraints
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.api.auth import Caller
from service.db.engine import session_scope
from service.db.models import IdempotentRequest
from service.db.types import utcnow
from service.errors import Conflict, InvalidField
from service.json_input import JsonRefused, parse_json

HEADER = "Idempotency-Key"
MAX_KEY = 255
REPLAYED_HEADER = "Idempotent-Replayed"
Body = TypeVar("Body", bound=BaseModel | Mapping[str, Any])


class Replayed(Exception):
    """The request was answered before: ``response`` is that answer (``install`` sends it)."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__("answered before")
        self.response = response


def install(app: FastAPI) -> None:
    """Answer a :class:`Replayed` with the answer it carries."""

    @app.exception_handler(Replayed)
    async def _replayed(_: Request, signal: Replayed) -> JSONResponse:
        return signal.response


class Idempotent:
    """One request's Idempotency-Key (or none) and what identifies the request it names."""

    def __init__(self, key: str | None, fingerprint: str) -> None:
        self.key = key
        self.fingerprint = fingerprint
        self._claim: IdempotentRequest | None = None
        self._answered = False

    @contextmanager
    def unit_of_work(self, caller: Caller) -> Iterator[Session]:
        """``session_scope()``, with the key claimed first when the request has one.

        Raises :class:`Replayed` when the key already has an answer for this request, and
        InvalidField (422 on ``Idempotency-Key``) when it has one for another request.
        """
        if self.key is None:
            with session_scope() as session:
                yield session
            return
        try:
            with session_scope() as session:
                self._claim = IdempotentRequest(
                    token_id=caller.token_id,
                    key=self.key,
                    request_fingerprint=self.fingerprint,
                    status_code=0,
                    response_body={},
                    created_at=utcnow(),
                )
                session.add(self._claim)
                try:
                    # The first statement of the transaction: it waits for a request holding the key.
                    session.flush()
                except IntegrityError:
                    raise _Taken from None
                yield session
                if not self._answered:
                    raise RuntimeError("an idempotent endpoint returned without once.answer(...)")
        except _Taken:
            raise Replayed(self._replay(caller)) from None

    def answer(
        self,
        session: Session,
        response: Response,
        body: Body,
        status_code: int,
        *,
        location: str | None = None,
        subscription_id: int | None = None,
    ) -> Body:
        """``body``, answered with ``status_code`` (and ``Location``), and kept for the key in this
        transaction; ``subscription_id`` names the subscription the body quotes (decision 29)."""
        response.status_code = status_code
        if location is not None:
            response.headers["Location"] = location
        if self._claim is not None:
            self._claim.status_code = status_code
            self._claim.response_body = body.model_dump(mode="json") if isinstance(body, BaseModel) else dict(body)
            self._claim.location = location
            self._claim.subscription_id = subscription_id
            session.flush()
        self._answered = True
        return body

    def _replay(self, caller: Caller) -> JSONResponse:
        with session_scope() as session:
            stored = session.scalars(
                select(IdempotentRequest).where(
                    IdempotentRequest.token_id == caller.token_id, IdempotentRequest.key == self.key
                )
            ).one_or_none()
            if stored is None:  # its subscription was deleted meanwhile, and the answer with it
                raise Conflict(f"the request with this {HEADER} ended without an answer to repeat; send it again")
            if stored.request_fingerprint != self.fingerprint:
                raise InvalidField(HEADER, "idempotency_reused")
            headers = {REPLAYED_HEADER: "true", **({"Location": stored.location} if stored.location else {})}
            return JSONResponse(stored.response_body, status_code=stored.status_code, headers=headers)


class _Taken(Exception):
    """Another request holds the key: its answer is replayed once this transaction is rolled back."""


# 1 to 255 visible ASCII characters and spaces, not only spaces: what a header carries
# unchanged (an sf-string's characters, RFC 8941 §3.3.3), stated in the OpenAPI document too.
KeyText = Annotated[str, StringConstraints(max_length=MAX_KEY, pattern=r"^[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$")]


async def _idempotent(
    request: Request,
    key: Annotated[
        KeyText | None,
        Header(
            alias=HEADER,
            description=(
                "Sent again with the same request, the first answer is repeated and nothing is done twice;"
                " with another request, 422."
            ),
        ),
    ] = None,
) -> Idempotent:
    if key is None:
        return Idempotent(None, "")
    return Idempotent(key, _fingerprint(request, await request.body()))


def _fingerprint(request: Request, body: bytes) -> str:
    """SHA-256 of the method, path, query and body: the body as parsed JSON when it is JSON,
    so spacing and the order of fields do not make two requests different."""
    try:
        content = json.dumps(parse_json(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except JsonRefused:
        content = body  # refused as the body anyway (422), before any work
    query = json.dumps(sorted(request.query_params.multi_items()), ensure_ascii=False)
    identity = f"{request.method} {request.url.path}\n{query}\n".encode() + content
    return hashlib.sha256(identity).hexdigest()


# What an endpoint declares: ``once: Once``.
Once = Annotated[Idempotent, Depends(_idempotent)]
