"""What Linux says about a running process (proc(5)): memory, limits, children."""

from __future__ import annotations

from pathlib import Path


def status_kib(pid: int, field: str) -> int:
    """A ``kB`` field of /proc/<pid>/status: VmRSS (resident now), VmHWM (its peak) …"""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


def reset_peak(pid: int) -> None:
    """Start VmHWM again from the current RSS (writing 5 to /proc/<pid>/clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def children(pid: int) -> list[int]:
    """The process ids of ``pid``'s children, from every thread's list."""
    pids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            listed = (task / "children").read_text()
        except FileNotFoundError:  # the thread ended between the listing and the read
            continue
        pids += [int(child) for child in listed.split()]
    return pids


def address_space_limit(pid: int) -> int | None:
    """The soft RLIMIT_AS of a process in bytes (None: unlimited), from /proc/<pid>/limits."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max address space"):
            soft = line.split()[3]
            return None if soft == "unlimited" else int(soft)
    raise AssertionError(f"no address-space limit line for process {pid}")
