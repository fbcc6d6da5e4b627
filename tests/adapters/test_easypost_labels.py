"""Carrier return labels through EasyPost's official SDK.

No EasyPost server can run here (it is a hosted service with no local edition), so the adapter is
tested at its HTTP boundary: a local aiohttp server on 127.0.0.1 answers as EasyPost's documented
API v2 does (POST /shipments, GET /shipments/:id, POST /shipments/:id/buy, error bodies
`{"error": {"code", "message", "errors"}}`), and serves the label file the way EasyPost's file
host does. The SDK's `api_base` points at it. The server counts purchases, so the tests can assert
that a retry never buys a second label.
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest
from aiohttp import web
from reportlab.pdfgen import canvas
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.adapters import Parcel, Secret
from activities.contracts import LabelLine, LabelRequest
from activities.easypost_labels import CARRIER_LABEL_REFUSED, EasyPostLabels, TransientLabelFailure
from activities.labels import LabelActivities
from returns.events import Address
from tests.loopback import serving

API_KEY = "EZTK_test_returns"


def small_pdf(text: str) -> bytes:
    out = io.BytesIO()
    c = canvas.Canvas(out)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return out.getvalue()


class FakeEasyPost:
    """EasyPost API v2, as documented, for shipments: rates on creation, buy, retrieve."""

    RATES = (("USPS", "Priority", "8.25"), ("USPS", "GroundAdvantage", "5.10"),
             ("UPS", "Ground", "9.40"), ("USPS", "Express", "31.00"))

    def __init__(self):
        self.shipments: dict[str, dict] = {}
        self.created: list[dict] = []
        self.purchases: list[tuple[str, str]] = []  # (shipment id, rate id)
        self.failures: dict[str, list[int]] = {}  # route -> statuses to answer first
        self.ids = itertools.count(1)
        self.base = ""

    def _fail(self, route: str):
        pending = self.failures.get(route)
        if pending:
            status = pending.pop(0)
            return web.json_response({"error": {"code": "INTERNAL_SERVER_ERROR",
                                                "message": "Something went wrong", "errors": []}},
                                     status=status)
        return None

    def _authorised(self, request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {API_KEY}"

    async def create(self, request):
        if not self._authorised(request):
            return web.json_response({"error": {"code": "APIKEY.INACTIVE",
                                                "message": "This api key is no longer active.",
                                                "errors": []}}, status=401)
        if (failed := self._fail("create")) is not None:
            return failed
        body = (await request.json())["shipment"]
        self.created.append(body)
        if body["to_address"]["zip"] == "00000":
            return web.json_response({"error": {
                "code": "ADDRESS.VERIFY.FAILURE", "message": "Unable to verify address.",
                "errors": [{"field": "address", "message": "Address not found"}]}}, status=422)
        sid = f"shp_{next(self.ids):024d}"
        rates = [{"id": f"rate_{sid[4:]}_{i}", "object": "Rate", "carrier": carrier,
                  "service": service, "rate": price, "currency": "USD", "shipment_id": sid}
                 for i, (carrier, service, price) in enumerate(self.RATES)]
        shipment = {"id": sid, "object": "Shipment", "mode": "test",
                    "is_return": body.get("is_return", False), "reference": body.get("reference"),
                    "to_address": body["to_address"], "from_address": body["from_address"],
                    "parcel": body["parcel"], "options": body.get("options", {}),
                    "rates": rates, "selected_rate": None, "postage_label": None,
                    "tracking_code": None, "status": "unknown"}
        self.shipments[sid] = shipment
        return web.json_response(shipment, status=201)

    async def retrieve(self, request):
        shipment = self.shipments.get(request.match_info["id"])
        if shipment is None:
            return web.json_response({"error": {"code": "NOT_FOUND",
                                                "message": "The requested resource could not be found.",
                                                "errors": []}}, status=404)
        return web.json_response(shipment)

    async def buy(self, request):
        if (failed := self._fail("buy")) is not None:
            return failed
        shipment = self.shipments[request.match_info["id"]]
        if shipment["postage_label"] is not None:
            return web.json_response({"error": {"code": "SHIPMENT.POSTAGE.EXISTS",
                                                "message": "Postage already exists for this shipment.",
                                                "errors": []}}, status=422)
        rate_id = (await request.json())["rate"]["id"]
        [rate] = [r for r in shipment["rates"] if r["id"] == rate_id]
        self.purchases.append((shipment["id"], rate_id))
        sid = shipment["id"]
        shipment.update(
            selected_rate=rate, tracking_code=f"9400100000000000{len(self.purchases):06d}",
            status="pre_transit",
            postage_label={"object": "PostageLabel", "label_file_type": "image/png",
                           "label_url": f"{self.base}/files/postage_label/{sid}.png",
                           "label_pdf_url": f"{self.base}/files/postage_label/{sid}.pdf"})
        return web.json_response(shipment)

    async def label_file(self, request):
        if (failed := self._fail("download")) is not None:
            return failed
        name = request.match_info["name"]
        if name.endswith(".pdf"):
            return web.Response(body=small_pdf(f"USPS return label {name}"),
                                content_type="application/pdf")
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + b"\0" * 64, content_type="image/png")


@pytest.fixture
async def easypost():
    fake = FakeEasyPost()
    app = web.Application()
    app.router.add_post("/v2/shipments", fake.create)
    app.router.add_get("/v2/shipments/{id}", fake.retrieve)
    app.router.add_post("/v2/shipments/{id}/buy", fake.buy)
    app.router.add_get("/files/postage_label/{name}", fake.label_file)
    async with serving(app) as fake.base:
        yield fake


def carrier(fake: FakeEasyPost, labels_dir: Path, key: str = API_KEY, **kwargs) -> EasyPostLabels:
    kwargs.setdefault("carrier", "USPS")
    return EasyPostLabels(Secret(key, "test"), labels_dir, api_base=f"{fake.base}/v2",
                          parcel=Parcel(weight_oz=12, length_in=8, width_in=6, height_in=2),
                          timeout=10, **kwargs)


def label_request(**overrides) -> LabelRequest:
    data = dict(
        idempotency_key="return-R-3003:label", rma_number="RMA-R-3003", return_id="R-3003",
        order_id="O-3003", merchant_name="Fine Jewelry Co",
        merchant_address=Address(line1="500 Fifth Ave", city="New York", postal_code="10110",
                                 region="NY", country="US"),
        customer_name="Sam Lee",
        customer_address=Address(line1="179 N Harbor Dr", line2="Apt 4", city="Redondo Beach",
                                 postal_code="90277", region="CA", country="US"),
        lines=[LabelLine(sku="RING-1", title="Diamond ring", quantity=1)],
        merchant_id="fine-jewelry",
    )
    data.update(overrides)
    return LabelRequest(**data)


async def make(acts: LabelActivities, req: LabelRequest):
    return await ActivityEnvironment().run(acts.create_return_label, req)


async def test_a_return_shipment_buys_the_cheapest_rate_of_the_carrier_and_saves_the_label(
        easypost, tmp_path):
    acts = LabelActivities(tmp_path, carriers={"fine-jewelry": carrier(easypost, tmp_path)})

    made = await make(acts, label_request())

    [body] = easypost.created
    assert body["is_return"] is True and body["reference"] == "return-R-3003:label"
    # As for the original delivery; EasyPost swaps them for a return.
    assert body["to_address"] == {"name": "Sam Lee", "street1": "179 N Harbor Dr",
                                  "street2": "Apt 4", "city": "Redondo Beach", "state": "CA",
                                  "zip": "90277", "country": "US"}
    assert body["from_address"]["name"] == "Fine Jewelry Co"
    assert body["parcel"] == {"weight": 12, "length": 8, "width": 6, "height": 2}
    assert body["options"] == {"label_format": "PDF", "print_custom_1": "RMA-R-3003"}
    [(sid, rate_id)] = easypost.purchases
    rate = next(r for r in easypost.shipments[sid]["rates"] if r["id"] == rate_id)
    assert (rate["carrier"], rate["service"]) == ("USPS", "GroundAdvantage")  # cheapest USPS
    assert made.path == str(tmp_path / "RMA-R-3003.pdf")
    assert Path(made.path).read_bytes().startswith(b"%PDF")
    assert made.barcode_value == easypost.shipments[sid]["tracking_code"]
    assert not made.duplicate


async def test_the_configured_service_is_bought_and_png_kept_as_png(easypost, tmp_path):
    acts = LabelActivities(tmp_path, carriers={
        "fine-jewelry": carrier(easypost, tmp_path, service="Priority", label_format="PNG")})
    made = await make(acts, label_request())
    [(sid, rate_id)] = easypost.purchases
    assert rate_id.endswith("_0")  # USPS Priority
    assert made.path.endswith("RMA-R-3003.png")
    assert Path(made.path).read_bytes().startswith(b"\x89PNG")


async def test_a_retry_after_a_failed_download_does_not_buy_again(easypost, tmp_path):
    acts = LabelActivities(tmp_path, carriers={"fine-jewelry": carrier(easypost, tmp_path)})
    easypost.failures["download"] = [503]

    with pytest.raises(TransientLabelFailure):
        await make(acts, label_request())
    assert len(easypost.purchases) == 1

    made = await make(acts, label_request())  # Temporal's retry
    again = await make(acts, label_request())  # and once more after success

    assert len(easypost.created) == 1 and len(easypost.purchases) == 1
    assert not made.duplicate and again.duplicate and again.sha256 == made.sha256


async def test_a_retry_after_a_failed_purchase_buys_once_on_the_same_shipment(easypost, tmp_path):
    acts = LabelActivities(tmp_path, carriers={"fine-jewelry": carrier(easypost, tmp_path)})
    easypost.failures["buy"] = [500]

    with pytest.raises(TransientLabelFailure) as err:
        await make(acts, label_request())
    assert "EasyPost unavailable while buying" in str(err.value)
    made = await make(acts, label_request())

    assert len(easypost.created) == 1 and len(easypost.purchases) == 1
    assert Path(made.path).is_file()


async def test_easypost_down_when_creating_is_retried(easypost, tmp_path):
    acts = LabelActivities(tmp_path, carriers={"fine-jewelry": carrier(easypost, tmp_path)})
    easypost.failures["create"] = [503]
    with pytest.raises(TransientLabelFailure):
        await make(acts, label_request())
    await make(acts, label_request())
    assert len(easypost.created) == 1 and len(easypost.purchases) == 1


async def test_an_address_the_carrier_refuses_goes_to_staff(easypost, tmp_path):
    acts = LabelActivities(tmp_path, carriers={"fine-jewelry": carrier(easypost, tmp_path)})
    bad = label_request(customer_address=Address(line1="nowhere", city="Nowhere",
                                                 postal_code="00000", country="US"))
    with pytest.raises(ApplicationError) as err:
        await make(acts, bad)
    assert err.value.type == CARRIER_LABEL_REFUSED and err.value.non_retryable
    assert "ADDRESS.VERIFY.FAILURE" in err.value.message
    assert "nowhere" not in err.value.message.lower()
    assert easypost.purchases == []


async def test_no_rate_for_the_configured_carrier_goes_to_staff(easypost, tmp_path):
    acts = LabelActivities(tmp_path, carriers={
        "fine-jewelry": carrier(easypost, tmp_path, carrier="FedEx")})
    with pytest.raises(ApplicationError) as err:
        await make(acts, label_request())
    assert err.value.type == CARRIER_LABEL_REFUSED
    assert "labels.carrier: EasyPost offers no FedEx rate" in err.value.message
    assert "USPS Priority" in err.value.message
    assert easypost.purchases == []


async def test_a_revoked_api_key_is_retried(easypost, tmp_path):
    acts = LabelActivities(tmp_path, carriers={
        "fine-jewelry": carrier(easypost, tmp_path, key="EZTK_revoked")})
    with pytest.raises(TransientLabelFailure) as err:
        await make(acts, label_request())
    assert "refused the API key" in str(err.value) and "EZTK" not in str(err.value)


async def test_other_merchants_and_requests_without_merchant_get_the_pdf_label(easypost, tmp_path):
    acts = LabelActivities(tmp_path, carriers={"fine-jewelry": carrier(easypost, tmp_path)})
    for req in (label_request(merchant_id="opalook", rma_number="RMA-R-1", return_id="R-1"),
                label_request(merchant_id=None, rma_number="RMA-R-2", return_id="R-2")):
        made = await make(acts, req)
        assert made.barcode_value == req.rma_number and made.path.endswith(".pdf")
    assert easypost.created == []
