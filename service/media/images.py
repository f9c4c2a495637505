"""Check an uploaded image within a budget fixed before any of it is decoded, then have it re-encoded.

A file is an image when it is a JPEG, PNG, WebP or GIF that Pillow decodes completely:
the name and the Content-Type the browser sent are not trusted (a renamed .exe has a .jpg
name). Decoding costs what the file *declares* — frames × width × height — not what it
weighs, so (decision 0030):

1. the geometry is read from the headers without decoding (service.media.geometry) and
   checked against the budget: the canvas against BANTIN_MEDIA_MAX_PIXELS, the frames
   against MAX_FRAMES, frames × canvas against BANTIN_MEDIA_MAX_TOTAL_PIXELS; a 1.5 MB
   GIF declaring 40 frames of 7,000 × 7,000 is refused here, in under a millisecond;
2. what passes is decoded and re-encoded by a process of its own (service.media.decoder)
   under a hard address-space and time limit, so no file, whatever its headers hide,
   costs the API process more than its bytes.

The stored file is a new encoding of the decoded pixels without EXIF, XMP or comments
(service.media.reencode says what is kept and why). Every refusal says which limit, in
the request's language (Vietnamese by default).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from config.settings import Settings
from service.errors import InvalidField
from service.i18n import N_, gettext, number
from service.media import decoder
from service.media.decoder import CleanImage
from service.media.geometry import FORMATS, Damaged, Geometry, NotAnImage, declared

log = logging.getLogger(__name__)
EXTENSIONS = {extension: content_type for content_type, extension in FORMATS.values()}
# An animation with more frames than this is refused: each frame is decoded in full and
# carries its own timing, however small it is.
MAX_FRAMES = 300
FIELD = "file"
MEBIBYTE = 1 << 20


class ImageRefused(InvalidField):
    """The upload is not an image we store; ``message`` says why, for the field ``file``,
    in the request's language (Vietnamese by default): worded where it is raised (code
    ``image_refused``), since only the person uploading in the console reads it."""

    def __init__(self, message: str) -> None:
        super().__init__(FIELD, "image_refused", message=message)


@dataclass(frozen=True)
class Budget:
    """What checking one upload may cost, fixed before any of it is decoded (decision 0030).

    ``frame_pixels``: width × height of the canvas; ``total_pixels``: frames × width ×
    height; ``frames``; ``memory_bytes`` and ``seconds``: the decoder process's address
    space and time; ``output_bytes``: the re-encoded file.
    """

    frame_pixels: int
    total_pixels: int
    memory_bytes: int
    seconds: float
    output_bytes: int
    frames: int = MAX_FRAMES

    @classmethod
    def of(cls, settings: Settings) -> Budget:
        """The budget the settings give; the re-encoded file may be twice the largest upload
        (a PNG compressed again by Pillow can grow; twice that is no longer a picture)."""
        return cls(
            frame_pixels=settings.media_max_pixels,
            total_pixels=settings.media_max_total_pixels,
            memory_bytes=settings.media_decode_memory_mb * MEBIBYTE,
            seconds=settings.media_decode_seconds,
            output_bytes=2 * settings.media_max_bytes,
        )


# Messages are msgids (Vietnamese), translated when raised (the request's language).
NOT_AN_IMAGE = N_("Tệp này không phải ảnh JPEG, PNG, WebP hay GIF (có thể chỉ bị đổi tên đuôi).")
DAMAGED = N_("Ảnh bị hỏng hoặc không trọn vẹn (có thể tải lên bị ngắt giữa chừng); hãy lưu lại ảnh và thử lần nữa.")
EMPTY = N_("Tệp rỗng; hãy chọn một ảnh.")


def megabytes(size: int) -> str:
    """``size`` bytes as megabytes to one decimal with the request's decimal mark:
    10_500_000 → "10,5 MB" ("10.5 MB" in English)."""
    return number(size / 1_000_000, "#,##0.#") + " MB"


def millions(pixels: int) -> str:
    """``pixels`` in millions, to one decimal: 1_960_000_000 → "1.960" ("1,960" in English)."""
    return number(pixels / 1_000_000, "#,##0.#")


def too_many_pixels(width: int, height: int, max_pixels: int) -> str:
    """The refusal of a canvas over BANTIN_MEDIA_MAX_PIXELS, with its size."""
    return gettext(
        "Ảnh %(width)s × %(height)s điểm ảnh quá lớn; tối đa %(limit)s triệu điểm ảnh. "
        "Hãy thu nhỏ ảnh rồi tải lên lại.",
        width=number(width),
        height=number(height),
        limit=millions(max_pixels),
    )


def over_budget(geometry: Geometry, budget: Budget) -> str | None:
    """Why ``geometry`` is over ``budget`` (the first limit it breaks), or None."""
    if geometry.frame_pixels > budget.frame_pixels:
        return too_many_pixels(geometry.width, geometry.height, budget.frame_pixels)
    if geometry.frames > budget.frames:
        return gettext(
            "Ảnh động có %(frames)s khung hình; tối đa %(limit)s.",
            frames=number(geometry.frames),
            limit=number(budget.frames),
        )
    if geometry.total_pixels > budget.total_pixels:
        return gettext(
            "Ảnh động %(frames)s khung hình × %(width)s × %(height)s điểm ảnh phải giải nén %(total)s triệu "
            "điểm ảnh; tối đa %(limit)s triệu điểm ảnh cho cả ảnh. Hãy bớt khung hình hoặc thu nhỏ ảnh rồi "
            "tải lên lại.",
            frames=number(geometry.frames),
            width=number(geometry.width),
            height=number(geometry.height),
            total=millions(geometry.total_pixels),
            limit=millions(budget.total_pixels),
        )
    return None


def clean_image(data: bytes, budget: Budget) -> CleanImage:
    """``data`` decoded and re-encoded in its own format without metadata, within ``budget``.

    ImageRefused when it is empty, not a JPEG/PNG/WebP/GIF, declares more than the budget
    (checked before decoding), cannot be decoded within the budget's memory, time or
    output, or fails to decode (truncated, damaged, or not what its headers declared).
    OSError when the decoder process cannot be started.
    """
    if not data:
        raise ImageRefused(gettext(EMPTY))
    try:
        geometry = declared(data)
    except NotAnImage:
        raise ImageRefused(gettext(NOT_AN_IMAGE)) from None
    except Damaged:
        raise ImageRefused(gettext(DAMAGED)) from None
    refusal = over_budget(geometry, budget)
    if refusal:
        raise ImageRefused(refusal)
    try:
        return decoder.decode(
            data,
            geometry,
            memory_bytes=budget.memory_bytes,
            seconds=budget.seconds,
            output_bytes=budget.output_bytes,
        )
    except decoder.DecodeFailed as failed:
        raise ImageRefused(_failure(failed, geometry, budget)) from None


def _failure(failed: decoder.DecodeFailed, geometry: Geometry, budget: Budget) -> str:
    if failed.reason in (decoder.MEMORY, decoder.TIME, decoder.CRASHED):
        log.warning("image upload: the decoder stopped (%s) on %s", failed, geometry)
    if failed.reason == decoder.MEMORY:
        return gettext(
            "Giải nén ảnh này cần hơn %(limit)s MB bộ nhớ, mức máy chủ dành cho một ảnh. "
            "Hãy thu nhỏ ảnh hoặc bớt khung hình rồi tải lên lại.",
            limit=number(budget.memory_bytes // MEBIBYTE),
        )
    if failed.reason == decoder.TIME:
        return gettext(
            "Giải nén ảnh này mất hơn %(limit)s giây, mức máy chủ dành cho một ảnh. "
            "Hãy thu nhỏ ảnh hoặc bớt khung hình rồi tải lên lại.",
            limit=number(budget.seconds),
        )
    if failed.reason == decoder.OUTPUT:
        return gettext(
            "Ảnh sau khi làm sạch nặng hơn %(limit)s, mức tối đa được lưu. Hãy thu nhỏ hoặc nén ảnh rồi tải lên lại.",
            limit=megabytes(budget.output_bytes),
        )
    if failed.reason == decoder.NOT_AN_IMAGE:
        return gettext(NOT_AN_IMAGE)
    return gettext(DAMAGED)
