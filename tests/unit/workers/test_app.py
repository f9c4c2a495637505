import workers.maintenance  # (registers the tasks on the app)
import workers.tasks  # noqa: F401
from config.settings import Settings
from workers.app import app, beat_schedule, create_app
from workers.queues import Queue


def test_beat_schedule_exact_contents() -> None:
    schedule = beat_schedule(Settings(sweep_interval_seconds=7))
    assert schedule == {
        "events-sweep": {"task": "events.sweep", "schedule": 7, "options": {"queue": "maintenance", "expires": 7}},
        "articles-publish-due": {
            "task": "articles.publish_due",
            "schedule": 7,
            "options": {"queue": "maintenance", "expires": 7},
        },
        "deliveries-sweep": {
            "task": "deliveries.sweep",
            "schedule": 7,
            "options": {"queue": "maintenance", "expires": 7},
        },
        "websub-maintain": {
            "task": "websub.maintain",
            "schedule": 7,
            "options": {"queue": "maintenance", "expires": 7},
        },
        "calendar-tick": {
            "task": "calendar.tick",
            "schedule": 7,
            "options": {"queue": "maintenance", "expires": 7},
        },
        "deliveries-purge": {
            "task": "deliveries.purge",
            "schedule": 7,
            "options": {"queue": "maintenance", "expires": 7},
        },
        "digests-tick": {
            "task": "digests.tick",
            "schedule": 7,
            "options": {"queue": "maintenance", "expires": 7},
        },
    }
    # Every scheduled task exists under that exact wire name.
    assert {entry["task"] for entry in schedule.values()} <= set(app.tasks)


def test_task_names_are_explicit_and_stable() -> None:
    ours = {name for name in app.tasks if not name.startswith("celery.")}
    assert ours == {
        "events.dispatch",
        "events.announce",
        "events.sweep",
        "articles.publish_due",
        "deliveries.send_batch",
        "deliveries.sweep",
        "websub.verify",
        "websub.distribute",
        "websub.maintain",
        "calendar.tick",
        "deliveries.purge",
        "digests.tick",
    }


def test_reliability_options() -> None:
    conf = create_app(Settings(broker_url="redis://127.0.0.1:1/0")).conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_create_missing_queues is False
    assert conf.worker_hijack_root_logger is False
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert {q.name for q in conf.task_queues} == {q.value for q in Queue}
    assert conf.broker_url == "redis://127.0.0.1:1/0"


def test_embedded_default_broker_is_the_redis_socket_under_var() -> None:
    settings = Settings(broker_url=None, redis_url=None, database_url=None, var_dir="/srv/bantin/var")
    assert settings.effective_broker_url == "redis+socket:///srv/bantin/var/redis.sock"
    assert settings.effective_database_url == "sqlite:////srv/bantin/var/bantin.db"


def test_rabbitmq_gets_quorum_queues_and_publisher_confirms() -> None:
    rabbit = create_app(Settings(broker_url="amqp://guest:guest@127.0.0.1:5672/x", redis_url="redis://r:6379/0"))
    assert rabbit.conf.broker_transport_options["confirm_publish"] is True
    assert "visibility_timeout" not in rabbit.conf.broker_transport_options
    for queue in rabbit.conf.task_queues:
        assert queue.durable is True
        assert queue.queue_arguments == {"x-queue-type": "quorum"}
    assert rabbit.conf.broker_connection_max_retries is None


def test_redis_keeps_its_visibility_timeout_and_plain_lists() -> None:
    on_redis = create_app(Settings(redis_url="redis://r:6379/0"))
    assert on_redis.conf.broker_transport_options["visibility_timeout"] == 3600
    assert "confirm_publish" not in on_redis.conf.broker_transport_options
    assert all(not queue.queue_arguments for queue in on_redis.conf.task_queues)
