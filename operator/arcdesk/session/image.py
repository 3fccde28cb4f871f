"""Screen thumbnails without third-party code: parse ``xwd`` output, shrink, encode PNG. Pure."""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass

XWD_HEADER_FIELDS = 25
Z_PIXMAP = 2
LSB_FIRST = 0


class ImageError(ValueError):
    """Image data this module cannot read."""


@dataclass(frozen=True)
class RGBImage:
    """Packed 8-bit RGB rows, top to bottom."""

    width: int
    height: int
    pixels: bytes

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        at = (y * self.width + x) * 3
        return self.pixels[at], self.pixels[at + 1], self.pixels[at + 2]


@dataclass(frozen=True)
class XWDImage:
    width: int
    height: int
    bytes_per_line: int
    pixel_bytes: int  # 4 (padded 32-bit pixels) or 3 (packed 24-bit)
    channel_offsets: tuple[int, int, int]  # byte offset of R, G, B inside one pixel
    data: memoryview


def _channel_offset(mask: int, byte_order: int, pixel_bytes: int) -> int:
    for k in range(pixel_bytes):
        if mask == 0xFF << (8 * k):
            return k if byte_order == LSB_FIRST else pixel_bytes - 1 - k
    raise ImageError(f"unsupported colour mask {mask:#x} (need 8-bit channels)")


def _pixel_bytes(bits_per_pixel: int, bytes_per_line: int, width: int) -> int:
    """Bytes per pixel. Xvnc's xwd dumps pack 24-bit pixels into rows padded to 4 bytes per
    pixel, so rows are walked by ``bytes_per_line`` and pixels by this size."""
    if bits_per_pixel not in (24, 32):
        raise ImageError(f"unsupported {bits_per_pixel} bits per pixel (need 24 or 32)")
    pixel_bytes = bits_per_pixel // 8
    if bytes_per_line < pixel_bytes * width:
        raise ImageError(f"rows of {bytes_per_line} bytes are too short for {width} pixels")
    return pixel_bytes


def parse_xwd(blob: bytes) -> XWDImage:
    """Read a ZPixmap, 24-bit colour XWD dump (what ``xwd -root`` gives on a 24-bit Xvnc)."""
    if len(blob) < XWD_HEADER_FIELDS * 4:
        raise ImageError("XWD data shorter than its header")
    h = struct.unpack_from(f">{XWD_HEADER_FIELDS}I", blob)
    header_size, version, fmt, _depth, width, height = h[:6]
    byte_order, bits_per_pixel, bytes_per_line = h[7], h[11], h[12]
    red, green, blue, ncolors = h[14], h[15], h[16], h[19]
    if version != 7 or fmt != Z_PIXMAP:
        raise ImageError(f"unsupported XWD version {version} / format {fmt}")
    pixel_bytes = _pixel_bytes(bits_per_pixel, bytes_per_line, width)
    start = header_size + ncolors * 12
    if len(blob) < start + bytes_per_line * height:
        raise ImageError("XWD data truncated")
    offsets = tuple(_channel_offset(m, byte_order, pixel_bytes) for m in (red, green, blue))
    return XWDImage(
        width=width,
        height=height,
        bytes_per_line=bytes_per_line,
        pixel_bytes=pixel_bytes,
        channel_offsets=(offsets[0], offsets[1], offsets[2]),
        data=memoryview(blob)[start : start + bytes_per_line * height],
    )


def thumbnail(image: XWDImage, max_width: int) -> RGBImage:
    """Nearest-neighbour shrink by a whole step so the result is at most ``max_width`` wide."""
    step = max(1, math.ceil(image.width / max_width))
    out_w = math.ceil(image.width / step)
    stride = image.pixel_bytes * step
    row_len = image.pixel_bytes * image.width
    rows: list[bytes] = []
    for y in range(0, image.height, step):
        row = image.data[y * image.bytes_per_line : y * image.bytes_per_line + row_len]
        packed = bytearray(3 * out_w)
        for channel, offset in enumerate(image.channel_offsets):
            packed[channel::3] = row[offset::stride]
        rows.append(bytes(packed))
    return RGBImage(width=out_w, height=len(rows), pixels=b"".join(rows))


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def encode_png(image: RGBImage) -> bytes:
    """8-bit truecolour PNG, filter type 0 on every row."""
    row_len = 3 * image.width
    if len(image.pixels) != row_len * image.height:
        raise ImageError("pixel data does not match width x height")
    raw = b"".join(
        b"\x00" + image.pixels[y * row_len : (y + 1) * row_len] for y in range(image.height)
    )
    header = struct.pack(">IIBBBBB", image.width, image.height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )
