"""Small image files for evidence tests: real magic bytes and segment structure, different bytes per seed."""

from __future__ import annotations

import struct
import zlib

GPS_MARK = b"GPS 34.7466N 113.6254E"  # what a phone writes into EXIF: where the photo was taken


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(seed: int = 1, *, exif: bool = True, size: int = 0) -> bytes:
    """A JPEG: SOI, APP0 (JFIF), APP1 (EXIF with a GPS mark), SOS with ``size`` bytes of data, EOI."""
    out = b"\xff\xd8" + _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    if exif:
        out += _segment(0xE1, b"Exif\x00\x00" + GPS_MARK)
    out += _segment(0xDB, bytes([seed % 256]) * 65)  # a quantisation table that differs per seed
    out += _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    out += bytes((seed + i) % 255 for i in range(max(size, 32)))
    return out + b"\xff\xd9"


def png(seed: int = 1) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x00" + bytes([seed % 256, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))  # fmt: skip


def photo(width: int = 1600, height: int = 1200, *, gps: bytes = GPS_MARK) -> bytes:
    """A real, decodable JPEG (made with Pillow) whose EXIF carries ``gps`` in its description."""
    import io

    from PIL import Image

    image = Image.new("RGB", (width, height), (30, 120, 200))
    for x in range(0, width, 40):  # some structure, so the JPEG is not trivially small
        image.paste((200, 80, 40), (x, 0, x + 10, height))
    exif = Image.Exif()
    exif[0x010E] = gps.decode()
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()
