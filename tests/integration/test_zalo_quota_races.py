"""The Zalo promotion quota under concurrency, on SQLite and PostgreSQL (decision 0040): batches
that reserve units at the same moment never give out more than the window allows, and the
window's row, created on first use by all of them at once, is one row."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from config.settings import get_settings
from service.channels.messages import OutboundMessage
from service.channels.zalo import GRANTED, HELD
from service.db.engine import session_scope
from service.db.models import ZaloQuota
from service.deliveries import zalo_quota
from tests.integration.concurrency import at_once
from tests.outbound import outbound
from tests.tables import empty_all_tables

pytestmark = pytest.mark.usefixtures("each_database")

PARALLEL = 6
QUOTA = 5
NOW = datetime(2027, 5, 10, 3, 0, tzinfo=UTC)
PAYLOAD = {"article": {"title": "Lễ hội", "summary": "Tóm tắt", "url": "https://bantin.example.vn/articles/1/a"}}


@pytest.fixture(autouse=True)
def empty_tables(each_database: str) -> Iterator[None]:
    yield
    empty_all_tables()


def cold(n: int) -> OutboundMessage:
    message = outbound("article.published", PAYLOAD, channel="zalo", target=f"7{n:018d}", delivery_id=f"d{n}",
                       subscription_id=n)  # fmt: skip
    followed = int((NOW - timedelta(days=8, minutes=n)).timestamp() * 1000)
    return dataclasses.replace(message, options={"zalo_event_ms": followed})


def test_parallel_batches_never_give_out_more_units_than_the_window_allows() -> None:
    settings = get_settings().model_copy(update={"zalo_promotion_quota": QUOTA})

    def batch(n: int) -> tuple[int, int]:
        resources = zalo_quota.prepare(session_scope, [cold(2 * n), cold(2 * n + 1)], NOW, settings)
        granted, held = resources[GRANTED], resources[HELD]
        assert isinstance(granted, frozenset) and isinstance(held, dict)
        return len(granted), len(held)

    results = at_once(PARALLEL, batch)
    assert not [r for r in results if isinstance(r, BaseException)], results
    counts = [r for r in results if isinstance(r, tuple)]
    assert sum(g for g, _ in counts) == QUOTA
    assert sum(g + h for g, h in counts) == 2 * PARALLEL  # every cold follower granted or held
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(ZaloQuota)) == 1
        assert zalo_quota.current(session, settings, NOW).used == QUOTA
