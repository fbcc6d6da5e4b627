"""The page's part of the customer's photos and videos (customer_page/upload_view.py): pure."""

from __future__ import annotations

from datetime import datetime, timezone

from customer_page import upload_view, view
from returns.events import EvidenceKind
from returns.evidence import MAX_FILES
from returns.status import EvidenceFile, ItemStatus, ReturnState, ReturnStatus

AT = datetime(2026, 12, 6, 12, 24, tzinfo=timezone.utc)


def status(state=ReturnState.under_review, outcome=None, evidence=(), lines=2) -> ReturnStatus:
    items = [ItemStatus(line_id=f"L{n}", sku=f"S{n}", title=f"Ring {n}", quantity_requested=1,
                        eligible=True, resolution="refund",
                        evidence_missing=[EvidenceKind.logistics_signature, EvidenceKind.photos]
                        if n == 1 else [])
             for n in range(1, lines + 1)]
    return ReturnStatus(return_id="R-1", merchant_id="fine-jewelry", order_id="O-1", state=state,
                        outcome=outcome, currency="USD", items=items, evidence=list(evidence))


def file(n: int = 0, content_type="image/jpeg") -> EvidenceFile:
    sha = f"{n:064x}"
    return EvidenceFile(sha256=sha, content_type=content_type, size=10, kind="photos",
                        uploaded_at=AT, key=f"fine-jewelry/R-1/{sha}")


def test_the_form_offers_what_the_policy_misses_photos_first_and_the_items():
    form = upload_view.form(status(), "fr")
    assert form.kinds == [("photos", "L’article"),
                          ("logistics_signature", "La preuve de signature à la livraison")]
    assert form.lines == [("L1", "Ring 1"), ("L2", "Ring 2")]
    assert upload_view.form(status(lines=1), "en").lines == []  # one item: nothing to choose
    assert "image/jpeg" in form.accept and "video/quicktime" in form.accept
    assert "heic" not in form.accept


def test_uploads_until_the_return_ends_and_up_to_max_files():
    assert upload_view.can_upload(status(ReturnState.awaiting_shipment))
    assert not upload_view.can_upload(status(ReturnState.cancelled, outcome="cancelled"))
    assert not upload_view.can_upload(status(ReturnState.refunded, outcome="refunded"))
    assert not upload_view.can_upload(status(evidence=[file(n) for n in range(MAX_FILES)]))


def test_the_customer_sees_their_uploads_by_kind_and_time_in_their_language():
    st = status(evidence=[file(1), file(2, "video/mp4")])
    texts = [u.text for u in upload_view.uploads(st, "Europe/Paris", "fr")]
    assert texts[0].startswith("L’article (photo), ") and "2026" in texts[0]
    assert texts[1].startswith("L’article (vidéo), ")
    assert upload_view.uploads(st, None, "zh")[1].text.startswith("商品（视频）")


def test_the_missing_evidence_reason_points_to_the_form_while_it_is_open():
    v = view.build(status(), None, None, "en")
    assert "please add them below" in " ".join(v.items[0].reasons)
    assert v.can_upload and v.upload_form is not None
