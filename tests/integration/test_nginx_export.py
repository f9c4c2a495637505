"""deploy/nginx/bantin.conf serves BANTIN_FEED_EXPORT_DIR with the API's headers (real nginx).

Skipped where nginx or its brotli_static module is not installed (Debian: nginx-light,
libnginx-mod-http-brotli-static).
"""

from __future__ import annotations

import getpass
import gzip
import hashlib
import shutil
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import brotli
import httpx
import pytest

from service.feeds.documents import StoredDocument, export_document
from service.feeds.variants import compress_brotli, compress_gzip
from tests.integration.stack import REPO, free_port, wait_until

BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
BODY = ("<feed>" + "Bản tin đầy đủ " * 500 + "</feed>").encode()
LAST_MODIFIED = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists() or not BROTLI_MODULE.exists():
        pytest.fail("nginx with brotli_static is needed: `make test-deps` installs nginx-light and its module")
    export, port = tmp_path / "export", free_port()
    site = (REPO / "deploy/nginx/bantin.conf").read_text()
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("root /var/lib/bantin/export;", f"root {export};")
    # BANTIN_MEDIA_DIR is <root>/media: the uploaded images next to the export.
    site = site.replace("root /var/lib/bantin;", f"root {tmp_path};")
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{free_port()};")
    (tmp_path / "logs").mkdir()
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        # Workers as the test's user: the temporary directory is private to it.
        f"user {getpass.getuser()};\nload_module {BROTLI_MODULE};\n"
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\n"
        f"events {{}}\nhttp {{ access_log off; include {tmp_path}/site.conf; }}\n"
    )
    subprocess.run([binary, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)], check=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: (tmp_path / "nginx.pid").exists(), 10, "nginx to start")
        yield base, export
    finally:
        subprocess.run([binary, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path), "-s", "stop"], check=False)


def test_exported_feeds_are_served_with_the_apis_headers(nginx: tuple[str, Path]) -> None:
    base, export = nginx
    document = StoredDocument(BODY, '"v1"', LAST_MODIFIED, compress_gzip(BODY), compress_brotli(BODY), 1)
    export_document(export, "/feeds/categories/xa-hoi/atom.xml", document)
    export_document(export, "/calendar.ics", document)
    url = f"{base}/feeds/categories/xa-hoi/atom.xml"
    etags = set()
    for coding, decode in ((None, lambda b: b), ("gzip", gzip.decompress), ("br", brotli.decompress)):
        with httpx.stream("GET", url, headers={"Accept-Encoding": coding or "identity"}) as response:
            raw = b"".join(response.iter_raw())
        assert response.status_code == 200 and decode(raw) == BODY
        assert response.headers.get("content-encoding") == coding
        assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=60"
        assert response.headers["vary"] == "Accept-Encoding, Accept"
        assert response.headers["last-modified"] == "Sun, 29 Nov 2026 12:00:00 GMT"
        assert response.headers["link"] == (
            '<https://bantin.example.vn/feeds/categories/xa-hoi/atom.xml>; rel="self", '
            '<https://bantin.example.vn/websub>; rel="hub"'
        )
        etag = response.headers["etag"]
        assert not etag.startswith("W/")
        again = httpx.get(url, headers={"Accept-Encoding": coding or "identity", "If-None-Match": etag})
        assert again.status_code == 304
        etags.add(etag)
    assert len(etags) == 3
    # A browser asks for text/html: it goes to the API (here nobody answers: 502), which
    # sends the same bytes as application/xml; a feed reader keeps getting the file.
    browser = httpx.get(url, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 502
    assert httpx.get(url, headers={"Accept": "application/atom+xml, */*"}).status_code == 200
    calendar = httpx.get(f"{base}/calendar.ics", headers={"Accept-Encoding": "br"})
    assert calendar.headers["content-type"] == "text/calendar; charset=utf-8"
    assert calendar.headers["content-disposition"] == 'inline; filename="bantin.ics"'
    assert httpx.get(f"{base}/feeds/categories/xa-hoi/.atom.xml.version").status_code == 404


def test_uploaded_images_are_served_immutable_from_the_media_directory(nginx: tuple[str, Path]) -> None:
    base, export = nginx
    media = export.parent / "media"
    media.mkdir()
    body = b"\xff\xd8\xff\xe0 not really decoded by nginx"
    name = hashlib.sha256(body).hexdigest() + ".jpg"
    (media / name).write_bytes(body)
    response = httpx.get(f"{base}/media/{name}")
    assert response.status_code == 200 and response.content == body
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-encoding" not in response.headers
    again = httpx.get(f"{base}/media/{name}", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    # Any other name goes to the API (here: nobody listening, 502), never to a file nginx finds.
    (media / "notes.txt").write_text("private")
    assert httpx.get(f"{base}/media/notes.txt").status_code != 200


def _exchange(base: str, request: bytes) -> bytes:
    """``request`` sent whole on a raw socket (HTTP clients refuse such heads); the answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8_000_000 + b"\r\n", 431),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n", 431),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: %s\r\n" % (n, b"a" * 7000) for n in range(6)), 431),
        (b"GET /healthz?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n", 414),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: %s\r\n" % (n, b"a" * 7000) for n in range(3)), 502),
    ],
    ids=["8 MB header", "9 kB header", "six 7 kB headers", "9 kB URL", "three 7 kB headers pass to the API"],
)
def test_request_heads_are_bounded_before_the_api(nginx: tuple[str, Path], head: bytes, expected: int) -> None:
    # Nobody listens on the API's port here: a head nginx passes gets 502.
    answer = _exchange(nginx[0], head + b"Connection: close\r\n\r\n")
    assert int(answer.split(b" ", 2)[1]) == expected
    if expected == 431:
        assert "tối đa 8.192 byte một dòng" in answer.partition(b"\r\n\r\n")[2].decode()
