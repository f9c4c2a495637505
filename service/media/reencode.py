"""Decode an image with Pillow and encode its pixels again without metadata (in the decoder process).

Runs only inside the decoder process (service.media.decoder), after the budget was
checked on the file's declared geometry (decision 0030); this module is the one place
Pillow reads uploaded bytes. Pillow is held to that geometry while it decodes: it opens
the file only as the declared format, its own pixel limit is the declared canvas (a
frame that grows the canvas past it is an error), and a file that turns out to have more
frames or a larger canvas than declared is refused as damaged.

What is stored is a new encoding of the decoded pixels: EXIF (camera, GPS position, the
owner's name), XMP, IPTC and comments are not carried over. The EXIF orientation is
applied to the pixels first, so a portrait photo stays upright without its tag. The ICC
colour profile is kept: it holds no personal data, and without it a wide-gamut phone
photo shows washed-out colours.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from service.media.decoder import CleanImage
from service.media.geometry import FORMATS, Damaged, Geometry, NotAnImage

JPEG_QUALITY = 90
WEBP_QUALITY = 90
# The only decoder information carried into the new file: how to draw it, not who made it.
KEPT_INFO = ("transparency", "duration", "loop", "background")


def reencode(data: bytes, geometry: Geometry) -> CleanImage:
    """``data``, whose headers declare ``geometry``, decoded and encoded again in its format.

    NotAnImage when Pillow does not read it as the declared format, Damaged when decoding
    fails (truncated, corrupt) or finds more than was declared; MemoryError as raised.
    """
    # Pillow warns above its pixel limit and refuses above twice that; the warning is made
    # an error, so no frame larger than the declared canvas is decoded.
    Image.MAX_IMAGE_PIXELS = geometry.frame_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[geometry.format]) as image:
                return _checked(image, geometry)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Damaged(f"a frame is larger than the declared canvas: {exc}") from None
    except UnidentifiedImageError as exc:
        raise NotAnImage(str(exc)) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        # Pillow's decoders report a truncated or corrupt stream with these.
        raise Damaged(f"{type(exc).__name__}: {exc}") from None


def _checked(image: Image.Image, geometry: Geometry) -> CleanImage:
    if image.format != geometry.format:
        raise NotAnImage(f"read as {image.format}, not {geometry.format}")
    frames = getattr(image, "n_frames", 1)
    if frames > geometry.frames or image.width > geometry.width or image.height > geometry.height:
        raise Damaged(f"{frames} frames of {image.width} × {image.height} decoded, more than declared {geometry}")
    image.load()
    body, width, height = _encode(image, geometry.format, frames)
    content_type, extension = FORMATS[geometry.format]
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
