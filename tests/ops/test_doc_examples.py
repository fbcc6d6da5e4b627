"""The README's and the docs' example payloads work on the demo returns as printed (issue 17
point 5: the README named line `L1` while the demo's lines are `1`, `2`, so the first paste was
refused), and docs/actions.md, the operator reference of every field, is generated from the
action models so it cannot drift.

Each example is validated against the action's strict pydantic model (what the workflow's
validator parses first); an example that names a demo return (`<!-- payload: NAME on OPL-04 -->`
above it in the docs; the README's table by the sentence above it) only names lines that return
requested, in quantities it requested. tests/ops/test_cli_actions.py sends the same actions to
those demo returns on a real server."""

from __future__ import annotations

import json
import re
import sys
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from returns.actions_doc import ACTIONS, DOC, render
from returns.collection import RequestCustomerPayment
from returns.allowed import Action
from runtime.settings import ROOT

sys.path.insert(0, str(ROOT / "demo"))
from generate import demo_events  # noqa: E402

DOCS = sorted((ROOT / "docs").glob("*.md"))
README = ROOT / "README.md"
_MARKED = re.compile(r"<!-- payload: (?P<name>\w+)(?: on (?P<demo>[A-Z]+-\d\d))? -->\n```json\n"
                     r"(?P<json>.*?)\n```", re.S)
_JSON_BLOCK = re.compile(r"```json\n(?P<json>.*?)\n```", re.S)
_README_ROW = re.compile(r"^\| (?:update|signal) \| `(?P<name>\w+)` \| [^\n]*\| `(?P<json>\{.*\})` \|$",
                         re.M)
# The README's table, by its sentence: approve on FJ-<day>-04, the receipt on OPL-<day>-01, the
# inspection on OPL-<day>-04.
README_DEMO = {"approve": "FJ-04", "warehouse_receipt": "OPL-01", "record_inspection": "OPL-04"}
# Updates that are not among the status card's actions (returns/allowed.py) but have examples.
EXTRA_MODELS = {"request_customer_payment": RequestCustomerPayment}
FIELDS_DECISIONS_NEED = ("comparison_purchase", "checks_confirmed", "inspection_fee",
                         "postage_reimbursement", "fee_payment_reference", "customer_payment",
                         "stock_confirmed")


def demo_return(short: str) -> dict:
    """`OPL-04` -> today's demo return.requested `OPL-<yymmdd>-04`."""
    prefix, number = short.split("-")
    stamp = date.today().strftime("%y%m%d")
    return next(e for e in demo_events() if e["type"] == "return.requested"
                and e["return_id"] == f"{prefix}-{stamp}-{number}")


def examples() -> list[tuple[str, str, str | None, str]]:
    """(where, action name, demo return or None, JSON text) of every action example."""
    found = []
    for path in [README, *DOCS]:
        text = path.read_text(encoding="utf-8")
        for m in _MARKED.finditer(text):
            found.append((f"{path.name}:{text[:m.start()].count(chr(10)) + 2}", m["name"],
                          m["demo"], m["json"]))
        if path == README:
            for m in _README_ROW.finditer(text):
                found.append((f"README.md:{text[:m.start()].count(chr(10)) + 1}", m["name"],
                              README_DEMO.get(m["name"]), m["json"]))
    return found


def test_every_action_example_is_marked_with_its_action() -> None:
    """A JSON block naming an `actor` is an action example: it must say which action (so this
    test validates it)."""
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        marked = {m.start("json") for m in _MARKED.finditer(text)}
        for m in _JSON_BLOCK.finditer(text):
            if '"actor"' in m["json"]:
                assert m.start("json") in marked, (
                    f"{path.name}:{text[:m.start()].count(chr(10)) + 1}: an action example without "
                    "`<!-- payload: NAME [on DEMO-NN] -->` above it")
    names = {name for _, name, _, _ in examples()}
    assert names - set(EXTRA_MODELS) == {a.value for a in Action}, f"actions without an example: " \
                                               f"{sorted({a.value for a in Action} - names)}"


@pytest.mark.parametrize("where,name,demo,payload", examples(),
                         ids=lambda v: v if isinstance(v, str) and ":" in v else "")
def test_each_example_is_valid_and_fits_its_demo_return(where, name, demo, payload) -> None:
    model = EXTRA_MODELS[name] if name in EXTRA_MODELS else ACTIONS[Action(name)].model
    try:
        action = model.model_validate_json(payload)  # strict, as the workflow's converter parses
    except ValidationError as err:
        pytest.fail(f"{where}: the {name} example is refused: {err}")
    if demo is None:
        return
    event = demo_return(demo)
    requested = {i["line_id"]: i["quantity"] for i in event["items"]}
    named = []
    if name == "approve":
        named = [(o.line_id, None) for o in action.overrides] + [
            (line, None) for line in action.stock_confirmed]
    elif name == "warehouse_receipt":
        named = [(i.line_id, i.quantity) for i in action.items]
    elif name == "record_inspection":
        named = [(i.line_id, i.quantity) for i in action.items]
    for line, quantity in named:
        assert line in requested, (f"{where}: line {line!r} is not a line of demo return "
                                   f"{event['return_id']} (lines: {', '.join(requested)})")
        assert quantity is None or quantity <= requested[line], (
            f"{where}: {quantity} units of line {line} but {event['return_id']} returns "
            f"{requested[line]}")


def test_no_example_names_a_line_the_demo_does_not_have() -> None:
    """The demo's order lines are `1`, `2`: no `L1` in an example, a command or a refusal."""
    demo_lines = {ln["line_id"] for e in demo_events() if e["type"] == "return.requested"
                  for ln in e["order"]["lines"]}
    assert demo_lines == {"1", "2"}
    for path in (README, ROOT / "docs" / "operating-in-the-ui.md", DOC):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r'"line_id": "L\d|--(?:item|pass|fail|check|confirmed) L\d', text), path


def test_the_operator_reference_is_generated_from_the_models() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/actions.md differs from returns/actions.py: run `python -m returns.actions_doc`")


def test_the_fields_decisions_need_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for field in FIELDS_DECISIONS_NEED:
        rows = [ln for ln in text.splitlines() if re.match(rf"^\| `([\w\[\].]*\.)?{field}` \|", ln)]
        assert rows, f"docs/actions.md does not list {field}"
        for row in rows:
            what = row.rstrip(" |").rsplit("|", 1)[-1].strip()
            assert len(what) > 20, f"{field} has no description in returns/actions.py: {row}"
