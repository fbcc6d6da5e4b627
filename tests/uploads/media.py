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


# --- a small real MP4/MOV with a location, box by box (ffmpeg is not installed here) ------------
PARIS_ISO6709 = b"+48.8583+002.2945+035.000/"
LOCI_NAME = b"Tour Eiffel"


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def full_box(kind: bytes, payload: bytes, version: int = 0, flags: int = 0) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def _mvhd() -> bytes:
    matrix = b"".join(v.to_bytes(4, "big") for v in (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000))
    return full_box(b"mvhd", (0).to_bytes(4, "big") * 2 + (1000).to_bytes(4, "big")
                    + (2000).to_bytes(4, "big") + (0x10000).to_bytes(4, "big")
                    + (0x100).to_bytes(2, "big") + bytes(10) + matrix + bytes(24)
                    + (2).to_bytes(4, "big"))


def _trak(chunk_offset: int) -> bytes:
    """One track whose only chunk is at `chunk_offset` (stco): the offset stripping must keep."""
    stbl = box(b"stbl", full_box(b"stsd", (0).to_bytes(4, "big"))
               + full_box(b"stco", (1).to_bytes(4, "big") + chunk_offset.to_bytes(4, "big")))
    minf = box(b"minf", stbl)
    mdia = box(b"mdia", full_box(b"mdhd", bytes(16) + bytes(4)) + minf)
    track_udta = box(b"udta", box(b"\xa9xyz", len(PARIS_ISO6709).to_bytes(2, "big")
                                  + b"\x15\xc7" + PARIS_ISO6709))
    return box(b"trak", full_box(b"tkhd", bytes(80), flags=3) + mdia + track_udta)


def _loci() -> bytes:
    fixed = lambda degrees: int(degrees * 65536).to_bytes(4, "big", signed=True)  # noqa: E731
    return full_box(b"loci", b"\x15\xc7" + LOCI_NAME + b"\x00" + b"\x00" + fixed(2.2945)
                    + fixed(48.8583) + fixed(35.0) + b"earth\x00" + b"\x00")


def _apple_meta() -> bytes:
    """QuickTime's moov/meta (no version and flags): keys and their ilst items, the first the
    location, the second the camera's make (which stays)."""
    keys = [b"com.apple.quicktime.location.ISO6709", b"com.apple.quicktime.make"]
    entries = b"".join((8 + len(k)).to_bytes(4, "big") + b"mdta" + k for k in keys)
    data = lambda value: box(b"data", (1).to_bytes(4, "big") + bytes(4) + value)  # noqa: E731
    ilst = box(b"ilst", box((1).to_bytes(4, "big"), data(PARIS_ISO6709))
               + box((2).to_bytes(4, "big"), data(b"Apple")))
    return box(b"meta", box(b"hdlr", bytes(8) + b"mdta" + bytes(12) + b"\x00")
               + full_box(b"keys", len(keys).to_bytes(4, "big") + entries) + ilst)


def video_with_location(quicktime: bool = False, frames: int = 2048) -> bytes:
    """ftyp, mdat (the "frames"), then moov: mvhd, a track (stco pointing into mdat, its own
    udta/©xyz), udta with ©xyz, loci and an ISO meta (full box), and Apple's meta with keys/ilst.
    `quicktime`: a MOV (brand "qt  "), else an MP4 ("isom")."""
    ftyp = (box(b"ftyp", b"qt  " + (0x200).to_bytes(4, "big") + b"qt  ") if quicktime
            else box(b"ftyp", b"isom" + (0x200).to_bytes(4, "big") + b"isomiso2avc1mp41"))
    mdat = box(b"mdat", bytes((i * 31 + 7) % 256 for i in range(frames)))
    chunk = len(ftyp) + 8
    iso_meta = full_box(b"meta", box(b"hdlr", bytes(4) + b"mdir" + b"appl" + bytes(8) + b"\x00")
                        + box(b"ilst", box(b"\xa9too", box(b"data", (1).to_bytes(4, "big")
                                                           + bytes(4) + b"Lavf"))))
    udta = box(b"udta", box(b"\xa9xyz", len(PARIS_ISO6709).to_bytes(2, "big") + b"\x15\xc7"
                            + PARIS_ISO6709) + _loci() + iso_meta)
    moov = box(b"moov", _mvhd() + _trak(chunk) + udta + _apple_meta())
    return ftyp + mdat + moov


def boxes(data: bytes, start: int = 0, end: int | None = None, depth: int = 0):
    """(depth, type, offset, size) of every box, descending into the containers (a test's view
    of the tree, independent of evidence/video_location.py)."""
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size, kind = int.from_bytes(data[at:at + 4], "big"), data[at + 4:at + 8]
        yield depth, kind, at, size
        inner = {b"moov": 8, b"trak": 8, b"udta": 8, b"mdia": 8, b"minf": 8, b"stbl": 8}.get(kind)
        if kind == b"meta":
            inner = 8 if data[at + 12:at + 16] == b"hdlr" else 12
        if inner:
            yield from boxes(data, at + inner, at + size, depth + 1)
        at += size
