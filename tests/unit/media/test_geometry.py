"""The decoding cost read from headers (service.media.geometry): what Pillow decodes, never less."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from service.media.geometry import Damaged, Geometry, NotAnImage, declared
from tests.unit.media.bombs import apng_animation, gif_animation, jpeg_declaring, webp_animation
from tests.unit.media.samples import animated_gif, encoded, photo_with_exif, png_bomb, renamed_exe


def decoded_geometry(data: bytes) -> Geometry:
    """What Pillow decodes: every frame loaded, the largest canvas it used."""
    with Image.open(io.BytesIO(data)) as image:
        frames = getattr(image, "n_frames", 1)
        width = height = 0
        for index in range(frames):
            image.seek(index)
            image.load()
            width, height = max(width, image.width), max(height, image.height)
        return Geometry(str(image.format), width, height, frames)


@pytest.mark.parametrize(
    "data",
    [
        photo_with_exif(),
        encoded("JPEG", (300, 200), progressive=True),
        encoded("PNG", (64, 32), mode="RGBA"),
        encoded("WEBP", (64, 32)),
        encoded("WEBP", (64, 32), lossless=True),
        encoded("GIF", (64, 32)),
        animated_gif(5),
        gif_animation(3, 120, 80),
        apng_animation(4, 120, 80),
        webp_animation(3, 120, 80),
    ],
    ids=["jpeg", "progressive jpeg", "png", "webp", "lossless webp", "gif", "animated gif", "gif", "apng", "webp"],
)
def test_the_declared_geometry_is_what_pillow_decodes(data: bytes) -> None:
    assert declared(data) == decoded_geometry(data)


def test_a_gif_canvas_grows_to_its_largest_frame_as_pillow_grows_it() -> None:
    # A first frame and a logical screen of 16 × 16 hide a 900 × 700 frame from a check
    # of the size after opening: Pillow reports 16 × 16 until it reaches the second frame.
    lying = gif_animation(2, 900, 700, first=(16, 16))
    with Image.open(io.BytesIO(lying)) as image:
        assert image.size == (16, 16)
    assert declared(lying) == Geometry("GIF", 900, 700, 2) == decoded_geometry(lying)


def test_an_apng_counts_its_default_image_and_what_its_acTL_claims() -> None:
    assert declared(apng_animation(3, 10, 10)).frames == 3
    assert declared(apng_animation(2, 10, 10, declared_frames=1_000_000)).frames == 1_000_000


def test_declared_sizes_are_read_without_decoding() -> None:
    assert declared(png_bomb(20_000, 20_000)) == Geometry("PNG", 20_000, 20_000, 1)
    assert declared(jpeg_declaring(60_000, 50_000)) == Geometry("JPEG", 60_000, 50_000, 1)
    assert declared(gif_animation(40, 7000, 7000)).total_pixels == 1_960_000_000
    assert declared(webp_animation(40, 7000, 7000)) == Geometry("WEBP", 7000, 7000, 40)


@pytest.mark.parametrize(
    "data",
    [renamed_exe(), b"%PDF-1.7\n", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"BM\0\0", b"RIFF\0\0\0\0WAVE"],
    ids=["exe", "pdf", "svg", "bmp", "wav"],
)
def test_other_files_are_not_images(data: bytes) -> None:
    with pytest.raises(NotAnImage):
        declared(data)


@pytest.mark.parametrize(
    "data",
    [
        gif_animation(3, 120, 80)[:200],
        gif_animation(3, 120, 80)[:20],
        webp_animation(3, 120, 80)[:-1],
        apng_animation(3, 120, 80)[:30],
        photo_with_exif()[:30],
        b"\x89PNG\r\n\x1a\n" + b"\0\0\0\x0dIEND" + b"\0" * 17,
        b"\xff\xd8\xff\xda\0\x02",
        jpeg_declaring(0, 100),
    ],
    ids=[
        "gif cut in a frame",
        "gif without frames",
        "webp cut",
        "apng cut in the header",
        "jpeg cut before its frame header",
        "png without IHDR",
        "jpeg scan before frame",
        "jpeg of width 0",
    ],
)
def test_headers_that_stop_short_or_contradict_themselves_are_damaged(data: bytes) -> None:
    with pytest.raises(Damaged):
        declared(data)
