"""What bench/fanout.py watches from /proc while a fan-out runs: peak RSS and CPU-seconds
of process trees, and the PostgreSQL backends of the bench database."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine, text


class MemoryWatch(threading.Thread):
    """Peak summed RSS of a process and its children, read from /proc every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, _tree_rss(self.pid))
            time.sleep(0.05)


def tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [pid, *(int(p) for p in children.read_text().split())]
    except FileNotFoundError:
        return [pid]


def _tree_rss(pid: int) -> int:
    total = 0
    for member in tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except FileNotFoundError:
            pass
    return total


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (/proc/PID/stat fields 14 and 15); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class CpuWatch(threading.Thread):
    """CPU-seconds spent during the run by process groups: each worker's tree, the
    PostgreSQL backends of the bench database (found in pg_stat_activity as they come),
    the receiver, the API and beat. Read every 100 ms, so a backend that ends mid-run
    loses at most its last 100 ms."""

    def __init__(self, roots: dict[str, int], database_url: str, exclude_backend: int) -> None:
        super().__init__(daemon=True)
        self.roots, self.running = roots, True
        self.engine = create_engine(database_url)
        self.exclude = exclude_backend
        self.start_cpu: dict[int, float] = {}
        self.last_cpu: dict[int, tuple[str, float]] = {}
        self._sample(first=True)

    def _backends(self) -> list[int]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            )
            return [int(pid) for (pid,) in rows if pid != self.exclude]

    def _sample(self, first: bool = False) -> None:
        members = [(role, pid) for role, root in self.roots.items() for pid in tree(root)]
        members += [("postgresql", pid) for pid in self._backends()]
        for role, pid in members:
            used = cpu_seconds(pid)
            if used == 0.0:
                continue
            if pid not in self.start_cpu:
                self.start_cpu[pid] = used if first else 0.0
            self.last_cpu[pid] = (role, used)

    def run(self) -> None:
        while self.running:
            time.sleep(0.1)
            self._sample()

    def stop(self) -> dict[str, float]:
        """Stop sampling; CPU-seconds per role since the watch was made."""
        self.running = False
        self.join()
        self._sample()
        self.engine.dispose()
        spent: dict[str, float] = {}
        for pid, (role, used) in self.last_cpu.items():
            spent[role] = spent.get(role, 0.0) + used - self.start_cpu[pid]
        return spent


class RedisMemory(threading.Thread):
    """Peak ``used_memory`` of the Redis server (shared: other databases count too), every 0.5 s."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.client = redis.Redis.from_url(url)
        self.peak, self.running = 0, True

    def run(self) -> None:
        while self.running:
            info: dict[str, Any] = self.client.info("memory")  # type: ignore[assignment]
            self.peak = max(self.peak, int(info["used_memory"]))
            time.sleep(0.5)
