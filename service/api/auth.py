"""Bearer-token authentication and scope checks as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.auth.tokens import Scope, authenticate, effective_scopes
from service.db.models import Article, ArticleStatus
from service.db.types import utcnow

_bearer = HTTPBearer(auto_error=False, description="A token from `bantin tokens create`")


@dataclass(frozen=True)
class Caller:
    token_id: int
    name: str
    scopes: frozenset[Scope]

    @property
    def may_publish(self) -> bool:
        """False for a writer's token (scope ``write`` alone): drafts and review only."""
        return Scope.PUBLISH in self.scopes

    @property
    def actor(self) -> str:
        """How this token's changes are recorded (``created_by``/``updated_by``)."""
        return f"token:{self.token_id}"

    def require_own_draft(self, article: Article) -> None:
        """Let a writer's token (``write`` alone) change only a draft it created itself; others pass.

        HTTPException 403 saying which rule refused: the article was created by someone
        else, or it is no longer a draft. The same rule as the console's writers (issue 10:
        a writer drafts and submits, never publishes).
        """
        if self.may_publish:
            return
        if article.created_by != self.actor:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this token has the 'write' scope only: it changes only the drafts it created itself, "
                f"and article {article.id} was created by someone else",
            )
        if article.status != ArticleStatus.DRAFT:
            raise HTTPException(status.HTTP_403_FORBIDDEN, WRITER_ONLY_DRAFTS)


WRITER_ONLY_DRAFTS = "this token has the 'write' scope only: it keeps drafts and submits them for review"
WRITER_CANNOT_WITHDRAW = "this token has the 'write' scope only: withdrawing an article needs the 'publish' scope"


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
        if scope not in caller.scopes:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this token lacks the '{scope.value}' scope")
        return caller

    return dependency
