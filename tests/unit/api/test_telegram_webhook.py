"""``POST /telegram/webhook``: the secret first, then the body; nothing stored when refused."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.api.app import create_app
from service.db.engine import session_scope
from service.db.models import TelegramUpdate

SECRET = "s3cret_-token"
UPDATE = {"update_id": 41, "message": {"message_id": 1, "chat": {"id": 9, "type": "private"}, "text": "/stop"}}


@pytest.fixture
def bot_client(settings_override: pytest.MonkeyPatch) -> Iterator[TestClient]:
    settings_override.setenv("BANTIN_TELEGRAM_WEBHOOK_SECRET", SECRET)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def recorded() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(TelegramUpdate)) or 0


HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Missing, wrong, longer, and a byte that is not ASCII (a header is Latin-1 on the wire).
REFUSED: list[dict[str, str | bytes]] = [{}, {HEADER: "wrong"}, {HEADER: SECRET + "x"}, {HEADER: b"s3cret_-toke\xf1"}]


@pytest.mark.parametrize("headers", REFUSED)
def test_without_our_secret_nothing_is_read_or_stored(bot_client: TestClient, headers: dict[str, str | bytes]) -> None:
    response = bot_client.post("/telegram/webhook", json=UPDATE, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "X-Telegram-Bot-Api-Secret-Token is missing or wrong"}
    assert recorded() == 0


def test_an_unset_secret_refuses_everything(client: TestClient) -> None:
    response = client.post("/telegram/webhook", json=UPDATE, headers={"X-Telegram-Bot-Api-Secret-Token": ""})
    assert response.status_code == 401


def test_a_bad_body_is_400_naming_the_field_and_a_good_one_is_handled_once(bot_client: TestClient) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    bad = bot_client.post("/telegram/webhook", content=b'{"update_id": 41, "message": {"chat": {}}}', headers=headers)
    assert bad.status_code == 400
    fields = [item["field"] for item in bad.json()["detail"]]
    assert fields[:2] == ["message.message_id", "message.chat.id"]
    assert recorded() == 0
    # No bot token in the unit environment: the reply fails and is logged; the update counts.
    for _ in range(2):
        assert bot_client.post("/telegram/webhook", json=UPDATE, headers=headers).json() == {"ok": True}
    assert recorded() == 1


# Nesting no recursion survives, nesting past the bound in a part the bot reads and in one it
# ignores (an update of a kind it does not handle is recorded as it is), and bytes that are not UTF-8.
UNREADABLE = [
    b"[" * 100_000,
    b'{"update_id": 42, "message": ' + b"[" * 900 + b"]" * 900 + b"}",
    b'{"update_id": 42, "edited_message": ' + b'{"a": ' * 70 + b"1" + b"}" * 70 + b"}",
    b'{"update_id": 42, "message": {"text": "\xff"}}',
]


@pytest.mark.parametrize("body", UNREADABLE)
def test_a_body_nested_too_deep_or_not_utf8_is_400_naming_the_body(bot_client: TestClient, body: bytes) -> None:
    response = bot_client.post("/telegram/webhook", content=body, headers={HEADER: SECRET})
    assert response.status_code == 400, response.text
    [item] = response.json()["detail"]
    assert item["field"] == "body" and item["message"].startswith("is not valid JSON: ")
    assert recorded() == 0


@pytest.mark.parametrize("body", UNREADABLE)
def test_without_our_secret_an_unreadable_body_is_never_read(bot_client: TestClient, body: bytes) -> None:
    response = bot_client.post("/telegram/webhook", content=body, headers={HEADER: "wrong"})
    assert response.status_code == 401
