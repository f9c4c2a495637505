"""Decompression bombs (issue 18, item 3): refused from what they declare, before decoding, and
whatever slips past the headers is decoded under a hard memory, time and output limit
(decision 0030)."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

from service.media.images import DAMAGED, Budget, ImageRefused, clean_image
from tests.unit.media.bombs import (
    apng_animation,
    gif_animation,
    jpeg_declaring,
    still_webp_declaring,
    webp_animation,
)
from tests.unit.media.samples import png_bomb, truncated_jpeg

# The defaults (config/settings.py), with a decoder that could never start: a refusal that
# names a pixel limit was made from the headers alone, since starting the decoder would
# have been refused for its memory.
BUDGET = Budget(frame_pixels=50_000_000, total_pixels=100_000_000, memory_bytes=1 << 20, seconds=60, output_bytes=10**7)
# A budget the decoder can work in, for files that pass the headers.
ROOMY = dataclasses.replace(BUDGET, memory_bytes=1536 << 20)


def refusal(data: bytes, budget: Budget = BUDGET) -> str:
    with pytest.raises(ImageRefused) as refused:
        clean_image(data, budget)
    assert refused.value.field == "file"
    return refused.value.message


@pytest.mark.parametrize(
    "bomb",
    [gif_animation(40, 7000, 7000), apng_animation(40, 7000, 7000), webp_animation(40, 7000, 7000)],
    ids=["gif", "apng", "webp"],
)
def test_an_animation_over_the_total_pixel_budget_is_refused_from_its_headers(bomb: bytes) -> None:
    # The upload of the issue: 1.5 MB (GIF; the APNG and WebP are smaller), 40 frames each
    # under the 50-million limit, 1,960 million pixels in all.
    assert len(bomb) < 1_500_000
    message = refusal(bomb)
    assert "40 khung hình × 7.000 × 7.000 điểm ảnh" in message
    assert "1.960 triệu điểm ảnh" in message and "tối đa 100 triệu điểm ảnh cho cả ảnh" in message


def test_a_small_first_frame_does_not_hide_the_size_of_the_others() -> None:
    # 81 million pixels is under Pillow's own limit (89 million), over ours.
    message = refusal(gif_animation(2, 9000, 9000, first=(16, 16)))
    assert "9.000 × 9.000" in message and "tối đa 50 triệu điểm ảnh" in message


@pytest.mark.parametrize(
    ("bomb", "size"),
    [
        (png_bomb(20_000, 20_000), "20.000 × 20.000"),
        (jpeg_declaring(65_000, 65_000), "65.000 × 65.000"),
        (still_webp_declaring(16_000, 16_000), "16.000 × 16.000"),
        (gif_animation(1, 9000, 9000, screen=(16, 16)), "9.000 × 9.000"),
    ],
    ids=["png", "jpeg", "webp canvas", "gif frame outside its screen"],
)
def test_a_single_frame_over_the_pixel_limit_is_refused_with_its_size(bomb: bytes, size: str) -> None:
    message = refusal(bomb)
    assert size in message and "tối đa 50 triệu điểm ảnh" in message


def test_an_animation_declaring_a_billion_frames_is_refused_by_its_declaration() -> None:
    message = refusal(apng_animation(2, 16, 16, declared_frames=1_000_000_000))
    assert "1.000.000.000 khung hình; tối đa 300" in message


@pytest.mark.parametrize(
    "data",
    [
        truncated_jpeg(),
        gif_animation(3, 300, 300)[:-200],
        apng_animation(3, 300, 300)[:-60],
        webp_animation(3, 300, 300)[:-10],
        still_webp_declaring(4000, 4000),  # a canvas its one 16 × 16 bitstream does not fill
    ],
    ids=["jpeg", "gif", "apng", "webp", "webp canvas that lies"],
)
def test_truncated_or_lying_files_are_refused_as_damaged(data: bytes) -> None:
    assert refusal(data, ROOMY) == DAMAGED


def test_the_decoder_is_held_to_its_memory_limit() -> None:
    # 27 million pixels pass the headers; decoding them needs more than 100 MiB.
    budget = dataclasses.replace(ROOMY, memory_bytes=100 << 20)
    message = refusal(gif_animation(3, 3000, 3000), budget)
    assert "cần hơn 100 MB bộ nhớ" in message


def test_the_decoder_is_held_to_its_time_limit() -> None:
    # A tenth of a second does not even start the decoder's interpreter and Pillow.
    budget = dataclasses.replace(ROOMY, seconds=0.1)
    message = refusal(gif_animation(3, 3000, 3000), budget)
    assert "mất hơn 0,1 giây" in message


def test_a_re_encoded_file_over_the_output_budget_is_refused() -> None:
    noise = io.BytesIO()
    Image.effect_noise((400, 400), 100).save(noise, "PNG")  # noise does not compress: ~160 kB
    message = refusal(noise.getvalue(), dataclasses.replace(ROOMY, output_bytes=100_000))
    assert "nặng hơn 0,1 MB" in message


def test_an_animation_within_the_budget_is_kept_whole() -> None:
    clean = clean_image(gif_animation(3, 300, 200), ROOMY)
    assert (clean.content_type, clean.width, clean.height) == ("image/gif", 300, 200)
