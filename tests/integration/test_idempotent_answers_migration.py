"""Migration 0018 on PostgreSQL and SQLite: an article creation's kept answer, written by
the previous release, gets the Location a replay repeats (decision 29); going back keeps
only what the previous release can replay."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import create_engine, text

from service.db.migrate import alembic_config
from tests.integration.test_migrations import empty_url

__all__ = ["empty_url"]  # the fixture: both databases

ROW = (
    "INSERT INTO idempotent_requests (token_id, key, request_fingerprint, status_code, response_body, created_at)"
    " VALUES (1, :key, :fingerprint, 201, :body, :at)"
)
TOKEN = "INSERT INTO api_tokens (id, name, token_hash, scopes, created_at) VALUES (1, 't', :hash, '[\"publish\"]', :at)"


def test_kept_article_answers_get_their_location_and_other_answers_go_back_out(empty_url: str) -> None:
    config = alembic_config(empty_url)
    engine = create_engine(empty_url)
    try:
        command.upgrade(config, "0017")
        with engine.begin() as connection:
            connection.execute(text(TOKEN), {"hash": "0" * 64, "at": "2026-12-01 00:00:00"})
            body = json.dumps({"id": 42, "title": "Bài"})
            connection.execute(text(ROW), {"key": "k1", "fingerprint": "f" * 64, "body": body, "at": "2026-12-01"})
        command.upgrade(config, "0018")
        with engine.begin() as connection:
            location = connection.execute(text("SELECT location FROM idempotent_requests")).scalar()
            assert location == "/api/v1/articles/42"
            answer = json.dumps({"delivery_id": "msg_" + "0" * 32})
            connection.execute(text(ROW), {"key": "k2", "fingerprint": "e" * 64, "body": answer, "at": "2026-12-02"})
        command.downgrade(config, "0017")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT key FROM idempotent_requests")).scalars().all() == ["k1"]
    finally:
        engine.dispose()
