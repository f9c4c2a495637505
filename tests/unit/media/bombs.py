"""Small, valid files that declare far more pixels than their bytes: decompression bombs.

Each decodes without error (the data is a solid colour, compressed about 1,000 to 1),
so a decoder that trusts the header spends memory and time in proportion to what it
declares: ``gif_animation(40, 7000, 7000)`` is 1.5 MB and 1,960 million pixels, the
upload of issue 18 item 3.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

# A GIF's LZW codes are at most 12 bits: 4,096 entries, then the table is cleared.
_LZW_TABLE = 4096


def _solid_lzw(pixels: int) -> bytes:
    """GIF LZW data (minimum code size 2) for ``pixels`` pixels of colour 0.

    A run of one colour needs no dictionary: after a clear code the encoder emits strings
    of 1, 2, 3 … pixels, and the string of n ≥ 2 pixels has code 4 + n (codes 4 and 5 are
    clear and end). The code width grows past 2^width entries, as the decoder's does.
    """
    clear, end = 4, 5
    out = bytearray()
    accumulator = filled = 0

    def emit(code: int, width: int) -> None:
        nonlocal accumulator, filled
        accumulator |= code << filled
        filled += width
        while filled >= 8:
            out.append(accumulator & 0xFF)
            accumulator >>= 8
            filled -= 8

    width, next_code, run, left = 3, 6, 1, pixels
    emit(clear, width)
    while left:
        taken = min(run, left)
        emit(0 if taken == 1 else 4 + taken, width)
        left -= taken
        next_code += 1
        if next_code > (1 << width) and width < 12:
            width += 1
        run += 1
        if next_code >= _LZW_TABLE - 1 and left:
            emit(clear, width)
            width, next_code, run = 3, 6, 1
    emit(end, width)
    if filled:
        out.append(accumulator & 0xFF)
    return bytes(out)


def _sub_blocks(data: bytes) -> bytes:
    return b"".join(bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255)) + b"\0"


def gif_animation(
    frames: int,
    width: int,
    height: int,
    *,
    screen: tuple[int, int] | None = None,
    first: tuple[int, int] | None = None,
) -> bytes:
    """A GIF of ``frames`` solid frames of ``width`` × ``height`` (100 ms each, looping).

    ``first`` gives the first frame another size, and ``screen`` is the logical screen the
    header declares (default: the first frame's size). Both are ways for a header to lie:
    decoders grow the canvas to fit each frame as they reach it, so a small screen and a
    small first frame hide the size of the others from a check made after opening.
    """
    screen_width, screen_height = screen or first or (width, height)
    palette = b"\0\0\0\xff\xff\xff\x10\x20\x30\x40\x50\x60"  # 4 colours: the flags' size field is 1
    out = [b"GIF89a", struct.pack("<HHBBB", screen_width, screen_height, 0x81, 0, 0), palette]
    out.append(b"!\xff\x0bNETSCAPE2.0\x03\x01\0\0\0")  # loop forever
    sizes = [first or (width, height)] + [(width, height)] * (frames - 1)
    data = {size: _sub_blocks(_solid_lzw(size[0] * size[1])) for size in set(sizes)}
    for size in sizes:
        out.append(b"!\xf9\x04\x00\x0a\x00\x00\x00")  # graphic control: 100 ms
        out.append(b"," + struct.pack("<HHHHB", 0, 0, *size, 0) + b"\x02" + data[size])
    out.append(b";")
    return b"".join(out)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def apng_animation(frames: int, width: int, height: int, *, declared_frames: int | None = None) -> bytes:
    """An APNG of ``frames`` black frames of ``width`` × ``height`` (1-bit grey, 100 ms each).

    The first frame is the default image (IDAT); ``declared_frames`` is what the animation
    control chunk (acTL) claims, by default the truth.
    """
    row = b"\0" + b"\0" * ((width + 7) // 8)  # filter byte "none", then the packed bits
    pixels = zlib.compress(row * height, 9)
    sequence = 0

    def frame_control() -> bytes:
        nonlocal sequence
        data = struct.pack(">IIIIIHHBB", sequence, width, height, 0, 0, 1, 10, 0, 0)
        sequence += 1
        return _chunk(b"fcTL", data)

    out = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))]
    out.append(_chunk(b"acTL", struct.pack(">II", declared_frames or frames, 0)))
    out += [frame_control(), _chunk(b"IDAT", pixels)]
    for _ in range(frames - 1):
        out.append(frame_control())
        out.append(_chunk(b"fdAT", struct.pack(">I", sequence) + pixels))
        sequence += 1
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)


def webp_animation(frames: int, width: int, height: int) -> bytes:
    """An animated WebP whose canvas is ``width`` × ``height`` and whose ``frames`` frames are
    16 × 16: every frame is composed onto the whole canvas when decoded.

    Made by Pillow with a 16 × 16 canvas, which is then declared larger in the VP8X chunk
    (frames smaller than the canvas are valid).
    """
    images = [Image.new("RGB", (16, 16), (n * 5 % 256, 255 - n * 5 % 256, n * 11 % 256)) for n in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "WEBP", save_all=True, append_images=images[1:], duration=100, loop=0, lossless=True)
    return with_webp_canvas(out.getvalue(), width, height)


def with_webp_canvas(data: bytes, width: int, height: int) -> bytes:
    """``data`` (an extended WebP) with the canvas its VP8X chunk declares changed to ``width`` × ``height``."""
    start = data.index(b"VP8X") + 8 + 4  # the chunk's header, then flags and three reserved bytes
    size = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return data[:start] + size + data[start + 6 :]


def jpeg_declaring(width: int, height: int) -> bytes:
    """A 16 × 16 JPEG whose frame header (SOF0) declares ``width`` × ``height``."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(out, "JPEG")
    data = out.getvalue()
    start = data.index(b"\xff\xc0") + 5  # marker, length, sample precision
    return data[:start] + struct.pack(">HH", height, width) + data[start + 4 :]


def still_webp_declaring(width: int, height: int) -> bytes:
    """A 16 × 16 still WebP with an ICC profile (so it has a VP8X chunk) declaring a ``width`` × ``height`` canvas."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 10)).save(out, "WEBP", lossless=True, icc_profile=b"\0" * 128)
    return with_webp_canvas(out.getvalue(), width, height)
