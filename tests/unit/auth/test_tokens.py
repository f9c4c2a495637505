from datetime import UTC, datetime, timedelta

import pytest

from service.auth.tokens import Scope, authenticate, create_token, effective_scopes, revoke_token
from service.db.engine import session_scope
from service.errors import InvalidField

T0 = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)


def last_used(raw: str, now: datetime) -> datetime | None:
    """``last_used_at`` of the token after authenticating it at ``now``."""
    token = authenticate(raw, now)
    assert token is not None, "the token did not authenticate"
    return token.last_used_at


def test_token_is_stored_hashed_and_last_use_is_kept_to_five_minutes() -> None:
    with session_scope() as session:
        token, raw = create_token(session, "desk", ["publish"], T0)
        assert raw.startswith("btn_") and raw not in token.token_hash
    assert last_used(raw, T0) == T0
    assert last_used(raw, T0 + timedelta(minutes=4)) == T0  # no write
    assert last_used(raw, T0 + timedelta(minutes=6)) == T0 + timedelta(minutes=6)
    assert authenticate("btn_wrong", T0) is None


def test_revoked_token_no_longer_authenticates_and_admin_implies_publish() -> None:
    with session_scope() as session:
        token, raw = create_token(session, "ops", ["admin"], T0)
        assert effective_scopes(token) == {Scope.ADMIN, Scope.PUBLISH, Scope.WRITE}
        revoke_token(session, token.id, T0)
    assert authenticate(raw, T0) is None


@pytest.mark.parametrize(
    ("name", "scopes", "field"), [("", ["publish"], "name"), ("x", ["root"], "scope"), ("x", [], "scope")]
)
def test_bad_token_requests_name_the_field(name: str, scopes: list[str], field: str) -> None:
    with pytest.raises(InvalidField) as caught, session_scope() as session:
        create_token(session, name, scopes, T0)
    assert caught.value.field == field
