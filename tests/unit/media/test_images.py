"""Decoding, metadata stripping and refusals of uploaded images (service.media.images)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from service.media.images import DAMAGED, EMPTY, MAX_FRAMES, NOT_AN_IMAGE, Budget, ImageRefused, clean_image
from tests.unit.media.samples import (
    ARTIST,
    GPS_IFD,
    MAKE,
    SECRET,
    animated_gif,
    camera_exif,
    encoded,
    photo_with_exif,
    png_bomb,
    renamed_exe,
    truncated_jpeg,
)

LIMIT = Budget(
    frame_pixels=50_000_000, total_pixels=100_000_000, memory_bytes=1536 << 20, seconds=60, output_bytes=20_000_000
)


def reopened(body: bytes) -> Image.Image:
    return Image.open(io.BytesIO(body))


def test_a_jpeg_loses_its_exif_and_comment_and_stays_upright() -> None:
    original = photo_with_exif(orientation=6)
    assert SECRET.encode() in original and b"CanonSecretCam" in original

    clean = clean_image(original, LIMIT)

    assert (clean.content_type, clean.extension) == ("image/jpeg", "jpg")
    # Orientation 6 means "rotate 90° clockwise to view": the pixels are turned, the tag dropped.
    assert (clean.width, clean.height) == (32, 64)
    stored = reopened(clean.body)
    assert stored.size == (32, 64)
    assert dict(stored.getexif()) == {}
    assert "comment" not in stored.info and "exif" not in stored.info
    assert b"CanonSecretCam" not in clean.body and SECRET.encode() not in clean.body
    assert b"Exif" not in clean.body


@pytest.mark.parametrize(
    ("fmt", "params", "content_type"),
    [
        ("PNG", {}, "image/png"),
        ("WEBP", {"xmp": b"<x:xmpmeta>secret-xmp</x:xmpmeta>"}, "image/webp"),
        ("GIF", {"comment": b"secret-comment"}, "image/gif"),
    ],
)
def test_png_webp_gif_lose_their_metadata(fmt: str, params: dict[str, Any], content_type: str) -> None:
    original = encoded(fmt, exif=camera_exif(), **params) if fmt != "GIF" else encoded(fmt, **params)
    clean = clean_image(original, LIMIT)
    assert clean.content_type == content_type
    assert (clean.width, clean.height) == (64, 32)
    for secret in (b"CanonSecretCam", SECRET.encode(), b"secret-xmp", b"secret-comment"):
        assert secret not in clean.body
    stored = reopened(clean.body)
    assert stored.format == fmt
    assert not {MAKE, ARTIST, GPS_IFD} & set(stored.getexif())


def test_png_transparency_is_kept() -> None:
    clean = clean_image(encoded("PNG", mode="RGBA"), LIMIT)
    assert reopened(clean.body).mode == "RGBA"


def test_an_animated_gif_keeps_its_frames_and_timing() -> None:
    clean = clean_image(animated_gif(3), LIMIT)
    stored = reopened(clean.body)
    assert stored.n_frames == 3  # type: ignore[attr-defined]
    assert stored.info["duration"] == 100 and stored.info["loop"] == 0
    assert b"secret" not in clean.body


def test_the_icc_profile_is_kept() -> None:
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    clean = clean_image(encoded("JPEG", icc_profile=profile), LIMIT)
    assert reopened(clean.body).info.get("icc_profile") == profile


def test_the_same_picture_gives_the_same_bytes() -> None:
    original = photo_with_exif()
    assert clean_image(original, LIMIT).body == clean_image(original, LIMIT).body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (renamed_exe(), NOT_AN_IMAGE),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", NOT_AN_IMAGE),
        (b"%PDF-1.7\n", NOT_AN_IMAGE),
        (truncated_jpeg(), DAMAGED),
        (b"", EMPTY),
    ],
    ids=["renamed exe", "svg", "pdf", "truncated jpeg", "empty"],
)
def test_what_is_not_a_whole_image_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(ImageRefused) as refused:
        clean_image(data, LIMIT)
    assert refused.value.field == "file"
    assert refused.value.message == message


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = png_bomb(20_000, 20_000)
    assert len(bomb) < 1000
    with pytest.raises(ImageRefused) as refused:
        clean_image(bomb, LIMIT)
    assert "quá lớn" in refused.value.message and "50 triệu điểm ảnh" in refused.value.message


def test_an_image_over_our_pixel_limit_is_refused_with_its_size() -> None:
    # 8,000 × 8,000 is under Pillow's own limit but over ours: the size is named.
    with pytest.raises(ImageRefused) as refused:
        clean_image(png_bomb(8_000, 8_000), LIMIT)
    assert "8.000 × 8.000" in refused.value.message


def test_an_animation_with_too_many_frames_is_refused() -> None:
    with pytest.raises(ImageRefused) as refused:
        clean_image(animated_gif(MAX_FRAMES + 1), LIMIT)
    assert str(MAX_FRAMES) in refused.value.message
