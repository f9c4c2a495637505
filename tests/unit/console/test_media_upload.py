"""Image upload from the console and /media/ serving: what is stored, what is refused, the headers."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from service.db.engine import session_scope
from service.db.models import MediaFile
from tests.unit.console.conftest import ORIGIN, login, make_user
from tests.unit.media.samples import photo_with_exif, png_bomb, renamed_exe, truncated_jpeg

MAX_BYTES = 200_000


@pytest.fixture
def media_dir(settings_override: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Uploads go to a directory of this test's own, with a small size limit."""
    directory = tmp_path / "media"
    settings_override.setenv("BANTIN_MEDIA_DIR", str(directory))
    settings_override.setenv("BANTIN_MEDIA_MAX_BYTES", str(MAX_BYTES))
    return directory


@pytest.fixture
def signed_in(media_dir: Path, app_client: TestClient) -> tuple[TestClient, str]:
    make_user()
    return app_client, login(app_client)


def upload(client: TestClient, token: str | None, data: bytes, name: str = "anh.jpg") -> httpx.Response:
    fields = {"csrf_token": token} if token is not None else {}
    response: httpx.Response = client.post(
        "/console/media", data=fields, files={"file": (name, data, "image/jpeg")}, headers={"Origin": ORIGIN}
    )
    return response


def rows() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(MediaFile)) or 0


def files(directory: Path) -> list[Path]:
    return sorted(directory.iterdir()) if directory.exists() else []


def test_an_upload_is_stored_by_the_hash_of_its_clean_bytes(signed_in: tuple[TestClient, str], media_dir: Path) -> None:
    client, token = signed_in
    response = upload(client, token, photo_with_exif())
    assert response.status_code == 201, response.text
    body = response.json()
    stored = media_dir / f"{body['sha256']}.jpg"
    assert [p.name for p in files(media_dir)] == [stored.name]  # no temporary file left over
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == body["sha256"]
    assert body["url"] == f"https://bantin.example.vn/media/{body['sha256']}.jpg"
    assert (body["content_type"], body["width"], body["height"]) == ("image/jpeg", 32, 64)
    assert body["bytes"] == stored.stat().st_size
    assert b"CanonSecretCam" not in stored.read_bytes()
    with session_scope() as session:
        media = session.get(MediaFile, body["sha256"])
        assert media is not None and media.uploaded_by == "user:bientap" and media.bytes == body["bytes"]

    # The same picture again: the same file and row, nothing new.
    again = upload(client, token, photo_with_exif()).json()
    assert again == body
    assert rows() == 1 and len(files(media_dir)) == 1

    listed = client.get("/console/media").json()["media"]
    assert [m["url"] for m in listed] == [body["url"]]


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (renamed_exe(), 422, "không phải ảnh"),
        (truncated_jpeg(), 422, "bị hỏng"),
        (png_bomb(), 422, "quá lớn"),
        (b"", 422, "Tệp rỗng"),
        (b"\xff\xd8" + b"\0" * MAX_BYTES, 413, "tối đa 0,2 MB"),
    ],
    ids=["renamed exe", "truncated jpeg", "20000x20000 bomb", "empty", "over the limit"],
)
def test_a_refused_upload_says_why_and_stores_nothing(
    signed_in: tuple[TestClient, str], media_dir: Path, data: bytes, status: int, words: str
) -> None:
    client, token = signed_in
    response = upload(client, token, data)
    assert response.status_code == status
    body = response.json()
    assert body["field"] == "file" and words in body["message"]
    assert rows() == 0 and files(media_dir) == []


def test_no_file_is_a_field_error(signed_in: tuple[TestClient, str]) -> None:
    client, token = signed_in
    response = client.post("/console/media", data={"csrf_token": token}, headers={"Origin": ORIGIN})
    assert response.status_code == 422
    assert response.json() == {"field": "file", "message": "Chưa chọn tệp ảnh."}


def test_a_request_far_over_the_limit_is_refused_before_it_is_read(signed_in: tuple[TestClient, str]) -> None:
    client, token = signed_in
    response = upload(client, token, b"\0" * (MAX_BYTES + 100_000))
    assert response.status_code == 413 and rows() == 0


def test_an_upload_without_the_csrf_token_is_refused(signed_in: tuple[TestClient, str], media_dir: Path) -> None:
    client, _ = signed_in
    response = upload(client, None, photo_with_exif())
    assert response.status_code == 403
    assert rows() == 0 and files(media_dir) == []
    response = upload(client, "wrong-token", photo_with_exif())
    assert response.status_code == 403 and rows() == 0


def test_an_upload_from_another_site_is_refused(signed_in: tuple[TestClient, str], media_dir: Path) -> None:
    client, token = signed_in
    response = client.post(
        "/console/media",
        data={"csrf_token": token},
        files={"file": ("a.jpg", photo_with_exif(), "image/jpeg")},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403 and rows() == 0


def test_signed_out_uploads_go_to_the_sign_in_page(media_dir: Path, app_client: TestClient) -> None:
    response = upload(app_client, "x", photo_with_exif())
    assert response.status_code == 303 and response.headers["location"].startswith("/console/login")
    assert app_client.get("/console/media").status_code == 303
    assert rows() == 0


def test_an_unwritable_media_directory_is_a_clear_503(signed_in: tuple[TestClient, str], media_dir: Path) -> None:
    client, token = signed_in
    media_dir.parent.mkdir(parents=True, exist_ok=True)
    media_dir.write_text("a file where the directory should be")
    response = upload(client, token, photo_with_exif())
    assert response.status_code == 503
    assert "không lưu được ảnh" in response.json()["message"]
    assert rows() == 0


# ---- /media/ -------------------------------------------------------------------------------------


def test_media_is_served_with_immutable_cache_headers(signed_in: tuple[TestClient, str]) -> None:
    client, token = signed_in
    body = upload(client, token, photo_with_exif()).json()
    path = f"/media/{body['sha256']}.jpg"

    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["etag"] == f'"{body["sha256"]}"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert int(response.headers["content-length"]) == body["bytes"]
    assert Image.open(io.BytesIO(response.content)).size == (32, 64)

    revalidated = client.get(path, headers={"If-None-Match": f'"{body["sha256"]}"'})
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert client.head(path).status_code == 200


@pytest.mark.parametrize(
    "name",
    [
        "0" * 64 + ".jpg",  # well-formed, never uploaded
        "../../config/settings.py",
        "..%2f..%2fconfig%2fsettings.py",
        "%2e%2e/unit.db",
        "0" * 64 + ".svg",
        "0" * 64 + ".JPG",
        "0" * 63 + ".jpg",
        "unit.db",
    ],
)
def test_unknown_and_crafted_media_names_are_404(media_dir: Path, app_client: TestClient, name: str) -> None:
    media_dir.mkdir(parents=True)
    (media_dir / ("0" * 64 + ".svg")).write_text("<svg/>")
    response = app_client.get(f"/media/{name}")
    assert response.status_code == 404
    assert b"svg" not in response.content and b"sqlite" not in response.content.lower()
