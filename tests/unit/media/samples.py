"""Images made with Pillow for the tests, and the bad uploads the console must refuse."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import Image

ORIENTATION = 0x0112
MAKE = 0x010F
ARTIST = 0x013B
GPS_IFD = 0x8825
SECRET = "Nguyễn Văn Bí Mật"


def camera_exif(orientation: int = 1) -> bytes:
    """EXIF as a phone writes it: orientation, make, the owner's name and a GPS position."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "CanonSecretCam"
    exif[ARTIST] = SECRET
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (16.0, 3.0, 0.0), 3: "E", 4: (108.0, 13.0, 0.0)})
    return exif.tobytes()


def encoded(fmt: str, size: tuple[int, int] = (64, 32), mode: str = "RGB", **params: Any) -> bytes:
    """A ``size`` image in ``fmt`` with a horizontal gradient (so that it compresses like a picture)."""
    image = Image.linear_gradient("L").resize(size).convert(mode)
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def photo_with_exif(orientation: int = 6) -> bytes:
    """A 64 × 32 JPEG whose EXIF says "rotate 90°" (6), with a comment and the owner's name."""
    return encoded("JPEG", exif=camera_exif(orientation), comment=SECRET.encode())


def animated_gif(frames: int = 3) -> bytes:
    """A GIF of ``frames`` distinct frames, 100 ms each, looping, with a comment."""
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    images = [Image.new("RGB", (16, 16), colours[n % len(colours)]) for n in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0, comment=b"secret")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid-looking PNG of a few hundred bytes whose header claims ``width`` × ``height`` RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\0" * 4096))
        + _chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    """The first half of a noisy 200 × 200 JPEG: the header is fine, the pixels stop midway."""
    out = io.BytesIO()
    Image.effect_noise((200, 200), 64).convert("RGB").save(out, "JPEG", quality=95)
    whole = out.getvalue()
    return whole[: len(whole) // 2]


def renamed_exe() -> bytes:
    """The start of a Windows executable (MZ header, PE signature), as if saved as photo.jpg."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"PE\x00\x00" + b"\x90" * 400
