"""Where a video was taken, removed from an MP4 / MOV (QuickTime) file without re-encoding it:
pure, no Temporal, no HTTP (evidence/keep.py calls it where photos lose their EXIF GPS).

An MP4 or MOV file is a tree of ISO-BMFF boxes (ISO/IEC 14496-12; QuickTime calls them atoms):
each box is a 32-bit size, a 4-character type, then its payload, some of which are boxes. Phones
write the place a video was taken in:

- `©xyz` under `moov/udta` (or a track's `udta`): an ISO 6709 string, "+48.8583+002.2945/";
- `loci` (3GPP TS 26.244 §8.10): a name, longitude, latitude and altitude in fixed point;
- Apple's metadata: `moov/meta` holds `keys` (the names, e.g. `com.apple.quicktime.location.
  ISO6709`) and `ilst`, whose items are typed by the 1-based index of their key; every
  `com.apple.quicktime.location.*` item is location (the ISO 6709 string, its accuracy, a name);
- XMP (`udta/XMP_`, or the XMP `uuid` box), which may carry `exif:GPSLatitude`, as photos' XMP
  does (photos lose their XMP too).

Each of those boxes is retyped to `free` and its payload overwritten with zeros, in place. Why
retype rather than only zero the payload: a `free` box is, by the standard (14496-12 §8.1.2), one
every reader skips, so the file stays valid and no reader finds a `©xyz` or `loci` to parse: a
zeroed `©xyz` would still be a location box, with an empty or "+00.0000+000.0000" value that some
readers would show as a place (0° N 0° E). Why in place, same length: the media data are addressed
by absolute file offsets (`stco` / `co64` chunk offsets, `iloc`), so removing bytes would move
every frame; overwriting keeps every offset, the frames, the codecs and the duration exactly as
sent, and the file's length unchanged, with no re-encoding (nothing like ffmpeg is needed).

The file is read by seeking (box headers only), so a 100 MB video is never read whole. A box tree
that does not fit its file (a size past its parent's end) is refused (`MalformedVideo`): a
location the walk could not reach might remain.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# Boxes whose payload is boxes, on the way to the location: the movie, its tracks, user data,
# metadata and its item list. Media data (`mdat`) and sample tables are never read.
CONTAINERS = frozenset({b"moov", b"trak", b"udta", b"meta", b"ilst"})
LOCATION_BOXES = frozenset({b"\xa9xyz", b"loci", b"XMP_"})
XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")  # the XMP box's uuid (XMP part 3)
APPLE_LOCATION_KEY = b"com.apple.quicktime.location."
FREE = b"free"
VIDEO_CONTENT_TYPES = frozenset({"video/mp4", "video/quicktime"})
_BLANK_CHUNK = 64 * 1024


class MalformedVideo(ValueError):
    """The box tree does not fit the file: its location could not be looked for everywhere."""


@dataclass(frozen=True)
class Box:
    type: bytes
    start: int  # offset of the box's first byte (its size)
    payload: int  # offset of its payload, after the header
    end: int  # offset just past it


def _boxes(f: BinaryIO, start: int, end: int) -> Iterator[Box]:
    """The boxes laid one after another in [start, end)."""
    at = start
    while at + 8 <= end:
        f.seek(at)
        header = f.read(8)
        if len(header) < 8:
            raise MalformedVideo(f"box header cut at offset {at}")
        size, kind = struct.unpack(">I4s", header)
        payload = at + 8
        if size == 1:  # 64-bit size follows the type
            large = f.read(8)
            if len(large) < 8:
                raise MalformedVideo(f"box header cut at offset {at}")
            size = struct.unpack(">Q", large)[0]
            payload = at + 16
        elif size == 0:  # to the end of the enclosing box (or file)
            size = end - at
        if size < payload - at or at + size > end:
            raise MalformedVideo(f"box {kind!r} at offset {at} does not fit (size {size})")
        if kind == b"uuid":
            payload += 16  # the box's extended type
            if payload > at + size:
                raise MalformedVideo(f"uuid box at offset {at} too short")
        yield Box(kind, at, payload, at + size)
        at += size


def _meta_children_start(f: BinaryIO, box: Box) -> int:
    """ISO's `meta` is a full box (4 bytes of version and flags before its children); QuickTime's
    `moov/meta` is not. Its first child is always `hdlr`: find it at either place."""
    f.seek(box.payload)
    head = f.read(12)
    if head[4:8] == b"hdlr":
        return box.payload
    return box.payload + 4


def _apple_location_indexes(f: BinaryIO, keys: Box) -> set[int]:
    """1-based indexes of the `keys` entries named com.apple.quicktime.location.*."""
    f.seek(keys.payload)
    data = f.read(keys.end - keys.payload)
    if len(data) < 8:
        raise MalformedVideo("keys box too short")
    count = struct.unpack(">I", data[4:8])[0]
    found: set[int] = set()
    at = 8
    for index in range(1, count + 1):
        if at + 8 > len(data):
            raise MalformedVideo("keys box cut")
        size = struct.unpack(">I", data[at:at + 4])[0]
        if size < 8 or at + size > len(data):
            raise MalformedVideo("keys entry does not fit")
        if data[at + 8:at + size].startswith(APPLE_LOCATION_KEY):
            found.add(index)
        at += size
    return found


def _is_xmp_uuid(f: BinaryIO, box: Box) -> bool:
    f.seek(box.payload - 16)  # the uuid box's extended type, just before its payload
    return f.read(16) == XMP_UUID


def location_boxes(f: BinaryIO, start: int = 0, end: int | None = None,
                   parent: bytes = b"") -> list[Box]:
    """Every box that says where the video was taken, anywhere in the tree."""
    if end is None:
        end = f.seek(0, io.SEEK_END)
    found: list[Box] = []
    children = list(_boxes(f, start, end))
    apple: set[int] = set()
    if parent == b"meta":
        for box in children:
            if box.type == b"keys":
                apple |= _apple_location_indexes(f, box)
    for box in children:
        if box.type in LOCATION_BOXES or (box.type == b"uuid" and _is_xmp_uuid(f, box)):
            found.append(box)
        elif box.type == b"ilst" and apple:  # Apple's items, by their key's index
            items = list(_boxes(f, box.payload, box.end))
            found += [item for item in items if _apple_index(item) in apple]
            found += [item for item in items if item.type in LOCATION_BOXES]
        elif box.type in CONTAINERS:
            first = _meta_children_start(f, box) if box.type == b"meta" else box.payload
            found += location_boxes(f, first, box.end, box.type)
    return found


def _apple_index(box: Box) -> int:
    """An `ilst` item's key index (its type, read as a big-endian number)."""
    return struct.unpack(">I", box.type)[0]


