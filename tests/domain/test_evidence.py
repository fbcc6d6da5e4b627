"""The customer's evidence as the return records it (returns/evidence.py) and as staff see it on
the status card: pure, milliseconds."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from returns.console_link import console_page_url
from returns.events import EvidenceKind, workflow_id_for
from returns.evidence import (
    MAX_FILES, MAX_PHOTO_BYTES, RecordEvidence, already_recorded, evidence_file, evidence_refusal,
)
from returns.status import ItemStatus, ReturnState, ReturnStatus
from returns.status_card import render_status_card

SHA = "ab" * 32
REQUESTED = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def record(**change) -> RecordEvidence:
    fields = dict(sha256=SHA, content_type="image/jpeg", size=120_000, kind="photos",
                  line_id="L1", key=f"pearl-platform/R-7/{SHA}")
    return RecordEvidence.model_validate_json(json.dumps({**fields, **change}))


def test_the_update_input_is_strict_and_names_the_field():
    assert record().kind == EvidenceKind.photos
    for bad, field in [(dict(size="120000"), "size"), (dict(content_type="image/gif"),
                                                       "content_type"),
                       (dict(sha256="xyz"), "sha256"), (dict(kind="selfie"), "kind"),
                       (dict(key="../../etc/passwd"), "key"), (dict(size=0), "size"),
                       (dict(extra=1), "extra")]:
        with pytest.raises(ValidationError, match=field):
            record(**bad)
    with pytest.raises(ValidationError, match="size: a photo may be at most"):
        record(size=MAX_PHOTO_BYTES + 1)
    assert record(content_type="video/mp4", size=MAX_PHOTO_BYTES + 1).size > MAX_PHOTO_BYTES
    with pytest.raises(ValidationError, match="key: must end with the file's sha256"):
        record(key=f"pearl-platform/R-7/{'cd' * 32}")


def refusal(state=ReturnState.under_review, recorded=(), outcome=None, **change):
    return evidence_refusal(state, outcome, "pearl-platform", "R-7", ["L1", "L2"], list(recorded),
                            record(**change))


def test_evidence_is_taken_before_and_after_approval_until_the_return_ends():
    for state in (ReturnState.requested, ReturnState.under_review, ReturnState.awaiting_shipment,
                  ReturnState.inspecting):
        assert refusal(state) is None
    for state in (ReturnState.closed, ReturnState.withdrawn, ReturnState.rejected):
        assert "the return is finished" in refusal(state)
    assert "the return is finished (refunded)" in refusal(ReturnState.refunded, outcome="refunded")


def test_another_returns_key_or_line_is_refused():
    assert "is not this return's" in refusal(key=f"pearl-platform/R-8/{SHA}")
    assert "is not this return's" in refusal(key=f"opalook/R-7/{SHA}")
    assert refusal(line_id="L9") == "line_id: L9 is not an item of this return (items: L1, L2)"
    assert refusal(line_id=None) is None


def test_a_return_keeps_at_most_max_files_but_a_repeat_is_never_refused():
    at = datetime.now(timezone.utc)
    full = [evidence_file(record(sha256=f"{n:064x}", key=f"pearl-platform/R-7/{n:064x}"), at)
            for n in range(MAX_FILES)]
    assert "already has 30 files" in refusal(recorded=full)
    repeat = record(sha256=f"{3:064x}", key=f"pearl-platform/R-7/{3:064x}")
    assert evidence_refusal(ReturnState.under_review, None, "pearl-platform", "R-7", ["L1"], full,
                            repeat) is None
    assert already_recorded(full, repeat)


def card_status(state, evidence=(), missing=(EvidenceKind.photos,)) -> ReturnStatus:
    return ReturnStatus(
        return_id="R-7", merchant_id="pearl-platform", order_id="O-7", state=state,
        currency="EUR", requested_at=REQUESTED,
        items=[ItemStatus(line_id="L1", sku="P1", title="Pearl necklace", quantity_requested=1,
                          eligible=False, resolution=None, evidence_missing=list(missing)),
               ItemStatus(line_id="L2", sku="P2", title="Pearl earrings", quantity_requested=1,
                          eligible=True, resolution="refund")],
        evidence=list(evidence))


def test_the_card_shows_the_reviewer_what_arrived_after_the_request_with_staff_links():
    later = REQUESTED + timedelta(hours=5)
    files = [evidence_file(record(), later),
             evidence_file(record(sha256="cd" * 32, key=f"pearl-platform/R-7/{'cd' * 32}",
                                  content_type="video/mp4", size=30 * 1024 * 1024, line_id=None),
                           later),
             evidence_file(record(sha256="ef" * 32, key=f"pearl-platform/R-7/{'ef' * 32}",
                                  line_id="L2"), later)]
    card = render_status_card(card_status(ReturnState.under_review, files),
                              console_page=console_page_url("https://console.example", workflow_id_for(files[0].key.split("/")[0], files[0].key.split("/")[1])))
    line = next(x for x in card.splitlines() if x.startswith("- **L1**"))
    assert "missing photos" in line and "**uploaded after the request: photos (2 files)**" in line
    assert "### Customer's evidence (staff only)" in card
    assert ("[photos: photo, image/jpeg, 117 KB](https://console.example/returns/"
            f"return-pearl-platform-R-7/evidence/{SHA}) · line L1 · 01 Dec 2026 14:00 UTC") in card
    assert f"photos: video, video/mp4, 30.0 MB](https://console.example/returns/return-pearl-platform-R-7/evidence/{'cd' * 32})" in card


def test_without_uploads_the_card_only_says_what_is_missing():
    card = render_status_card(card_status(ReturnState.under_review))
    assert "missing photos" in card and "uploaded after" not in card and "evidence" not in card.lower().replace("missing", "")


def test_the_evidence_list_stays_after_the_review():
    files = [evidence_file(record(), REQUESTED + timedelta(days=3))]
    page = console_page_url("https://console.example", workflow_id_for("pearl-platform", "R-7"))
    card = render_status_card(card_status(ReturnState.awaiting_shipment, files), page)
    assert "uploaded after the request" not in card  # the review is over
    assert "### Customer's evidence (staff only)" in card and f"{page}/evidence/{SHA})" in card
    # A return started without the console's address lists its files without links.
    bare = render_status_card(card_status(ReturnState.awaiting_shipment, files))
    assert "- photos: photo, image/jpeg" in bare and "/evidence/" not in bare
