"""What the page shows of the customer's photos and videos, and the upload form's choices: pure.

The customer sees their own uploads by kind and time (no names, no thumbnails); the form offers
the kinds of evidence the policy still misses for their items (returns/policy: evidence_missing),
photos of the item always first, and the return's items to say which one a file shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from returns.events import EvidenceKind
from returns.evidence import MAX_FILES, ended, PHOTO_TYPES, VIDEO_TYPES, media_word
from returns.status import ReturnStatus

from customer_page import words


@dataclass
class Upload:
    text: str  # "The item (photo), 6 December 2026"


@dataclass
class UploadForm:
    kinds: list[tuple[str, str]]  # (value, label)
    lines: list[tuple[str, str]]  # (line_id, title); empty: no item to choose
    # The types the server takes: phones convert to them (iOS sends HEIC photos as JPEG).
    accept: str = ",".join(PHOTO_TYPES + VIDEO_TYPES)


def can_upload(status: ReturnStatus) -> bool:
    """Until the return is finished (the `record_evidence` validator's own rule), and while the
    return keeps fewer than MAX_FILES."""
    return not ended(status.state, status.outcome) and len(status.evidence) < MAX_FILES


def uploads(status: ReturnStatus, timezone: str | None, language: str) -> list[Upload]:
    w = words.WORDS[language]
    return [Upload(w["evidence_sent_item"].format(
        kind=w[f"kind_{f.kind.value}"], media=w[f"media_{media_word(f.content_type)}"],
        date=words.date(f.uploaded_at, timezone, language))) for f in status.evidence]


def form(status: ReturnStatus, language: str) -> UploadForm:
    w = words.WORDS[language]
    missing = {k for i in status.items for k in i.evidence_missing}
    kinds = [k for k in EvidenceKind if k == EvidenceKind.photos or k in missing]
    return UploadForm(kinds=[(k.value, w[f"kind_{k.value}"]) for k in kinds],
                      lines=[(i.line_id, i.title) for i in status.items] if len(status.items) > 1
                      else [])
