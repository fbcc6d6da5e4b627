"""The CLI's filters are the UI's list queries (docs/operating-in-the-ui.md); return references."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from returns_cli.main import CliError, per_line_texts, return_ref, split_line
from returns_cli.queries import FilterError, Filters, label_barcode_query, ui_url

NOON = datetime(2026, 11, 23, 12, 0, 30, 123, tzinfo=timezone.utc)


@pytest.mark.parametrize("filters, query", [
    (Filters(), 'WorkflowType="ReturnWorkflow" AND ExecutionStatus="Running"'),
    (Filters(include_finished=True), 'WorkflowType="ReturnWorkflow"'),
    (Filters(states=["under_review"]), 'ReturnState="under_review" AND ExecutionStatus="Running"'),
    (Filters(states=["refunding", "approved"]),
     'ReturnState IN ("refunding", "approved") AND ExecutionStatus="Running"'),
    # A final state is only ever reached by a finished return: no running-only clause.
    (Filters(states=["refunded"]), 'ReturnState="refunded"'),
    (Filters(merchant="opalook", order="O-1001"),
     'MerchantId="opalook" AND OrderId="O-1001" AND ExecutionStatus="Running"'),
    (Filters(waiting_on="payment provider", needs_attention=True),
     'WaitingOn="payment provider" AND NeedsAttention=true AND ExecutionStatus="Running"'),
    (Filters(overdue="ship_by", as_of=NOON),
     'NextDeadlineKind="ship_by" AND NextDeadline < "2026-11-23T12:00:30Z" AND ExecutionStatus="Running"'),
    (Filters(overdue="", as_of=NOON),
     'NextDeadline < "2026-11-23T12:00:30Z" AND ExecutionStatus="Running"'),
])
def test_filters_become_the_ui_queries(filters: Filters, query: str) -> None:
    assert filters.query() == query


@pytest.mark.parametrize("filters, message", [
    (Filters(states=["reviewing"]), "--state: unknown state 'reviewing'"),
    (Filters(overdue="shipping"), "--overdue: unknown deadline 'shipping'"),
    (Filters(waiting_on="boss"), "--waiting-on: unknown party 'boss'"),
    (Filters(merchant='x" OR 1=1'), "--merchant: 'x\" OR 1=1' is not a valid value"),
])
def test_bad_filters_are_named(filters: Filters, message: str) -> None:
    with pytest.raises(FilterError, match="^" + message.replace("(", r"\(").replace('"', '"')):
        filters.query()


def test_ui_url_is_the_query_encoded() -> None:
    assert ui_url("http://127.0.0.1:8233/", "default", 'ReturnState="under_review"') == (
        "http://127.0.0.1:8233/namespaces/default/workflows?query=ReturnState%3D%22under_review%22")


@pytest.mark.parametrize("text, return_id", [
    ("R1", "R1"), ("RMA-R1", "R1"), ("  RMA-OPL-261123-01\n", "OPL-261123-01"),
    # A workflow id (`return-<merchant>-<id>`) is looked up whole: it cannot be split.
    ("return-opalook-R1", "return-opalook-R1"),
])
def test_return_ref_takes_an_id_a_workflow_id_or_a_label_barcode(text: str, return_id: str) -> None:
    assert return_ref(text) == return_id


@pytest.mark.parametrize("text", ["", "   ", "R 1"])
def test_return_ref_refuses_what_is_not_an_id(text: str) -> None:
    with pytest.raises(CliError, match="is not a return id or a label barcode"):
        return_ref(text)


def test_per_line_texts_and_items() -> None:
    assert per_line_texts(["box dented", "L2=clasp loose"], {"L1", "L2"}, "--condition") == (
        "box dented", {"L2": "clasp loose"})
    # "=" in free text that does not start with a line id stays free text.
    assert per_line_texts(["size=52 too small"], {"L1"}, "--notes") == ("size=52 too small", {})
    assert split_line("L1=2", "--item") == ("L1", "2")
    assert split_line("L1", "--item") == ("L1", None)
    with pytest.raises(CliError, match="--item: expected LINE"):
        split_line("=2", "--item")


def test_search_attributes_fit_the_dev_server_budget_and_hold_no_personal_data() -> None:
    """The dev server (and a default namespace) allow 10 Keyword and 3 of each other type."""
    from collections import Counter

    from workflows import search_attributes as sa

    budget = {"KEYWORD": 10, "DATETIME": 3, "INT": 3, "DOUBLE": 3, "BOOL": 3, "KEYWORD_LIST": 3,
              "TEXT": 3}
    used = Counter(key.indexed_value_type.name for key in sa.ALL)
    assert all(used[kind] <= budget[kind] for kind in used), used
    names = {key.name for key in sa.ALL}
    assert sa.LABEL_BARCODE in sa.ALL and sa.LABEL_BARCODE.name == "LabelBarcode"
    assert sa.LABEL_BARCODE.indexed_value_type.name == "KEYWORD"
    # `make run` starts the dev server with every one of them (runtime/devstack.py).
    assert "LabelBarcode=Keyword" in sa.cli_flags()
    # Tracking numbers only as hashes (returns/tracking_refs.py): a number shows an address.
    assert sa.TRACKING_REFS in sa.ALL and "TrackingRefs=KeywordList" in sa.cli_flags()
    assert {"ReturnState", "MerchantId", "OrderId", "ReturnId", "NextDeadline", "NextDeadlineKind",
            "NeedsAttention", "WaitingOn", "RefundAmount"} <= names
    assert not any(word in name.lower() for name in names
                   for word in ("email", "name", "address", "phone", "customer"))


def test_a_label_barcode_is_a_query_on_label_barcode_finished_returns_too() -> None:
    assert label_barcode_query("9400111899223197428490") == 'LabelBarcode="9400111899223197428490"'
    assert label_barcode_query("RMA-R1") == 'LabelBarcode="RMA-R1"'
    with pytest.raises(FilterError):
        label_barcode_query('x" OR ReturnState="refunded')