def _blank(f: BinaryIO, box: Box) -> None:
    """Retype the box to `free` and overwrite everything after its header with zeros."""
    f.seek(box.start + 4)
    f.write(FREE)
    f.seek(box.payload)
    left = box.end - box.payload
    while left > 0:
        n = min(left, _BLANK_CHUNK)
        f.write(bytes(n))
        left -= n


def strip_location(f: BinaryIO) -> int:
    """Remove the location from the open MP4/MOV `f` (read-write, seekable) in place; the file's
    length and every other byte are unchanged. Returns how many boxes were blanked."""
    found = location_boxes(f)
    for box in found:
        _blank(f, box)
    f.flush()
    return len(found)


def strip_location_file(path: Path) -> int:
    with open(path, "r+b") as f:
        return strip_location(f)


def without_location(data: bytes) -> bytes:
    """`data` (a whole MP4/MOV) with its location removed, same length."""
    f = io.BytesIO(data)
    strip_location(f)
    return f.getvalue()


def has_location(data: bytes) -> bool:
    """Whether an MP4/MOV still carries a location box (the tests' and the docs' check)."""
    return bool(location_boxes(io.BytesIO(data)))


__all__ = ["MalformedVideo", "VIDEO_CONTENT_TYPES", "has_location", "location_boxes",
           "strip_location", "strip_location_file", "without_location"]
