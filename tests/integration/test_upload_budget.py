"""Decompression bombs against the real API process (issue 18, item 3; decision 0030).

Each bomb is uploaded through the console to ``bantin api`` and refused with the limit
it breaks, while the API process's peak resident memory (VmHWM, reset before each
upload) stays within a bound; what passes the headers is decoded by one child process at
a time whose address-space limit is the configured one. Before decision 0030 the 1.5 MB GIF
of 40 frames of 7,000 × 7,000 ran for minutes and took the API past 3 GB.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import api_alone
from tests.integration.processes import address_space_limit, children, reset_peak, status_kib
from tests.integration.stack import Stack
from tests.integration.test_console_browser import run_cli
from tests.unit.media.bombs import apng_animation, gif_animation, webp_animation
from tests.unit.media.samples import png_bomb

PASSWORD = "Mật khẩu thử ảnh nặng 2026"
DECODE_MEMORY_MB = 512
# What an upload may add to the API process's peak RSS: the request (a few MB here), the
# answer and the allocator's slack; a decoded 7,000 × 7,000 frame alone is 196 MB.
API_GROWTH_BOUND_KIB = 64 * 1024


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Stack]:
    """The API alone, decoding with a 512 MiB limit, and an editor to sign in as."""
    settings = {"BANTIN_MEDIA_DECODE_MEMORY_MB": str(DECODE_MEMORY_MB)}
    with api_alone(Path(tmp_path_factory.mktemp("uploads")), redis_url, **settings) as stack:
        created = run_cli(stack, "users", "create", "--username", "anhnang", "--role", "editor", stdin=PASSWORD + "\n")
        assert created.returncode == 0, created.stderr
        yield stack


@pytest.fixture(scope="module")
def editor(api: Stack) -> Iterator[tuple[httpx.Client, str]]:
    """A client signed in to the console, and the session's CSRF token."""
    with httpx.Client(base_url=api.base_url, headers={"Origin": api.base_url}, timeout=120) as client:
        page = client.get("/console/login").text
        login_csrf = re.search(r'name="login_csrf" value="([^"]+)"', page)
        assert login_csrf
        signed_in = client.post(
            "/console/login", data={"username": "anhnang", "password": PASSWORD, "login_csrf": login_csrf.group(1)}
        )
        assert signed_in.status_code == 303, signed_in.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/").text)
        assert token
        yield client, token.group(1)


def upload(editor: tuple[httpx.Client, str], data: bytes) -> httpx.Response:
    client, token = editor
    return client.post("/console/media", data={"csrf_token": token}, files={"file": ("anh.gif", data, "image/gif")})


@pytest.mark.parametrize(
    ("bomb", "words"),
    [
        (gif_animation(40, 7000, 7000), "40 khung hình × 7.000 × 7.000 điểm ảnh"),
        (apng_animation(40, 7000, 7000), "40 khung hình × 7.000 × 7.000 điểm ảnh"),
        (webp_animation(40, 7000, 7000), "40 khung hình × 7.000 × 7.000 điểm ảnh"),
        (gif_animation(2, 9000, 9000, first=(16, 16)), "9.000 × 9.000 điểm ảnh quá lớn"),
        (png_bomb(20_000, 20_000), "20.000 × 20.000 điểm ảnh quá lớn"),
    ],
    ids=["gif", "apng", "webp", "gif hiding its size", "png"],
)
def test_a_bomb_is_refused_with_its_limit_and_the_api_stays_small(
    api: Stack, editor: tuple[httpx.Client, str], bomb: bytes, words: str
) -> None:
    pid = api.processes["api"].pid
    reset_peak(pid)
    before = status_kib(pid, "VmRSS")

    refused = upload(editor, bomb)

    assert refused.status_code == 422, refused.text
    assert words in refused.json()["message"] and "tối đa" in refused.json()["message"]
    assert status_kib(pid, "VmHWM") - before < API_GROWTH_BOUND_KIB


def test_parallel_uploads_are_decoded_one_at_a_time_under_the_address_space_limit(
    api: Stack, editor: tuple[httpx.Client, str]
) -> None:
    # Two to four frames of 3,000 × 3,000 pass the headers (18 to 36 million pixels) and
    # take the decoder a second or more: long enough to see each decoder process.
    heavy = [gif_animation(frames, 3000, 3000) for frames in (2, 3, 4)]
    pid = api.processes["api"].pid
    reset_peak(pid)
    before = status_kib(pid, "VmRSS")
    seen: dict[int, int | None] = {}
    most_at_once = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal most_at_once
        while not done.is_set():
            running = []
            for child in children(pid):
                try:
                    # The child limits itself once started, before it reads the file: the
                    # last value read is the one it decoded under.
                    seen[child] = address_space_limit(child)
                    running.append(child)
                except OSError:  # it ended between the listing and the read
                    pass
            most_at_once = max(most_at_once, len(running))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            answers = list(pool.map(lambda data: upload(editor, data), heavy))
    finally:
        done.set()
        watcher.join()

    assert [answer.status_code for answer in answers] == [201, 201, 201], [a.text for a in answers]
    assert len({answer.json()["sha256"] for answer in answers}) == 3
    assert len(seen) == 3 and set(seen.values()) == {DECODE_MEMORY_MB << 20}
    assert most_at_once == 1
    assert status_kib(pid, "VmHWM") - before < API_GROWTH_BOUND_KIB
