"""Small real media files for the evidence tests, made here (nothing downloaded)."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825
PARIS = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}


def photo(fmt: str = "JPEG", size=(64, 48), gps: bool = True, color=(200, 30, 30),
          noise: bool = False) -> bytes:
    """A photo with a camera model and, unless told not to, a GPS position (Paris) in EXIF."""
    image = Image.new("RGB", size, color)
    if noise:
        image = Image.frombytes("RGB", size, bytes((i * 7919) % 251 for i in range(size[0] * size[1] * 3)))
    exif = Image.Exif()
    exif[0x0110] = "TestCam 1"  # Model
    exif[0x0112] = 1  # Orientation
    if gps:
        exif.get_ifd(GPS_IFD).update(PARIS)
    out = io.BytesIO()
    image.save(out, format=fmt, exif=exif.tobytes())
    return out.getvalue()


def mp4(size: int = 4096) -> bytes:
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return head + b"\x00\x00\x00\x08free" + b"\x00" * (size - len(head) - 8)


def mov(size: int = 4096) -> bytes:
    head = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  "
    return head + b"\x00" * (size - len(head))


def webm(size: int = 4096) -> bytes:
    head = (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81"
            b"\x08\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02")
    return head + b"\x00" * (size - len(head))
