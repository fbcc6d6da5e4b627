"""What an uploaded evidence file may be, read from its bytes: pure, no Temporal, no HTTP.

- the type is sniffed from the content (filetype), never taken from the name or the browser's
  Content-Type: photos JPEG, PNG, WebP; videos MP4, MOV, WebM. HEIC is refused: Pillow cannot
  rewrite it here to remove its location (pillow-heif is not installed); a phone's browser sends
  HEIC photos as JPEG when the form asks for image/jpeg (iOS does so);
- sizes are bounded (MAX_PHOTO_BYTES, MAX_VIDEO_BYTES) while the upload streams to disk
  (`receive`), so a too large file is refused at the first chunk past its bound;
- photos are re-saved without location (EXIF GPS, XMP) by `without_location`; MP4/MOV videos lose
  theirs in place, without re-encoding (evidence/video_location.py: `©xyz`, `loci`, Apple's
  location keys, XMP); WebM is kept as sent (see docs/customer-page.md).
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import AsyncIterator

import filetype
from PIL import Image

from returns.evidence import MAX_PHOTO_BYTES, MAX_VIDEO_BYTES, VIDEO_TYPES

SNIFF_BYTES = 262  # what filetype reads to know a type
MAX_PIXELS = 50_000_000  # a photo larger than this is refused (decompression bombs)

PHOTO_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}  # Pillow's names
ACCEPT = ",".join([*PHOTO_TYPES, *sorted(VIDEO_TYPES)])  # the form's accept= attribute
GPS_IFD = 0x8825  # EXIF's GPSInfo tag


class Media(StrEnum):
    photo = "photo"
    video = "video"


class FileProblem(StrEnum):
    """Why a file is refused; customer_page words each one in the customer's language."""

    empty = "empty"
    not_media = "not_media"  # not a photo or video we take (by its content)
    photo_too_large = "photo_too_large"
    video_too_large = "video_too_large"
    unreadable_photo = "unreadable_photo"
    unreadable_video = "unreadable_video"  # an MP4/MOV whose boxes do not fit (video_location)


class Refused(Exception):
    def __init__(self, problem: FileProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def sniff(head: bytes) -> tuple[str, Media] | None:
    """(content type, photo or video) from the file's first bytes; None when it is neither a photo
    nor a video we take, whatever its name says."""
    kind = filetype.guess(head)
    if kind is None:
        return None
    if kind.mime in PHOTO_TYPES:
        return kind.mime, Media.photo
    if kind.mime in VIDEO_TYPES:
        return kind.mime, Media.video
    return None


def limit(media: Media) -> int:
    return MAX_PHOTO_BYTES if media is Media.photo else MAX_VIDEO_BYTES


def too_large(media: Media) -> FileProblem:
    return FileProblem.photo_too_large if media is Media.photo else FileProblem.video_too_large


@dataclass
class Received:
    """An upload on disk, its type known from its content and its size within bounds."""

    path: Path
    content_type: str
    media: Media
    size: int


async def receive(chunks: AsyncIterator[bytes], folder: Path) -> Received:
    """Stream an upload to a file in `folder`, sniffing its type from the first bytes and refusing
    (Refused) as soon as it is empty, not a photo or video, or past its type's size bound. The
    caller deletes the file."""
    head = b""
    media: Media | None = None
    content_type = ""
    size = 0
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix="upload-", delete=False)
    path = Path(handle.name)
    try:
        with handle:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if media is None:
                    head += chunk
                    if len(head) < SNIFF_BYTES:
                        continue
                    content_type, media = _sniffed(head)
                    chunk, head = head, b""
                if size > limit(media):
                    raise Refused(too_large(media))
                handle.write(chunk)
            if media is None:  # shorter than SNIFF_BYTES
                if not head:
                    raise Refused(FileProblem.empty)
                content_type, media = _sniffed(head)
                handle.write(head)
        return Received(path=path, content_type=content_type, media=media, size=size)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _sniffed(head: bytes) -> tuple[str, Media]:
    found = sniff(head)
    if found is None:
        raise Refused(FileProblem.not_media)
    return found


def without_location(data: bytes, content_type: str) -> bytes:
    """The photo re-saved without its location: EXIF's GPS block and any XMP packet removed, the
    rest of EXIF (orientation, camera) kept; JPEG keeps its quantisation (quality="keep").
    Refused(unreadable_photo) when Pillow cannot read it as the type its bytes claim."""
    fmt = PHOTO_TYPES[content_type]
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != fmt:
                raise Refused(FileProblem.unreadable_photo)
            if image.width * image.height > MAX_PIXELS:
                raise Refused(FileProblem.photo_too_large)
            image.load()
            exif = image.getexif()
            exif.pop(GPS_IFD, None)
            options: dict = {"exif": exif.tobytes()} if len(exif) else {}
            if image.info.get("icc_profile"):
                options["icc_profile"] = image.info["icc_profile"]
            if fmt == "JPEG":
                options["quality"] = "keep"
                if image.mode not in ("RGB", "L", "CMYK"):
                    raise Refused(FileProblem.unreadable_photo)
            elif fmt == "WEBP":
                options.update(lossless=bool(image.info.get("lossless")), quality=90)
            image.info.pop("xmp", None)
            image.info.pop("XML:com.adobe.xmp", None)
            out = io.BytesIO()
            image.save(out, format=fmt, **options)
            return out.getvalue()
    except Refused:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise Refused(FileProblem.unreadable_photo) from None


def has_location(data: bytes) -> bool:
    """Whether a photo still carries EXIF GPS or XMP (the tests' and the docs' check)."""
    with Image.open(io.BytesIO(data)) as image:
        gps = image.getexif().get_ifd(GPS_IFD)
        return bool(gps) or b"<x:xmpmeta" in data or b"GPSLatitude" in data


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
