"""Admin endpoints for API tokens. Tokens are created with the CLI only: a new secret
is shown once, on the machine, not sent across the network by a web request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel

from service.api.auth import Caller, require_scope
from service.api.errors import ADMIN_ONLY
from service.api.routing import api_router
from service.auth.tokens import Scope, list_tokens, revoke_token
from service.db.engine import read_scope, session_scope
from service.db.models import ApiToken
from service.db.types import utcnow
from service.inputs import RowId

router = api_router(prefix="/api/v1/tokens", tags=["tokens"], responses=ADMIN_ONLY)
Admin = Annotated[Caller, Depends(require_scope(Scope.ADMIN))]


class TokenOut(BaseModel):
    id: int
    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        """The API view of a token: never its secret nor its hash."""
        return cls(
            id=token.id,
            name=token.name,
            scopes=token.scopes,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


@router.get("", response_model=list[TokenOut])
def list_(_: Admin) -> list[TokenOut]:
    """Every token, never its secret."""
    with read_scope() as session:
        return [TokenOut.of(t) for t in list_tokens(session)]


@router.delete("/{token_id}", response_model=TokenOut)
def revoke(token_id: RowId, _: Admin) -> TokenOut:
    """Revoke a token; requests with it get 401 from then on."""
    with session_scope() as session:
        return TokenOut.of(revoke_token(session, token_id, utcnow()))
