"""What an image file declares it will cost to decode, read from its headers without decoding.

Decoding allocates a canvas per frame from the sizes the file *declares*, whatever its
bytes: a 1.5 MB GIF can declare 40 frames of 7,000 × 7,000 pixels (issue 18, item 3).
So the budget (decision 0030) is checked on these numbers before any decoder runs, and
they are read here by walking the container's headers — the work is proportional to the
file's bytes and nothing is allocated in proportion to what it declares (Pillow's own
opening does allocate: libwebp reserves two canvases for an animated WebP).

The numbers are upper bounds of what Pillow will decode: a GIF's canvas is its logical
screen grown to fit every frame (GIF89a §20: frames may lie outside the screen, and
Pillow enlarges the canvas as it reaches each one), an APNG's frame count is its acTL's
plus the default image (APNG specification, "acTL", "IDAT"), an animated WebP's is its
count of ANMF chunks on the VP8X canvas (WebP container specification).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# Pillow's format name → (Content-Type, file extension): the formats accepted.
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}


class NotAnImage(ValueError):
    """The bytes are not a JPEG, PNG, WebP or GIF."""


class Damaged(ValueError):
    """The headers stop before they say what the image is, or contradict themselves."""


@dataclass(frozen=True)
class Geometry:
    """The decoding cost a file declares: ``format`` (Pillow's name), the canvas every frame
    is decoded onto (``width`` × ``height`` pixels) and the number of ``frames``."""

    format: str
    width: int
    height: int
    frames: int

    @property
    def frame_pixels(self) -> int:
        """Pixels of one frame of the canvas: width × height."""
        return self.width * self.height

    @property
    def total_pixels(self) -> int:
        """Pixels decoded for the whole file: frames × width × height."""
        return self.frames * self.width * self.height


def declared(data: bytes) -> Geometry:
    """The geometry ``data`` declares; NotAnImage or Damaged (see the classes)."""
    if data.startswith(b"\xff\xd8"):
        geometry = _jpeg(data)
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        geometry = _png(data)
    elif data[:6] in (b"GIF87a", b"GIF89a"):
        geometry = _gif(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        geometry = _webp(data)
    else:
        raise NotAnImage("not a JPEG, PNG, WebP or GIF signature")
    if geometry.width < 1 or geometry.height < 1 or geometry.frames < 1:
        raise Damaged(f"declares {geometry.frames} frames of {geometry.width} × {geometry.height}")
    return geometry


def _need(data: bytes, end: int, what: str) -> None:
    if end > len(data):
        raise Damaged(f"the file ends inside {what}")


# Start-of-frame markers (ITU T.81 Table B.1): every coding process except DHT, JPG and DAC.
_JPEG_FRAME_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Markers that stand alone, without a length (T.81 B.1.1.3): TEM and RST0–7.
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}


def _jpeg(data: bytes) -> Geometry:
    """The frame header (SOFn) gives the size: T.81 B.2.2. A JPEG has one frame."""
    position = 2
    while True:
        _need(data, position + 2, "a marker")
        if data[position] != 0xFF:
            raise Damaged("JPEG: bytes between segments")
        while position < len(data) and data[position] == 0xFF:
            position += 1  # fill bytes (T.81 B.1.1.2)
        _need(data, position + 1, "a marker")
        marker = data[position]
        position += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0xD9, 0xDA):
            raise Damaged("JPEG: image data before the frame header")
        _need(data, position + 2, "a segment length")
        (length,) = struct.unpack_from(">H", data, position)
        if marker in _JPEG_FRAME_MARKERS:
            _need(data, position + 7, "the frame header")
            height, width = struct.unpack_from(">HH", data, position + 3)
            return Geometry("JPEG", width, height, 1)
        if length < 2:
            raise Damaged("JPEG: a segment shorter than its length field")
        position += length


def _png(data: bytes) -> Geometry:
    """IHDR gives the canvas; acTL, read before the image data, the animation's frames."""
    position = 8
    width = height = 0
    animation_controls: list[int] = []
    frame_control_first = False
    while True:
        _need(data, position + 8, "a chunk header")
        length, kind = struct.unpack_from(">I4s", data, position)
        body = position + 8
        _need(data, body + length + 4, f"the {kind!r} chunk")
        if position == 8:
            if kind != b"IHDR" or length < 8:
                raise Damaged("PNG: the first chunk is not IHDR")
            width, height = struct.unpack_from(">II", data, body)
        elif kind == b"acTL" and length >= 8:
            animation_controls.append(struct.unpack_from(">I", data, body)[0])
        elif kind == b"fcTL":
            frame_control_first = True
        elif kind in (b"IDAT", b"IEND"):
            break
        position = body + length + 4
    if kind == b"IEND":
        raise Damaged("PNG: no image data")
    # As Pillow reads it: one acTL of 1 to 2^31 frames makes an animation, anything else a
    # still image; an IDAT without an fcTL before it is a default image, one frame more.
    if len(animation_controls) != 1 or not 0 < animation_controls[0] <= 0x80000000:
        return Geometry("PNG", width, height, 1)
    return Geometry("PNG", width, height, animation_controls[0] + (0 if frame_control_first else 1))


def _skip_sub_blocks(data: bytes, position: int) -> int:
    """The position after a GIF data-sub-block sequence (GIF89a §15), ended by a zero size."""
    while True:
        _need(data, position + 1, "a data sub-block")
        size = data[position]
        position += 1 + size
        if size == 0:
            return position


def _gif(data: bytes) -> Geometry:
    """The logical screen (§18), grown to every image descriptor's extent (§20)."""
    _need(data, 13, "the logical screen descriptor")
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    position = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    frames = 0
    while position < len(data):  # a file may end without its trailer; decoders stop there
        introducer = data[position]
        position += 1
        if introducer == 0x3B:  # trailer
            break
        if introducer == 0x21:  # extension: its label, then sub-blocks
            position = _skip_sub_blocks(data, position + 1)
        elif introducer == 0x2C:  # image descriptor
            _need(data, position + 9, "an image descriptor")
            left, top, frame_width, frame_height, frame_flags = struct.unpack_from("<HHHHB", data, position)
            width, height = max(width, left + frame_width), max(height, top + frame_height)
            frames += 1
            position += 9 + (3 << ((frame_flags & 7) + 1) if frame_flags & 0x80 else 0)
            position = _skip_sub_blocks(data, position + 1)  # after the LZW minimum code size
        # Any other byte is skipped, as Pillow skips it.
    return Geometry("GIF", width, height, frames)


def _webp(data: bytes) -> Geometry:
    """The first chunk gives the size (VP8 frame header, VP8L header, or the VP8X canvas);
    an animation has one ANMF chunk per frame."""
    _need(data, 30, "the first chunk")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = 8 + riff_size
    _need(data, end, "the RIFF container")
    kind = data[12:16]
    if kind == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise Damaged("WebP: no VP8 start code")
        width, height = struct.unpack_from("<HH", data, 26)
        return Geometry("WEBP", width & 0x3FFF, height & 0x3FFF, 1)
    if kind == b"VP8L":
        if data[20] != 0x2F:
            raise Damaged("WebP: no VP8L signature")
        (bits,) = struct.unpack_from("<I", data, 21)
        return Geometry("WEBP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, 1)
    if kind != b"VP8X":
        raise Damaged(f"WebP: unknown first chunk {kind!r}")
    width = int.from_bytes(data[24:27], "little") + 1
    height = int.from_bytes(data[27:30], "little") + 1
    if not data[20] & 0x02:  # the animation flag
        return Geometry("WEBP", width, height, 1)
    frames, position = 0, 12
    while position + 8 <= end:
        chunk, size = struct.unpack_from("<4sI", data, position)
        frames += chunk == b"ANMF"
        position += 8 + size + (size & 1)
    if position > end:
        raise Damaged("WebP: a chunk runs past the end of the container")
    return Geometry("WEBP", width, height, frames)
