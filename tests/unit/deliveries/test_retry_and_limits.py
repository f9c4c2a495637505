from datetime import UTC, datetime, timedelta

from service.deliveries.planning import matches
from service.deliveries.ratelimit import LocalRateLimiter
from service.deliveries.retry import next_attempt_at

NOW = datetime(2027, 2, 3, tzinfo=UTC)
SCHEDULE = [5, 300, 1800]


def test_schedule_with_jitter_and_end() -> None:
    first = next_attempt_at(NOW, 1, SCHEDULE)
    assert first is not None and timedelta(seconds=4.5) <= first - NOW <= timedelta(seconds=5.5)
    third = next_attempt_at(NOW, 3, SCHEDULE)
    assert third is not None and timedelta(seconds=1620) <= third - NOW <= timedelta(seconds=1980)
    assert next_attempt_at(NOW, 4, SCHEDULE) is None


def test_retry_after_wins_when_longer() -> None:
    later = next_attempt_at(NOW, 1, SCHEDULE, retry_after=60)
    assert later == NOW + timedelta(seconds=60)


def test_subscription_filters() -> None:
    assert matches([], [], "article.published", ["thoi-su"])
    assert matches(["article.published"], [], "article.published", None)
    assert not matches(["article.updated"], [], "article.published", None)
    assert matches([], ["thoi-su", "xay-dung-dang"], "article.published", ["xay-dung-dang"])
    assert not matches([], ["thoi-su"], "article.published", ["xay-dung-dang"])
    assert not matches([], ["thoi-su"], "article.published", [])


def test_local_bucket_allows_the_rate_and_says_how_long_to_wait() -> None:
    limiter = LocalRateLimiter()
    assert limiter.acquire("chat", per_second=1) == 0
    wait = limiter.acquire("chat", per_second=1)
    assert 0.9 < wait <= 1.0
    assert limiter.acquire("other-chat", per_second=1) == 0
