"""``bantin health ROLE``, the command every container health check and probe runs."""

from __future__ import annotations

from tests.integration.stack import PrivateRedis, Stack, bantin, clean_env, free_port


def assert_health(stack: Stack) -> None:
    """All three roles of ``stack`` report healthy."""
    for args in (["api", "--port", str(stack.port)], ["api", "--port", str(stack.port), "--path", "/healthz"]):
        result = stack.run("health", *args)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("healthy: http://127.0.0.1:")
    worker = stack.run("health", "worker")
    assert worker.returncode == 0, worker.stderr
    beat = stack.run("health", "beat")
    assert beat.returncode == 0, beat.stderr


def test_every_role_of_the_running_stack_is_healthy(stack: Stack) -> None:
    assert_health(stack)


def test_what_is_down_is_unhealthy_with_the_reason() -> None:
    broker = PrivateRedis()  # a broker with no worker consuming from it
    broker.start()
    try:
        env = clean_env(BANTIN_REDIS_URL=broker.url)
        api = bantin(env, "health", "api", "--port", str(free_port()))
        assert api.returncode == 1 and "unhealthy: http://127.0.0.1:" in api.stderr
        assert "Connection refused" in api.stderr
        worker = bantin(env, "health", "worker", "--timeout", "2")
        assert worker.returncode == 1 and "unhealthy: feeds@" in worker.stderr
        assert "no answer to a ping" in worker.stderr
        assert bantin(env, "health", "beat").returncode == 0
    finally:
        broker.kill()
    beat = bantin(clean_env(BANTIN_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"), "health", "beat")
    assert beat.returncode == 1 and "unhealthy: broker redis://" in beat.stderr and "Connection refused" in beat.stderr
