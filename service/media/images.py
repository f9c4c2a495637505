"""Check an uploaded image by decoding it, then re-encode it without its metadata.

A file is an image when Pillow decodes every pixel of it as JPEG, PNG, WebP or GIF: the
name and the Content-Type the browser sent are not trusted (a renamed .exe has a .jpg
name). The dimensions are read from the header and checked before any pixel is decoded,
so a "decompression bomb" (a few KiB claiming 20,000 × 20,000 pixels, 1.2 GB decoded) is
refused without the memory it asks for. A truncated file fails while decoding.

What is stored is a new encoding of the decoded pixels: EXIF (camera, GPS position, the
owner's name), XMP, IPTC and comments are not carried over. The EXIF orientation is
applied to the pixels first, so a portrait photo stays upright without its tag. The ICC
colour profile is kept: it holds no personal data, and without it a wide-gamut phone
photo shows washed-out colours.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from service.errors import InvalidField
from service.i18n import N_, gettext, number

# Pillow format name → (Content-Type, file extension).
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
EXTENSIONS = {extension: content_type for content_type, extension in FORMATS.values()}
# An animation with more frames than this is refused: each frame is decoded in full.
MAX_FRAMES = 300
JPEG_QUALITY = 90
WEBP_QUALITY = 90
# The only decoder information carried into the new file: how to draw it, not who made it.
KEPT_INFO = ("transparency", "duration", "loop", "background")
FIELD = "file"


class ImageRefused(InvalidField):
    """The upload is not an image we store; ``message`` says why, for the field ``file``,
    in the request's language (Vietnamese by default)."""

    def __init__(self, message: str) -> None:
        super().__init__(FIELD, message)


@dataclass(frozen=True)
class CleanImage:
    """An image re-encoded without metadata: the bytes to store, their type and the pixel size."""

    body: bytes
    content_type: str
    extension: str
    width: int
    height: int


# Messages are msgids (Vietnamese), translated when raised (the request's language).
NOT_AN_IMAGE = N_("Tệp này không phải ảnh JPEG, PNG, WebP hay GIF (có thể chỉ bị đổi tên đuôi).")
DAMAGED = N_("Ảnh bị hỏng hoặc không trọn vẹn (có thể tải lên bị ngắt giữa chừng); hãy lưu lại ảnh và thử lần nữa.")
EMPTY = N_("Tệp rỗng; hãy chọn một ảnh.")


def too_many_pixels(width: int | None, height: int | None, max_pixels: int) -> str:
    """The refusal of an image over BANTIN_MEDIA_MAX_PIXELS, with its size when the header gave it."""
    limit = number(max_pixels / 1_000_000)
    if width is None or height is None:
        return gettext(
            "Ảnh quá lớn để giải nén an toàn; tối đa %(limit)s triệu điểm ảnh. Hãy thu nhỏ ảnh rồi tải lên lại.",
            limit=limit,
        )
    return gettext(
        "Ảnh %(width)s × %(height)s điểm ảnh quá lớn; tối đa %(limit)s triệu điểm ảnh. "
        "Hãy thu nhỏ ảnh rồi tải lên lại.",
        width=number(width),
        height=number(height),
        limit=limit,
    )


def clean_image(data: bytes, max_pixels: int) -> CleanImage:
    """``data`` decoded and re-encoded in its own format without metadata.

    ImageRefused when it is empty, not a JPEG/PNG/WebP/GIF, larger than ``max_pixels``
    (width × height, checked from the header before decoding) or with more than
    MAX_FRAMES frames, or when decoding fails (truncated, damaged).
    """
    if not data:
        raise ImageRefused(gettext(EMPTY))
    try:
        # Pillow warns (and past twice its own limit refuses) on huge images; ours is lower
        # and checked first, the warning is made an error so that no path decodes a bomb.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
                return _decoded(image, max_pixels)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused(too_many_pixels(None, None, max_pixels)) from None
    except UnidentifiedImageError:
        raise ImageRefused(gettext(NOT_AN_IMAGE)) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        # Pillow's decoders report a truncated or corrupt stream with these.
        raise ImageRefused(gettext(DAMAGED)) from exc


def _decoded(image: Image.Image, max_pixels: int) -> CleanImage:
    fmt = image.format or ""
    if fmt not in FORMATS:
        raise ImageRefused(gettext(NOT_AN_IMAGE))
    if image.width * image.height > max_pixels:
        raise ImageRefused(too_many_pixels(image.width, image.height, max_pixels))
    frames = getattr(image, "n_frames", 1)
    if frames > MAX_FRAMES:
        raise ImageRefused(
            gettext("Ảnh động có %(frames)s khung hình; tối đa %(limit)s.", frames=frames, limit=MAX_FRAMES)
        )
    image.load()
    body, width, height = _encode(image, fmt, frames)
    content_type, extension = FORMATS[fmt]
    return CleanImage(body, content_type, extension, width, height)


def _encode(image: Image.Image, fmt: str, frames: int) -> tuple[bytes, int, int]:
    out = io.BytesIO()
    icc = image.info.get("icc_profile")
    params: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if frames > 1:
        # An animation: every frame decoded and written again (GIF and WebP carry no EXIF
        # orientation to apply). Frame timing comes from each frame's own information.
        _keep_drawing_info(image)
        if "loop" in image.info:
            params["loop"] = image.info["loop"]
        extra = {"quality": WEBP_QUALITY} if fmt == "WEBP" else {}
        image.save(out, fmt, save_all=True, **params, **extra)
        return out.getvalue(), image.width, image.height
    upright = ImageOps.exif_transpose(image)
    _keep_drawing_info(upright)
    if fmt == "JPEG":
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")  # CMYK and YCCK: browsers draw RGB best
        upright.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, **params)
    elif fmt == "WEBP":
        upright.save(out, "WEBP", quality=WEBP_QUALITY, **params)
    else:
        if "transparency" in upright.info:
            params["transparency"] = upright.info["transparency"]
        upright.save(out, fmt, **params)
    return out.getvalue(), upright.width, upright.height


def _keep_drawing_info(image: Image.Image) -> None:
    # Encoders fall back to image.info for EXIF, XMP and comments: only what draws the
    # picture stays (the ICC profile is passed explicitly).
    image.info = {key: value for key, value in image.info.items() if key in KEPT_INFO}
