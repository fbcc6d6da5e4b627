"""The console's return page shows the refund its outcome has (returns/refund_shown.py), as the
status card and `returns show` do: after a failed inspection it said "Refund 180.00 USD" (the
policy's proposal), found trying the demo as an operator. Rendered from a status, no server."""

from __future__ import annotations

from types import SimpleNamespace

from aiohttp.test_utils import make_mocked_request

from console.accounts import Session, Staff
from console.roles import Role
from console.server import SESSION, Console
from returns.events import Resolution
from returns.status import InspectionResult, ItemStatus, ReturnState, ReturnStatus


def page(status: ReturnStatus) -> str:
    console = Console(SimpleNamespace(namespace="default"), None, ui_url="http://ui")
    request = make_mocked_request("GET", "/returns/return-m-R-1")
    request[SESSION] = Session(Staff("ines", Role.admin, frozenset({"*"})), "csrf", "hash")
    return console._show(request, "return-m-R-1", status).text


def status(state: ReturnState, inspection: InspectionResult | None) -> ReturnStatus:
    return ReturnStatus(
        return_id="R-1", merchant_id="m", order_id="O-1", state=state, currency="USD",
        refund_total=18_000,
        items=[ItemStatus(line_id="2", sku="S", title="18k gold studs", quantity_requested=1,
                          quantity_received=1, eligible=True, resolution=Resolution.refund,
                          refund_amount=18_000, inspection=inspection)])


def test_a_failed_inspection_shows_no_refund():
    html = page(status(ReturnState.returning_to_customer, InspectionResult.failed))
    assert "<dt>Refund</dt><dd>no refund: the inspection failed" in html
    assert "180.00 USD</dd>" not in html


def test_before_the_inspection_it_shows_the_proposal():
    html = page(status(ReturnState.awaiting_shipment, None))
    assert "<dt>Refund</dt><dd>refund total 180.00 USD once the items pass inspection" in html
