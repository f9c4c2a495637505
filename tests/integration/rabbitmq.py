"""A RabbitMQ virtual host of our own on the machine's RabbitMQ (127.0.0.1:5672, guest).

Each test session creates its own vhost and deletes it afterwards, so parallel runs
(several engineers, CI jobs) never share queues and nothing is left behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

RABBITMQ_HOST = os.environ.get("BANTIN_TEST_RABBITMQ_HOST", "127.0.0.1:5672")


def rabbitmqctl(*args: str) -> None:
    if shutil.which("rabbitmqctl") is None:
        pytest.fail("rabbitmqctl is needed for the RabbitMQ integration tests (Debian package rabbitmq-server)")
    result = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        pytest.fail(f"rabbitmqctl {' '.join(args)} failed ({result.returncode}): {result.stderr or result.stdout}")


class VirtualHost:
    """``create()`` then ``url``; ``delete()`` drops it with every queue in it."""

    def __init__(self, prefix: str = "bantin_it") -> None:
        self.name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.url = f"amqp://guest:guest@{RABBITMQ_HOST}/{self.name}"

    def create(self) -> None:
        rabbitmqctl("add_vhost", self.name)
        rabbitmqctl("set_permissions", "-p", self.name, "guest", ".*", ".*", ".*")

    def delete(self) -> None:
        rabbitmqctl("delete_vhost", self.name)

    def queue_types(self) -> dict[str, str]:
        """Queue name → type (classic, quorum) as RabbitMQ reports them."""
        result = subprocess.run(
            ["rabbitmqctl", "-q", "list_queues", "-p", self.name, "name", "type", "--no-table-headers"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return dict(line.split("\t")[:2] for line in result.stdout.splitlines() if "\t" in line)
