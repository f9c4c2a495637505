"""Bearer-token authentication and scope checks as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.articles.editorial import Actor, NotPermitted, Rule, program
from service.audit.context import identify
from service.auth.tokens import Scope, authenticate, effective_scopes
from service.db.types import utcnow

_bearer = HTTPBearer(auto_error=False, description="A token from `bantin tokens create`")


@dataclass(frozen=True)
class Caller:
    token_id: int
    name: str
    scopes: frozenset[Scope]

    @property
    def actor(self) -> Actor:
        """Who this token is to the editorial policy: a role by its scopes (decision 0026);
        its changes are recorded as ``token:<id>``."""
        return program(self.token_id, self.scopes)

    @contextmanager
    def refusals(self) -> Iterator[None]:
        """Within the block, a role refusal of the editorial policy is a 403 in the API's words.

        A ``write`` token is told which rule of its scope refused (the sentences the API has
        always given); other refusals keep the policy's own sentence. State refusals
        (WrongState) are Conflicts: the app answers them 409.
        """
        try:
            yield
        except NotPermitted as refused:
            detail = str(refused)
            if Scope.PUBLISH not in self.scopes:
                detail = _WRITER_DETAILS.get(refused.rule, WRITER_ONLY_DRAFTS).format(
                    article_id=refused.params.get("article_id")
                )
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail) from None


WRITER_ONLY_DRAFTS = "this token has the 'write' scope only: it keeps drafts and submits them for review"
WRITER_CANNOT_WITHDRAW = "this token has the 'write' scope only: withdrawing an article needs the 'publish' scope"
_WRITER_DETAILS = {
    Rule.NOT_THEIRS: "this token has the 'write' scope only: it changes only the drafts it created itself, "
    "and article {article_id} was created by someone else",
    Rule.WITHDRAWING_NEEDS_EDITOR: WRITER_CANNOT_WITHDRAW,
}


def require_scope(scope: Scope) -> Callable[..., Caller]:
    """A FastAPI dependency that authenticates the bearer token and requires ``scope``.

    The dependency returns the ``Caller``; it raises HTTPException 401 for a missing,
    unknown or revoked token (with ``WWW-Authenticate``, RFC 6750 §3) and 403 when the
    token lacks the scope.
    """

    def dependency(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
        if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing bearer token: send 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        token = authenticate(credentials.credentials, utcnow())
        if token is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "unknown or revoked token",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        caller = Caller(token.id, token.name, frozenset(effective_scopes(token)))
        identify("token", token.id, token.name)
        if scope not in caller.scopes:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this token lacks the '{scope.value}' scope")
        return caller

    return dependency
