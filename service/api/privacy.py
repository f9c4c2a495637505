"""Admin: export and forget one subscriber (Decree 13/2023/NĐ-CP), as ``bantin subscribers export/forget``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response
from pydantic import BaseModel, ConfigDict

from service.api.auth import Caller, require_scope
from service.api.errors import ADMIN_ONLY
from service.api.idempotency import Once
from service.api.routing import api_router
from service.auth.tokens import Scope
from service.db.engine import session_scope
from service.db.types import utcnow
from service.inputs import SubscriberTarget
from service.readers import privacy

router = api_router(prefix="/api/v1/subscribers", tags=["personal data"], responses=ADMIN_ONLY)
Admin = Annotated[Caller, Depends(require_scope(Scope.ADMIN))]


class ForgetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: SubscriberTarget


class ForgetResult(BaseModel):
    forgotten: int


@router.get("/export")
def export(_: Admin, target: Annotated[SubscriberTarget, Query()]) -> privacy.PrivacyExport:
    """Everything held about one e-mail address, Telegram chat id or Zalo follower id, as JSON."""
    with session_scope() as session:
        return privacy.export(session, target)


@router.post("/forget", response_model=ForgetResult)
def forget(body: ForgetRequest, caller: Admin, response: Response, once: Once) -> ForgetResult:
    """Erase one subscriber's personal data; a hashed suppression entry and anonymous counts stay."""
    with once.unit_of_work(caller) as session:
        result = ForgetResult(forgotten=privacy.forget(session, body.target, utcnow()))
        return once.answer(session, response, result, 200)
