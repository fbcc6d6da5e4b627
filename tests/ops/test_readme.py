"""README.md's "Operating returns in the Temporal UI": its list queries are the ones `returns list`
builds, its payloads are accepted by the actions' models, every operator action is there, its
screenshots exist, and it sends the reader to docs/operating-in-the-ui.md for the rest."""

from __future__ import annotations

import re
import shlex

from returns import actions
from returns.collection import RequestCustomerPayment
from returns_cli.main import build_parser, list_query
from runtime.settings import ROOT
from workflows import names

README = ROOT / "README.md"
TITLE = "## Operating returns in the Temporal UI"
_QUERY_ROW = re.compile(r"^\| (?P<what>[^|]+) \| `(?P<query>[^`]+)` \| `(?P<command>returns list [^`]+)` \|$")
_ACTION_ROW = re.compile(r"^\| (?P<kind>update|signal|query) \| `(?P<name>\w+)` \| [^|]+ \| "
                         r"(?:`(?P<payload>\{.*\})`|— .*) \|$")
_TIME = re.compile(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"')
MODELS = {
    names.UPDATE_APPROVE: actions.Approve, names.UPDATE_REJECT: actions.Reject,
    names.UPDATE_REQUEST_INFO: actions.RequestInfo,
    names.UPDATE_RECORD_INSPECTION: actions.RecordInspection,
    names.UPDATE_EXTEND_DEADLINE: actions.ExtendDeadline, names.UPDATE_CANCEL: actions.Cancel,
    names.UPDATE_RETRY_REFUND: actions.RetryRefund,
    names.UPDATE_RECORD_MANUAL_REFUND: actions.RecordManualRefund,
    names.UPDATE_SHIP_TO_CUSTOMER: actions.ShipToCustomer,
    names.UPDATE_ACKNOWLEDGE: actions.Acknowledge,
    names.SIGNAL_WAREHOUSE_RECEIPT: actions.WarehouseReceipt,
    names.UPDATE_REQUEST_CUSTOMER_PAYMENT: RequestCustomerPayment,  # returns/collection.py
}


def section() -> list[str]:
    text = README.read_text()
    assert TITLE in text.splitlines(), f"README.md has no section {TITLE!r}"
    body = text.split(TITLE + "\n", 1)[1]
    return body.split("\n## ", 1)[0].splitlines()


def test_the_daily_lists_are_the_queries_returns_list_builds() -> None:
    rows = [m for m in map(_QUERY_ROW.match, section()) if m]
    whats = " / ".join(r["what"] for r in rows)
    for needed in ("to review", "shipments", "inspections overdue", "refunds failing",
                   "merchant", "order"):
        assert needed in whats, f"README's daily lists have no {needed!r} row: {whats}"
    parser = build_parser()
    for row in rows:
        built = list_query(parser.parse_args(shlex.split(row["command"])[1:]))
        assert _TIME.sub('"T"', built) == _TIME.sub('"T"', row["query"]), (row["what"], built)


def test_every_operator_action_is_there_with_a_payload_its_model_accepts() -> None:
    rows = {m["name"]: m for m in map(_ACTION_ROW.match, section()) if m}
    assert set(MODELS) | {names.QUERY_STATUS} == set(rows), sorted(rows)
    for name, model in MODELS.items():
        row = rows[name]
        expected = "signal" if name == names.SIGNAL_WAREHOUSE_RECEIPT else "update"
        assert row["kind"] == expected, name
        model.model_validate_json(row["payload"])  # as the UI sends it: JSON, strictly
    lines = "\n".join(section())
    assert "More Actions" in lines and "Send an Update" in lines and "Send a Signal" in lines


def test_screenshots_exist_and_the_rest_is_linked() -> None:
    lines = "\n".join(section())
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", lines)
    assert 1 <= len(images) <= 3, images
    for image in images:
        assert image.startswith("docs/img/") and (ROOT / image).is_file(), image
    assert "(docs/operating-in-the-ui.md)" in lines


def test_the_documentation_table_lists_every_document() -> None:
    text = README.read_text()
    for doc in ("operating-in-the-ui", "policies", "events", "adapters", "operations", "security",
                "faults", "performance"):
        assert f"[docs/{doc}.md](docs/{doc}.md)" in text, doc


def test_the_ready_banner_offers_the_readmes_own_queries() -> None:
    from runtime.devstack import LIST_QUERIES
    lines = "\n".join(section())
    for query, what in LIST_QUERIES:
        assert f"| {what} | `{query}` |" in lines, (what, query)
