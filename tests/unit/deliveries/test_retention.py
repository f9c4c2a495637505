from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from service.channels.messages import Ending, SendResult
from service.db.engine import session_scope
from service.db.models import Delivery, DeliveryAttempt, DeliveryStatus
from service.deliveries.retention import purge_delivered
from tests.unit.deliveries.test_outcomes import plan, run, subscribe

NOW = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)
OK = SendResult(ok=True, status_code=200)
BROKEN = SendResult.failure("HTTP 500", status_code=500)
GONE = SendResult.failure("HTTP 410", status_code=410, gone=Ending.ENDED)


def deliveries_by_status() -> dict[str, int]:
    with session_scope() as session:
        return dict(session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())  # type: ignore[arg-type]


def attempts() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(DeliveryAttempt)) or 0


def age_everything(days: float) -> None:
    """Move every row's times back, as if it had happened ``days`` ago."""
    with session_scope() as session:
        for row in session.scalars(select(Delivery)):
            row.next_attempt_at -= timedelta(days=days)
            if row.delivered_at is not None:
                row.delivered_at -= timedelta(days=days)


def test_only_delivered_rows_past_the_retention_go_with_their_attempts() -> None:
    ids = [subscribe(str(n)) for n in range(4)]
    plan("event:1")
    run({ids[0]: OK, ids[1]: OK, ids[2]: BROKEN, ids[3]: GONE})  # delivered ×2, retry pending, failed
    age_everything(40)
    new = plan("event:2")  # the three subscriptions still active, delivered just now
    with session_scope() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(new))
            .values(status=DeliveryStatus.DELIVERED.value, delivered_at=NOW, next_attempt_at=NOW)
        )
    assert deliveries_by_status() == {"delivered": 5, "pending": 1, "failed": 1}
    assert attempts() == 4

    deleted = purge_delivered(session_scope, NOW + timedelta(minutes=1), retention_days=30)

    assert deleted == 2
    assert deliveries_by_status() == {"delivered": 3, "pending": 1, "failed": 1}
    assert attempts() == 2  # the old retry's and the old failure's: what an operator investigates


def test_chunks_are_bounded_and_a_tick_stops_after_its_chunks() -> None:
    ids = [subscribe(str(n)) for n in range(7)]
    plan("event:1")
    run(dict.fromkeys(ids, OK))
    age_everything(40)
    later = NOW + timedelta(minutes=1)

    assert purge_delivered(session_scope, later, retention_days=30, chunk_rows=2, max_chunks=2) == 4
    assert purge_delivered(session_scope, later, retention_days=30, chunk_rows=2, max_chunks=2) == 3
    assert purge_delivered(session_scope, later, retention_days=30, chunk_rows=2, max_chunks=2) == 0
    assert deliveries_by_status() == {} and attempts() == 0


def test_nothing_inside_the_retention_is_deleted() -> None:
    ids = [subscribe(str(n)) for n in range(3)]
    plan("event:1")
    run(dict.fromkeys(ids, OK))
    age_everything(29)
    assert purge_delivered(session_scope, NOW, retention_days=30) == 0
    assert deliveries_by_status() == {"delivered": 3}
