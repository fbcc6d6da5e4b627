"""The customer's photos and videos (003 §III.1, 004 §2.4): what a return records of them, when,
and how staff see them. Pure: no Temporal, no I/O.

The file itself is stored outside Temporal (evidence/store.py); the return records only an
`EvidenceFile` (hash, type, size, kind, line, time, storage key) through the `record_evidence`
update, whose validator asks `evidence_refusal`. The same file (same sha256) is recorded once.

The policy decides on evidence once, at the request (returns/policy/rules.py EvidenceRequired):
missing evidence is a reason and a point for staff, never a refusal by itself, and every return
waits for a person's review anyway. So an upload never approves anything; the status card shows
staff what arrived after the request next to what was missing (`uploaded_after_request`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from returns.events import EvidenceKind, Identifier
from returns.status import FINAL, EvidenceFile, ItemStatus, ReturnState

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_VIDEO_BYTES = 100 * 1024 * 1024
MAX_FILES = 30  # per return: the history keeps a line per file
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
ContentType = Literal["image/jpeg", "image/png", "image/webp", "video/mp4", "video/quicktime",
                      "video/webm"]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
StorageKey = Annotated[str, StringConstraints(
    pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}/[A-Za-z0-9][A-Za-z0-9._:-]{0,63}/[0-9a-f]{64}$")]


class RecordEvidence(BaseModel):
    """The `record_evidence` update: one file the customer uploaded, already in the evidence store.
    Sent by the customer page; one JSON object, strict (the refusal names the field)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    sha256: Sha256 = Field(description="hex sha256 of the stored bytes (after location removal)")
    content_type: ContentType = Field(description="sniffed from the bytes")
    size: Annotated[int, Field(gt=0, le=MAX_VIDEO_BYTES)]
    kind: EvidenceKind = Field(description="what the file shows: photos (of the item), "
                                           "original_packaging, certificate, damage_proof, ...")
    line_id: Identifier | None = Field(None, description="the item it shows, if the customer said")
    key: StorageKey = Field(description="<merchant_id>/<return_id>/<sha256> in the evidence store")
    received_by: Annotated[str, Field(min_length=2, max_length=80)] | None = Field(
        None, description="the staff member who added it for the customer (a photo the customer "
                          "emailed, a request taken by phone: 004 §3.1); none: the customer")

    @model_validator(mode="after")
    def _bounds(self) -> "RecordEvidence":
        if self.content_type in PHOTO_TYPES and self.size > MAX_PHOTO_BYTES:
            raise ValueError(f"size: a photo may be at most {MAX_PHOTO_BYTES} bytes")
        if not self.key.endswith("/" + self.sha256):
            raise ValueError("key: must end with the file's sha256")
        return self


def ended(state: ReturnState, outcome: str | None) -> bool:
    """The return is over: a final state, or an outcome given (a refunded return ends refunded)."""
    return state in FINAL or outcome is not None


def evidence_refusal(state: ReturnState, outcome: str | None, merchant_id: str, return_id: str,
                     line_ids: list[str], recorded: list[EvidenceFile],
                     record: RecordEvidence) -> str | None:
    """Why the return cannot record this file now, in words staff and the page can act on."""
    if ended(state, outcome):
        return f"the return is finished ({state.value}); no more evidence can be recorded"
    if not record.key.startswith(f"{merchant_id}/{return_id}/"):
        return f"key: {record.key} is not this return's ({merchant_id}/{return_id}/...)"
    if record.line_id is not None and record.line_id not in line_ids:
        lines = ", ".join(line_ids) or "none"
        return f"line_id: {record.line_id} is not an item of this return (items: {lines})"
    if len(recorded) >= MAX_FILES and not any(f.sha256 == record.sha256 for f in recorded):
        return f"this return already has {MAX_FILES} files, the most it keeps"
    return None


def already_recorded(recorded: list[EvidenceFile], record: RecordEvidence) -> bool:
    return any(f.sha256 == record.sha256 for f in recorded)


def evidence_file(record: RecordEvidence, at: datetime) -> EvidenceFile:
    return EvidenceFile(sha256=record.sha256, content_type=record.content_type, size=record.size,
                        kind=record.kind, line_id=record.line_id, uploaded_at=at, key=record.key)


def media_word(content_type: str) -> str:
    return "video" if content_type.startswith("video/") else "photo"


def uploaded_after_request(item: ItemStatus, evidence: list[EvidenceFile],
                           requested_at: datetime | None) -> str | None:
    """For an item flagged for missing evidence: "photos uploaded after the request (2 files)",
    counting files of a missing kind about this item or about no item in particular; None when
    nothing of what was missing arrived."""
    if not item.evidence_missing:
        return None
    kinds = []
    for kind in item.evidence_missing:
        n = sum(1 for f in evidence if f.kind == kind and f.line_id in (None, item.line_id)
                and (requested_at is None or f.uploaded_at >= requested_at))
        if n:
            kinds.append(f"{kind.value.replace('_', ' ')} ({n} file{'s' if n > 1 else ''})")
    return f"uploaded after the request: {', '.join(kinds)}" if kinds else None


def evidence_url(console_page: str, sha256: str) -> str:
    """The staff console's link to one file of the return whose console page is `console_page`
    (returns/console_link.py; console/: GET /returns/{workflow_id}/evidence/{sha})."""
    return f"{console_page}/evidence/{sha256}"


def describe_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"
