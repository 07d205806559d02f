"""Photos as Gridline takes them in: the type by magic bytes (the declared one is not trusted),
the metadata dropped before anything is stored (EXIF carries the GPS position of the phone, often a
resident's home), and a small JPEG for the screens. Bytes in, bytes out: no case, store or channel
(``routing.evidence`` decides whose photo it is and where it goes)."""

from __future__ import annotations

import io


def image_type(data: bytes) -> str | None:
    """The image type by magic bytes: JPEG, PNG or WebP; None for anything else."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def strip_jpeg_metadata(data: bytes) -> bytes:
    """A JPEG without its APP1…APP15 and comment segments (EXIF, XMP, GPS); the picture is kept.

    Unreadable structure is returned unchanged (the magic bytes were right; the viewer copes).
    """
    out = bytearray(data[:2])
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return data
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the image data follows, copied as it is
            out += data[i:]
            return bytes(out)
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2 or i + 2 + length > len(data):
            return data
        if not (0xE1 <= marker <= 0xEF or marker == 0xFE):
            out += data[i : i + 2 + length]
        i += 2 + length
    return data


# PNG chunks that carry text or EXIF (a position, a name, a device), dropped; the picture's are kept.
PNG_METADATA = frozenset({b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"})
WEBP_METADATA = frozenset({b"EXIF", b"XMP "})


def strip_png_metadata(data: bytes) -> bytes:
    """A PNG without its text and EXIF chunks; unreadable structure is returned unchanged."""
    out, i = bytearray(data[:8]), 8
    while i + 12 <= len(data):
        length = int.from_bytes(data[i : i + 4], "big")
        end = i + 12 + length
        if end > len(data):
            return data
        if data[i + 4 : i + 8] not in PNG_METADATA:
            out += data[i:end]
        i = end
    return bytes(out) if i == len(data) else data


def strip_webp_metadata(data: bytes) -> bytes:
    """A WebP without its EXIF and XMP chunks (and their flags in VP8X); else unchanged."""
    chunks, i = [], 12
    while i + 8 <= len(data):
        size = int.from_bytes(data[i + 4 : i + 8], "little")
        end = i + 8 + size + (size & 1)
        if end > len(data):
            return data
        kind = data[i : i + 4]
        if kind not in WEBP_METADATA:
            chunk = bytearray(data[i:end])
            if kind == b"VP8X" and len(chunk) > 8:
                chunk[8] &= ~0x0C & 0xFF  # the EXIF (0x08) and XMP (0x04) flags
            chunks.append(bytes(chunk))
        i = end
    if i != len(data):
        return data
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


STRIPPERS = {"image/jpeg": strip_jpeg_metadata, "image/png": strip_png_metadata, "image/webp": strip_webp_metadata}


THUMB_PX = 320


def make_thumbnail(data: bytes, px: int = THUMB_PX) -> bytes | None:
    """A JPEG at most ``px`` on its longer side (blocking: run it in a thread); None if it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (px, px))  # JPEG: decode at a reduced scale, far cheaper
            picture = image.convert("RGB")
            picture.thumbnail((px, px))
            out = io.BytesIO()
            picture.save(out, "JPEG", quality=80)  # a new file: no EXIF carried over
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
