"""Request heads against the real ``bantin api`` (issue 18, item 8; decision 0030): an 8 MB
header, many small ones, a huge URL and parallel 50 MB headers are refused with 431 or
414 before the server keeps them, and its peak memory stays put. Raw sockets, since HTTP
clients refuse to send such requests themselves."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from service.api.http_protocol import MAX_FIELD_BYTES, MAX_FIELDS, MAX_TARGET_BYTES
from tests.integration.conftest import api_alone
from tests.integration.processes import reset_peak, status_kib
from tests.integration.stack import Stack

# What refusing four 50 MB heads may add to the API's peak RSS: four reads of 256 KiB,
# four heads of 64 KiB and the allocator's slack. Before decision 0030 it was 391 MB.
API_GROWTH_BOUND_KIB = 16 * 1024


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Stack]:
    with api_alone(Path(tmp_path_factory.mktemp("heads")), redis_url) as stack:
        yield stack


def exchange(stack: Stack, request: bytes) -> bytes:
    """Send ``request`` whole, then read until the server closes (its last request says
    ``Connection: close``, or it is refused); what the server answered."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=30) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def get(path: str = "/healthz", headers: list[tuple[str, str]] | None = None, close: bool = True) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers or [])]
    lines += ["Connection: close"] if close else []
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_an_8_mb_header_is_refused_with_431_naming_the_limits(api: Stack) -> None:
    answer = exchange(api, get(headers=[("X-Big", "a" * 8_000_000)]))
    assert status(answer) == 431
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    vietnamese, english = body.decode().splitlines()
    assert "tối đa 100 trường, mỗi trường 8.192 byte, cả phần đầu 65.536 byte" in vietnamese
    assert "at most 100 fields of 8,192 bytes each, 65,536 bytes in all" in english


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(f"X-F{n}", "v") for n in range(MAX_FIELDS - 2)], 200),  # with Host and Connection: the limit
        ([(f"X-F{n}", "v") for n in range(MAX_FIELDS - 1)], 431),
        ([(f"X-F{n}", "v") for n in range(5000)], 431),
        ([("X-Long", "v" * (MAX_FIELD_BYTES - len("X-Long")))], 200),
        ([("X-Long", "v" * (MAX_FIELD_BYTES - len("X-Long") + 1))], 431),
        ([(f"X-F{n}", "v" * 7000) for n in range(10)], 431),  # each under the field limit, 70 kB in all
    ],
    ids=["100 fields", "101 fields", "5000 fields", "a field at the limit", "a field over it", "70 kB in all"],
)
def test_header_count_field_size_and_head_size_are_bounded(
    api: Stack, headers: list[tuple[str, str]], expected: int
) -> None:
    assert status(exchange(api, get(headers=headers))) == expected


@pytest.mark.parametrize(
    ("length", "expected"),
    [(MAX_TARGET_BYTES - len("/healthz?q="), 200), (MAX_TARGET_BYTES + 1, 414), (1_000_000, 414)],
    ids=["at the limit", "one byte over", "a megabyte"],
)
def test_a_long_request_target_is_refused_with_414(api: Stack, length: int, expected: int) -> None:
    path = "/healthz?q=" + "x" * (length - len("/healthz?q="))
    assert len(path) == length
    answer = exchange(api, get(path))
    assert status(answer) == expected
    if expected == 414:
        assert "8.192 byte" in answer.partition(b"\r\n\r\n")[2].decode()


def test_parallel_50_mb_headers_leave_the_api_s_memory_where_it_was(api: Stack) -> None:
    pid = api.processes["api"].pid
    reset_peak(pid)
    before = status_kib(pid, "VmRSS")
    request = get(headers=[("Cookie", "c" * 50_000_000)])
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: exchange(api, request), range(4)))
    assert [status(answer) for answer in answers] == [431] * 4
    assert status_kib(pid, "VmHWM") - before < API_GROWTH_BOUND_KIB
    assert status(exchange(api, get())) == 200


def test_a_body_is_not_counted_as_head_and_each_request_gets_its_own_budget(api: Stack) -> None:
    # One connection: a POST with a 200 kB body, a request with a 40 kB head, then one
    # with a 70 kB head. Only the last is refused.
    body = b"x" * 200_000
    post = f"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    fitting = get(headers=[(f"X-F{n}", "v" * 4000) for n in range(10)], close=False)
    answers = exchange(api, post + fitting + get(headers=[(f"X-F{n}", "v" * 7000) for n in range(10)]))
    statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", answers)]
    assert statuses[0] in (404, 405)  # /healthz is GET only
    assert statuses[1:] == [200, 431]
