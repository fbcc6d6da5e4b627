"""create_return_label: a real PDF whose barcodes scan, written once per idempotency key."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
import zxingcpp
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import labels as labels_module
from activities.contracts import LabelLine, LabelRequest
from activities.labels import LabelActivities, render_label
from returns.events import Address

MERCHANT_ADDRESS = Address(line1="Service retours - Entrepôt B", line2="12 rue de la Paix",
                           city="Paris", postal_code="75002", country="FR")
CUSTOMER_ADDRESS = Address(line1="8 avenue Foch", city="Lyon", postal_code="69006", country="FR")


def label_request(rma: str = "RMA-R1", **changes) -> LabelRequest:
    fields = dict(
        idempotency_key="return-R1:label", rma_number=rma, return_id="R1", order_id="O-1001",
        merchant_name="Maison Perle", merchant_address=MERCHANT_ADDRESS,
        customer_name="Camille Dupont", customer_address=CUSTOMER_ADDRESS,
        lines=[LabelLine(sku="NK-AKOYA-18", title="Akoya pearl necklace", quantity=1),
               LabelLine(sku="ER-TAHITI-01", title="Tahitian pearl earrings", quantity=2)],
        ship_by=datetime(2026, 11, 24, 23, 59, 59, tzinfo=ZoneInfo("Europe/Paris")),
    )
    fields.update(changes)
    return LabelRequest(**fields)


async def create(labels_dir: Path, req: LabelRequest):
    return await ActivityEnvironment().run(LabelActivities(labels_dir).create_return_label, req)


def page_image(path: str, page: int = 0, dpi: int = 300):
    return pdfium.PdfDocument(path)[page].render(scale=dpi / 72).to_pil()


def page_text(path: str) -> str:
    doc = pdfium.PdfDocument(path)
    return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))


def decoded(path: str) -> set[tuple[str, str]]:
    return {(r.format.name, r.text) for r in zxingcpp.read_barcodes(page_image(path))}


async def test_label_is_a_pdf_whose_barcodes_scan(tmp_path):
    made = await create(tmp_path, label_request())
    path = Path(made.path)
    assert path == tmp_path / "RMA-R1.pdf"
    content = path.read_bytes()
    assert content.startswith(b"%PDF")
    assert made.sha256 == hashlib.sha256(content).hexdigest()
    assert made.barcode_value == made.rma_number == "RMA-R1"
    assert not made.duplicate
    found = decoded(made.path)
    assert ("Code128", "RMA-R1") in found
    assert ("QRCode", "RMA-R1") in found


@pytest.mark.parametrize("rma", ["RMA-2026-000123", "RMA-return_2026-11-24:7a9f.b3c1d2e4f5a6b7c8",
                                 "R9"])
async def test_barcodes_scan_for_short_and_long_rma_numbers(tmp_path, rma):
    made = await create(tmp_path, label_request(rma))
    found = decoded(made.path)
    assert ("Code128", rma) in found and ("QRCode", rma) in found


async def test_label_shows_what_a_person_needs(tmp_path):
    made = await create(tmp_path, label_request())
    text = page_text(made.path)
    for expected in ["Maison Perle", "Entrepôt B", "75002 Paris", "Camille Dupont",
                     "8 avenue Foch", "RMA-R1", "O-1001", "R1", "NK-AKOYA-18",
                     "Akoya pearl necklace", "ER-TAHITI-01", "Tahitian pearl earrings",
                     "Include this slip in the parcel", "Tue 24 Nov 2026", "Total quantity: 3"]:
        assert expected in text, expected


async def test_second_call_with_the_same_key_does_not_render_again(tmp_path):
    first = await create(tmp_path, label_request())
    before = os.stat(first.path)
    content = Path(first.path).read_bytes()
    again = await create(tmp_path, label_request())
    after = os.stat(again.path)
    assert again.duplicate
    assert again.model_copy(update={"duplicate": False}) == first
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
    assert Path(again.path).read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["RMA-R1.json", "RMA-R1.pdf"]


async def test_a_lost_label_is_rendered_again_identically(tmp_path):
    first = await create(tmp_path, label_request())
    Path(first.path).unlink()
    again = await create(tmp_path, label_request())
    assert not again.duplicate
    assert again.sha256 == first.sha256


async def test_a_damaged_label_is_replaced(tmp_path):
    first = await create(tmp_path, label_request())
    Path(first.path).write_bytes(b"%PDF-1.4 truncated")
    again = await create(tmp_path, label_request())
    assert not again.duplicate
    assert hashlib.sha256(Path(again.path).read_bytes()).hexdigest() == first.sha256


async def test_rendering_is_deterministic():
    assert render_label(label_request()) == render_label(label_request())
    assert render_label(label_request()) != render_label(label_request(order_id="O-1002"))


async def test_reissued_label_of_the_same_return_replaces_the_file(tmp_path):
    first = await create(tmp_path, label_request())
    moved = CUSTOMER_ADDRESS.model_copy(update={"line1": "3 quai Perrache"})
    second = await create(tmp_path, label_request(idempotency_key="return-R1:label:2",
                                                  customer_address=moved))
    assert not second.duplicate and second.sha256 != first.sha256
    assert "3 quai Perrache" in page_text(second.path)


async def test_rma_number_of_another_return_is_refused(tmp_path):
    await create(tmp_path, label_request())
    with pytest.raises(ApplicationError) as info:
        await create(tmp_path, label_request(return_id="R2", idempotency_key="return-R2:label"))
    assert info.value.type == "LabelConflict" and info.value.non_retryable
    assert "rma_number" in str(info.value)


@pytest.mark.parametrize("changes, field", [
    ({"rma_number": "../../etc/passwd"}, "rma_number"),
    ({"rma_number": "RMA/1"}, "rma_number"),
    ({"rma_number": "RMA 1"}, "rma_number"),
    ({"lines": []}, "lines"),
    ({"lines": [LabelLine(sku="A", title="A", quantity=0)]}, r"lines[0].quantity"),
    ({"ship_by": datetime(2026, 11, 24)}, "ship_by"),
])
async def test_bad_requests_are_refused_naming_the_field(tmp_path, changes, field):
    with pytest.raises(ApplicationError) as info:
        await create(tmp_path, label_request(**changes))
    assert info.value.type == "InvalidLabelRequest" and info.value.non_retryable
    assert field in str(info.value)
    assert list(tmp_path.iterdir()) == []


async def test_accents_and_chinese_and_korean_names_render(tmp_path):
    req = label_request(
        customer_name="Zoë Lefèvre-王小明",
        customer_address=Address(line1="上海市浦东新区世纪大道100号", city="上海",
                                 postal_code="200120", region="上海市", country="CN"),
        merchant_name="Bijouterie Élégance · 珍珠坊",
        lines=[LabelLine(sku="RG-PT950", title="Bague platine 950 — 铂金钻戒 — 반지 💍",
                         quantity=1),
               LabelLine(sku="NK-01", title="Collier\nperles\td'Akoya", quantity=1)])
    made = await create(tmp_path, req)
    text = page_text(made.path)
    for expected in ["Zoë Lefèvre-王小明", "上海市浦东新区世纪大道100号", "200120 上海",
                     "Bijouterie Élégance · 珍珠坊", "铂金钻戒", "반지", "Collier perles d'Akoya"]:
        assert expected in text, expected
    found = decoded(made.path)
    assert ("Code128", "RMA-R1") in found and ("QRCode", "RMA-R1") in found


async def test_cjk_text_uses_an_embedded_font_when_the_machine_has_one():
    content = render_label(label_request(customer_name="王小明"))
    if labels_module._embedded_glyphs:
        assert b"/FontFile2" in content  # an embedded TrueType subset
    else:
        assert b"STSong-Light" in content


async def test_many_lines_continue_on_further_pages(tmp_path):
    lines = [LabelLine(sku=f"SKU-{n:03d}", title=f"Freshwater pearl bracelet, model {n} "
                       "with a rather long description that has to wrap", quantity=1 + n % 3)
             for n in range(80)]
    made = await create(tmp_path, label_request(lines=lines))
    doc = pdfium.PdfDocument(made.path)
    assert len(doc) >= 2
    text = page_text(made.path)
    assert all(f"SKU-{n:03d}" in text for n in range(80))
    assert "(continued)" in text
    assert f"Total quantity: {sum(1 + n % 3 for n in range(80))}" in text
    assert ("Code128", "RMA-R1") in decoded(made.path)


async def test_ship_by_is_optional_and_shows_a_time_unless_end_of_day(tmp_path):
    made = await create(tmp_path, label_request(ship_by=None))
    assert "Ship by".upper() not in page_text(made.path)
    made = await create(tmp_path / "b", label_request(
        ship_by=datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)))
    assert "Tue 24 Nov 2026, 15:00 UTC" in page_text(made.path)


async def test_labels_directory_is_created(tmp_path):
    made = await create(tmp_path / "data" / "labels", label_request())
    assert Path(made.path).parent == tmp_path / "data" / "labels"


class _CarrierThatMustNotBeCalled:
    name = "easypost"

    async def create(self, req: LabelRequest):
        raise AssertionError("a carrier label was bought for a parcel the customer pays for")


async def test_a_parcel_the_customer_pays_for_gets_the_pdf_label_not_a_carrier_label(tmp_path):
    """004 §3.4 non-quality: "the shipping cost of returning the product shall be borne by you":
    even for a merchant with a carrier configured, `prepaid=False` prints the PDF RMA label and
    buys nothing on the customer's behalf."""
    acts = LabelActivities(tmp_path, carriers={"fine-jewelry": _CarrierThatMustNotBeCalled()})
    made = await ActivityEnvironment().run(
        acts.create_return_label, label_request(merchant_id="fine-jewelry", prepaid=False))
    assert Path(made.path) == tmp_path / "RMA-R1.pdf"
    with pytest.raises(AssertionError, match="carrier label was bought"):
        await ActivityEnvironment().run(
            acts.create_return_label, label_request(rma="RMA-R2", merchant_id="fine-jewelry",
                                                    idempotency_key="return-R2:label",
                                                    return_id="R2"))


async def test_the_packing_slip_says_whether_each_item_is_for_a_refund_or_an_exchange(tmp_path):
    """003 §III.3 "a return list (indicating the order number and return/exchange needs) must be
    attached"; 004 §3.1 "stating … requirements": the slip names what each line comes back for."""
    made = await create(tmp_path, label_request(lines=[
        LabelLine(sku="NK-AKOYA-18", title="Akoya pearl necklace", quantity=1,
                  wanted="exchange: 45 cm"),
        LabelLine(sku="ER-TAHITI-01", title="Tahitian pearl earrings", quantity=2,
                  wanted="refund")]))
    text = " ".join(page_text(made.path).split())
    assert "Akoya pearl necklace - for exchange: 45 cm" in text
    assert "Tahitian pearl earrings - for refund" in text
