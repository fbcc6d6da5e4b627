"""Keep a received upload in the evidence store: a photo re-saved without its location (its hash
is the clean copy's), an MP4/MOV video with its location boxes blanked in place (same length,
evidence/video_location.py), a WebM as sent; the customer page and the console's
customer-service upload both call it before the workflow's `record_evidence`."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from evidence import files, video_location
from evidence.store import EvidenceStore, evidence_key
from returns.evidence import MAX_PHOTO_BYTES


@dataclass(frozen=True)
class Kept:
    sha256: str
    size: int
    key: str


def _sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


async def keep(store: EvidenceStore, merchant_id: str, return_id: str,
               received: files.Received) -> Kept:
    """Store `received` under `<merchant>/<return>/<sha256>`; raises files.Refused (an unreadable
    photo, or one over the bound once re-saved) with nothing stored."""
    if received.media is files.Media.photo:
        original = await asyncio.to_thread(received.path.read_bytes)
        clean = await asyncio.to_thread(files.without_location, original, received.content_type)
        if len(clean) > MAX_PHOTO_BYTES:
            raise files.Refused(files.FileProblem.photo_too_large)
        sha256 = hashlib.sha256(clean).hexdigest()
        key = evidence_key(merchant_id, return_id, sha256)
        await store.put(key, clean, received.content_type)
        return Kept(sha256, len(clean), key)
    if received.content_type in video_location.VIDEO_CONTENT_TYPES:
        try:  # the upload's own temporary file, rewritten in place before it is hashed
            await asyncio.to_thread(video_location.strip_location_file, received.path)
        except video_location.MalformedVideo:
            raise files.Refused(files.FileProblem.unreadable_video) from None
    sha256 = await asyncio.to_thread(_sha256_file, received.path)
    key = evidence_key(merchant_id, return_id, sha256)
    await store.put_file(key, received.path, received.content_type)
    return Kept(sha256, received.size, key)
