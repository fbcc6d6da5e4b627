"""The `returns` console script, run as a subprocess against a real dev server and a real worker,
as warehouse staff and operators run it: lists filtered like the UI's queries, the status, receipts
by return id or by the label's barcode (a scanner types it), prompts in a terminal, inspection,
approval, rejection, acknowledging what needs attention, and one readable line on stderr for every
error."""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import shlex
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import WorkflowExecutionStatus

from returns_cli.main import build_parser, list_query
from returns_cli.queries import ui_url
from runtime.settings import ROOT
from returns.events import workflow_id_for
from returns.status import ReturnStatus
from samples.events import return_requested
from tests.ops.stack import STEP_TIMEOUT, Stack, running_stack, two_line_request
from workflows import names

pytestmark = pytest.mark.e2e

RETURNS = Path(sys.executable).parent / "returns"


@pytest_asyncio.fixture(scope="module")
async def stack(tmp_path_factory, temporal_cli_path: Path):
    if not RETURNS.exists():
        pytest.fail(f"{RETURNS} is missing: the `returns` console script comes with the project; "
                    "run `make venv`", pytrace=False)
    async with running_stack(tmp_path_factory.mktemp("cli"), temporal_cli_path) as running:
        yield running


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def error_line(self) -> str:
        """The error: exactly one line on stderr."""
        lines = self.err.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got:\n{self.err}"
        return lines[0]


async def returns(stack: Stack, *args: str, stdin: str = "", **env: str) -> Run:
    process = await asyncio.create_subprocess_exec(
        str(RETURNS), *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=stack.cli_env(**env))
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), STEP_TIMEOUT)
    return Run(process.returncode, out.decode(), err.decode())


async def listed(stack: Stack, *args: str, expect: set[str]) -> Run:
    """`returns list ...` until it shows exactly `expect` among the returns this module started:
    the list reads visibility, which the dev server updates shortly after each change."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while True:
        run = await returns(stack, "list", *args)
        assert run.code == 0, run.err
        shown = {line.split()[0] for line in run.out.splitlines()[1:] if line.strip()}
        if shown & set(stack.started) == expect:
            return run
        if time.monotonic() > deadline:
            pytest.fail(f"`returns list {' '.join(args)}` shows {sorted(shown & set(stack.started))}, "
                        f"expected {sorted(expect)}:\n{run.out}")
        await asyncio.sleep(0.3)


async def approved(stack: Stack) -> str:
    return_id = await stack.start_return()
    await stack.in_state(return_id, "under_review")
    await stack.handle(return_id).execute_update(names.UPDATE_APPROVE, {"actor": "sam"})
    await stack.in_state(return_id, "awaiting_shipment")
    return return_id


# ---------------------------------------------------------------------------------------- list
async def test_list_filters_like_the_ui_queries(stack: Stack) -> None:
    review = await stack.start_return()
    shipping = await approved(stack)
    attention = await approved(stack)
    await stack.in_state(review, "under_review")
    # A receipt that does not fit (an unknown line) is recorded and raised to staff.
    await stack.handle(attention).signal(names.SIGNAL_WAREHOUSE_RECEIPT, {
        "actor": "warehouse:test", "receipt_id": "scan-l9",
        "items": [{"line_id": "L9", "quantity": 1}]})

    run = await listed(stack, "--state", "under_review", "--show-query", expect={review})
    assert run.out.splitlines()[0] == 'query: ReturnState="under_review" AND ExecutionStatus="Running"'
    row = next(line for line in run.out.splitlines() if line.startswith(review))
    assert "under_review" in row and "staff" in row and "review 20" in row and "fine-jewelry" in row
    assert "500.00 USD" in row and f"O-{review}" in row

    await listed(stack, "--state", "awaiting_shipment", "--waiting-on", "customer",
                 expect={shipping, attention})
    await listed(stack, "--needs-attention", expect={attention})
    run = await listed(stack, "--needs-attention", "--json", expect=set())  # JSON: no table
    rows = [json.loads(line) for line in run.out.splitlines()]
    assert any(r["return_id"] == attention and r["needs_attention"] for r in rows), run.out
    await listed(stack, "--order", f"O-{shipping}", expect={shipping})
    await listed(stack, "--merchant", "fine-jewelry", "--state", "under_review",
                 "--state", "awaiting_shipment", expect={review, shipping, attention})
    await listed(stack, "--merchant", "opalook", expect=set())
    # Nothing is overdue now; at the turn of the century every deadline is.
    await listed(stack, "--overdue", "review", expect=set())
    await listed(stack, "--overdue", "review", "--as-of", "2100-01-01", expect={review})
    run = await listed(stack, "--overdue", "ship_by", "--as-of", "2100-01-01T00:00:00Z",
                       "--show-query", expect={shipping, attention})
    assert 'NextDeadlineKind="ship_by" AND NextDeadline < "2100-01-01T00:00:00Z"' in run.out


# ---------------------------------------------------------------------------------------- show
async def test_show_prints_state_deadlines_items_amounts_and_audit(stack: Stack) -> None:
    return_id = await approved(stack)
    for ref in (return_id, f"RMA-{return_id}", stack.workflow_id(return_id)):
        run = await returns(stack, "show", ref)
        assert run.code == 0, run.err
        text = run.out
        assert text.startswith(f"Return {return_id} · awaiting shipment"), text
        assert "Waiting on: customer" in text
        assert re.search(r"customer ship-by\s+\w{3} \d\d \w{3} 20\d\d \d\d:\d\d UTC\s+in \d+d", text), text
        assert re.search(r"L1\s+RING-1\s+Gold ring\s+1\s+refund\s+200.00 USD\s+0", text), text
        assert re.search(r"L2\s+EAR-2\s+Pearl earrings\s+2\s+refund\s+300.00 USD\s+0", text), text
        assert "Refund total 500.00 USD" in text
        assert f"Label: RMA-{return_id} (barcode RMA-{return_id})" in text
        assert "What you can do: signal warehouse_receipt" in text
        assert re.search(r"sam\s+approved", text), text
    as_json = json.loads((await returns(stack, "show", return_id, "--json")).out)
    assert as_json["state"] == "awaiting_shipment" and as_json["label"]["barcode_value"] == f"RMA-{return_id}"


# ---------------------------------------------------------------------------- warehouse flow
async def test_scanner_receipt_then_inspection_ends_refunded(stack: Stack) -> None:
    return_id = await approved(stack)
    barcode = f"RMA-{return_id}"  # what the label's Code128 barcode holds

    # Part of the parcel: the barcode as an argument, one line, a condition.
    run = await returns(stack, "receive", barcode, "--item", "L1=1", "--condition", "box dented",
                        RETURNS_ACTOR="warehouse:anna")
    assert run.code == 0, run.err
    assert run.out.startswith(f"received for return {return_id}: L1 x1 (box dented)"), run.out
    # The rest: the scanner types the barcode and Enter on stdin.
    run = await returns(stack, "receive", "--all", stdin=barcode + "\n",
                        RETURNS_ACTOR="warehouse:anna")
    assert run.code == 0, run.err
    assert f"received for return {return_id}: L2 x2" in run.out
    status = await stack.in_state(return_id, "inspecting")
    assert [(i.line_id, i.quantity_received, i.condition_notes) for i in status.items] == [
        ("L1", 1, ["box dented"]), ("L2", 2, [])]
    assert [(a.actor, a.detail) for a in status.audit if a.action == "received"] == [
        ("warehouse:anna", "L1 x1"), ("warehouse:anna", "L2 x2")]

    # Nothing is left to receive: said, and nothing is sent.
    run = await returns(stack, "receive", barcode, "--all", RETURNS_ACTOR="warehouse:anna")
    assert run.code == 1
    assert "everything expected is received already" in run.error_line

    run = await returns(stack, "inspect", return_id, "--pass", "L1", "--pass", "L2",
                        "--confirmed", "L1", "--confirmed", "L2",  # the policy's checks
                        "--notes", "L2=as described", "--actor", "ines")
    assert run.code == 0, run.err
    assert run.out.startswith("record_inspection: inspection recorded"), run.out
    final = await asyncio.wait_for(stack.handle(return_id).result(), STEP_TIMEOUT)
    assert final.state == "refunded" and final.refund.status == "succeeded", final.audit
    assert final.refund.amount == 50000
    assert [i.inspection_notes for i in final.items] == [None, "as described"]
    assert any(a.actor == "ines" and a.action == "inspection recorded" for a in final.audit)


class Terminal:
    """The CLI on a pseudo-terminal, as a person at the packing station sees it."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                        start_new_session=True, close_fds=True)
        os.close(slave)
        self.screen = ""

    def _read_until(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"waited {timeout:.0f}s for {text!r}; the terminal shows:\n"
                                     f"{self.screen}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if ready:
                try:
                    self.screen += os.read(self.master, 4096).decode(errors="replace")
                except OSError:  # the process has exited and the terminal is gone
                    raise AssertionError(f"the CLI ended before {text!r}:\n{self.screen}") from None

    async def expect(self, text: str, timeout: float = STEP_TIMEOUT) -> None:
        # In a thread: the worker shares this event loop and must keep answering the CLI.
        await asyncio.to_thread(self._read_until, text, timeout)

    def type(self, answer: str) -> None:
        os.write(self.master, answer.encode() + b"\r")

    async def finish(self) -> int:
        code = await asyncio.to_thread(self.process.wait, STEP_TIMEOUT)
        try:
            while True:
                ready, _, _ = select.select([self.master], [], [], 0.1)
                if not ready:
                    break
                self.screen += os.read(self.master, 4096).decode(errors="replace")
        except OSError:
            pass
        os.close(self.master)
        return code


async def test_receive_asks_line_by_line_in_a_terminal(stack: Stack) -> None:
    return_id = await approved(stack)
    term = Terminal([str(RETURNS), "receive"], stack.cli_env(RETURNS_ACTOR="warehouse:bo"))
    try:
        await term.expect("Scan the label or type the return id: ")
        term.type(f"RMA-{return_id}")
        await term.expect("how many arrived? [1] ")  # L1 Gold ring: 1 expected
        assert f"Return {return_id} · awaiting shipment" in term.screen
        assert "L1  Gold ring (RING-1): expected 1, received so far 0" in term.screen
        term.type("")  # Enter: the expected quantity
        await term.expect("condition (Enter if as expected): ")
        term.type("tag missing")
        await term.expect("L2  Pearl earrings (EAR-2): expected 2, received so far 0")
        await term.expect("how many arrived? [2] ")
        term.type("one")  # a typo is asked again
        await term.expect("a whole number from 0, please")
        term.type("1")
        await term.expect("condition (Enter if as expected): ")
        term.type("")
        await term.expect("Record L1 x1, L2 x1 as received by warehouse:bo? [Y/n] ")
        term.type("y")
        await term.expect(f"received for return {return_id}: L1 x1 (tag missing), L2 x1")
        assert await term.finish() == 0, term.screen
    finally:
        if term.process.poll() is None:
            term.process.kill()
    status = await stack.status(return_id)
    assert [(i.line_id, i.quantity_received, i.condition_notes) for i in status.items] == [
        ("L1", 1, ["tag missing"]), ("L2", 1, [])]
    assert status.state.value in ("received", "inspecting")  # partial receipt: on to inspection


# ---------------------------------------------------------------------------- review actions
async def test_approve_and_reject_with_the_actor_of_the_environment(stack: Stack) -> None:
    to_approve = await stack.start_return()
    to_reject = await stack.start_return()
    await stack.in_state(to_approve, "under_review")
    await stack.in_state(to_reject, "under_review")

    run = await returns(stack, "approve", to_approve, "--note", "thanks for the photos",
                        RETURNS_ACTOR="sam")
    assert run.code == 0, run.err
    # The update's answer, as the workflow words it, and the state it left the return in.
    assert re.fullmatch(rf"approve: approved\b.*\(return {to_approve} is now \w+\)\n", run.out), run.out
    # No --actor, no RETURNS_ACTOR: the login name.
    run = await returns(stack, "reject", f"RMA-{to_reject}", "--reason", "worn: scratches on the band",
                        LOGNAME="pat", USER="pat")
    assert run.code == 0, run.err
    assert f"return {to_reject} is now rejected" in run.out
    final = await asyncio.wait_for(stack.handle(to_reject).result(), STEP_TIMEOUT)
    assert final.state == "rejected"
    assert any(a.actor == "pat" and a.action == "rejected" and "scratches" in a.detail
               for a in final.audit), final.audit
    approved_status = await stack.status(to_approve)
    assert any(a.actor == "sam" and a.detail == "thanks for the photos" for a in approved_status.audit)

    # The rejected return has finished: nothing more can be recorded on it.
    run = await returns(stack, "approve", to_reject, "--actor", "sam")
    assert run.code == 1
    assert run.error_line == f"returns: return {to_reject} is finished (rejected); nothing more can be recorded"


async def test_acknowledge_clears_what_needs_attention_once(stack: Stack) -> None:
    """A receipt before the approval is refused and raised to staff; `returns acknowledge` with a
    note clears it (the audit keeps who and how), and a second one is refused in one line."""
    ret = await stack.start_return()
    await stack.in_state(ret, "under_review")
    await stack.handle(ret).signal(names.SIGNAL_WAREHOUSE_RECEIPT, {
        "actor": "warehouse:anna", "receipt_id": "scan-early",
        "items": [{"line_id": "L1", "quantity": 1}]})

    async def raised():
        current = await stack.status(ret)
        return current if current.needs_attention else None

    await stack.wait_for(f"return {ret} needs attention", raised)
    run = await returns(stack, "acknowledge", ret, "--note", "parcel put back on the shelf",
                        "--actor", "sam")
    assert run.code == 0, run.err
    assert run.out == f"acknowledge: attention cleared (return {ret} is now under_review)\n"
    status = await stack.status(ret)
    assert not status.needs_attention
    assert (status.audit[-1].actor, status.audit[-1].action) == ("sam", "attention acknowledged")
    run = await returns(stack, "acknowledge", ret, "--note", "again", "--actor", "sam")
    assert run.code == 1
    assert run.error_line == "returns: acknowledge refused: nothing needs attention on this return"


# ---------------------------------------------------------------------------- carrier barcodes
async def test_a_carrier_label_barcode_finds_its_return(stack: Stack) -> None:
    """A carrier's label carries the tracking code, not RMA-<id>: the CLI finds the return by
    its `LabelBarcode` search attribute (here set when the return starts)."""
    tracking = "9400" + uuid.uuid4().hex[:18].upper()
    return_id = await stack.start_return(label_barcode=tracking)
    await stack.in_state(return_id, "under_review")
    await stack.listed(f'LabelBarcode="{tracking}"', {return_id})

    run = await returns(stack, "show", tracking)
    assert run.code == 0, run.err
    assert return_id in run.out and "under review" in run.out.replace("_", " ")
    run = await returns(stack, "receive", "--item", "L1=1", stdin=f"{tracking}\n")  # a scanner
    assert (run.code, run.error_line) == (1, (
        f"returns: not recorded for return {return_id}: the return is under_review; receipts are "
        "recorded from the approval until the inspection is recorded (--force sends it anyway "
        "and alerts staff)"))
    run = await returns(stack, "approve", tracking, "--actor", "sam")
    assert run.code == 0, run.err
    assert run.out.startswith("approve: approved") and f"(return {return_id} is now" in run.out

    # No label has it: one line.
    unknown = "9400" + uuid.uuid4().hex[:18].upper()
    run = await returns(stack, "show", unknown)
    assert (run.code, run.error_line, run.out) == (
        1, f"returns: no return or label barcode {unknown}", "")

    # Two returns with the same barcode (a carrier reusing a code): both named, nothing done.
    shared = "1Z" + uuid.uuid4().hex[:16].upper()
    first = await stack.start_return(label_barcode=shared)
    second = await stack.start_return(label_barcode=shared)
    await stack.listed(f'LabelBarcode="{shared}"', {first, second})
    run = await returns(stack, "approve", shared, "--actor", "sam")
    both = ", ".join(sorted([first, second]))
    assert (run.code, run.error_line, run.out) == (
        1, f"returns: the label barcode {shared} is on 2 returns: {both}; give the return id "
           "instead", "")
    for one in (first, second):
        assert (await stack.in_state(one, "under_review")).state.value == "under_review"


# ---------------------------------------------------------------------------- two merchants
async def test_the_same_return_id_at_two_merchants_asks_for_merchant(stack: Stack) -> None:
    """Returns are per merchant: `R…` at fine-jewelry and at opalook are two returns. The CLI
    finds both (search attributes, workflow ids) and acts on neither until --merchant says which."""
    shared = f"R{uuid.uuid4().hex[:8].upper()}"
    await stack.start_return(two_line_request(shared))
    await stack.start_return(return_requested("opalook", return_id=shared))
    handles = {m: stack.client.get_workflow_handle(workflow_id_for(m, shared),
                                                   result_type=ReturnStatus)
               for m in ("fine-jewelry", "opalook")}

    async def state(merchant: str) -> str:
        return (await handles[merchant].query(names.QUERY_STATUS, result_type=ReturnStatus)).state

    await stack.wait_for("both under review", lambda: _both_under_review(state))
    for args in (["show", shared], ["approve", shared, "--actor", "sam"],
                 ["show", f"RMA-{shared}"]):
        run = await returns(stack, *args)
        assert (run.code, run.err.strip()) == (
            1, f"returns: return {shared} exists at 2 merchants (fine-jewelry, opalook): give "
               "--merchant"), args
    run = await returns(stack, "show", shared, "--merchant", "opalook")
    assert run.code == 0 and "Merchant opalook · order" in run.out, run.out
    run = await returns(stack, "show", workflow_id_for("opalook", shared))
    assert run.code == 0 and run.out.startswith(f"Return {shared}"), run.err

    run = await returns(stack, "approve", shared, "--merchant", "fine-jewelry", "--actor", "sam")
    assert run.code == 0, run.err
    assert await state("fine-jewelry") != "under_review"
    assert await state("opalook") == "under_review"  # the other merchant's return is untouched
    run = await returns(stack, "show", shared, "--merchant", "no-such-shop")
    assert (run.code, run.err.strip()) == (
        1, f"returns: no return or label barcode {shared} at merchant no-such-shop")


async def _both_under_review(state) -> bool:
    return all([await state(m) == "under_review" for m in ("fine-jewelry", "opalook")])


# ---------------------------------------------------------------------------- errors
async def test_every_error_is_one_readable_line(stack: Stack) -> None:
    review = await stack.start_return()
    await stack.in_state(review, "under_review")
    cases = [
        # unknown return
        (["show", "R1"], 1, "returns: no return or label barcode R1"),
        (["show", "return-fine-jewelry-R1"], 1, "returns: no return return-fine-jewelry-R1"),
        (["receive", "RMA-R1", "--item", "L1=1"], 1, "returns: no return R1"),
        (["approve", "R1", "--actor", "sam"], 1, "returns: no return or label barcode R1"),
        # the validators' messages
        (["inspect", review, "--pass", "L1", "--actor", "ines"], 1,
         "returns: record_inspection refused: cannot record the inspection: the return is "
         "under_review, not inspecting"),
        # the payload models' messages, before anything is sent
        (["reject", review, "--reason", "no", "--actor", "sam"], 1,
         "returns: invalid rejection: reason: String should have at least 3 characters"),
        (["approve", review, "--actor", "s"], 1,
         "returns: invalid approval: actor: String should have at least 2 characters"),
        # receipts that do not fit the return
        (["receive", review, "--item", "L1=1"], 1,
         f"returns: not recorded for return {review}: the return is under_review; receipts are "
         "recorded from the approval until the inspection is recorded (--force sends it anyway "
         "and alerts staff)"),
        (["receive", review], 2, "returns: no items: give --item LINE=QUANTITY (repeatable) or "
                                 "--all; in a terminal you are asked line by line"),
        (["receive", review, "--item", "L1=x"], 1, "returns: --item: quantity 'x' is not a whole number"),
        (["receive", "RMA- 1", "--all"], 1,
         "returns: 'RMA- 1' is not a return id or a label barcode (RMA-<return id> or the "
         "carrier's tracking code)"),
        # usage
        (["reject", review], 2, "returns reject: the following arguments are required: --reason "
                                "(see returns reject --help)"),
        (["list", "--overdue", "shipping"], 2, "returns: --overdue: unknown deadline 'shipping' "
                                               "(deadlines: review, ship_by, inspection, refund, reshipment)"),
        (["list", "--as-of", "tomorrow"], 1, "returns: --as-of: 'tomorrow' is not an ISO 8601 date or time"),
        (["frobnicate"], 2, re.compile(r"returns: argument COMMAND: invalid choice: 'frobnicate' "
                                       r"\(choose from .*list.*\) \(see returns --help\)")),
    ]
    for args, code, line in cases:
        run = await returns(stack, *args)
        assert run.code == code, (args, run)
        if isinstance(line, re.Pattern):
            assert line.fullmatch(run.error_line), (args, run)
        else:
            assert run.error_line == line, (args, run)
        assert run.out == "", (args, run.out)

    shipping = await approved(stack)
    run = await returns(stack, "receive", shipping, "--item", "L9=1", "--item", "L2=3")
    assert (run.code, run.error_line) == (1, (
        f"returns: not recorded for return {shipping}: line 'L9' is not part of this return "
        "(expected: L1, L2); line L2: 3 received but only 2 are being returned (--force sends it "
        "anyway and alerts staff)"))
    # --force sends it: the workflow refuses it too, records why and alerts staff.
    run = await returns(stack, "receive", shipping, "--item", "L9=1", "--force", "--actor", "wh")
    assert (run.code, run.error_line) == (1, (
        f"returns: receipt refused for return {shipping}: line 'L9' is not part of this return "
        "(expected: L1, L2) (staff are alerted)"))
    status = await stack.status(shipping)
    assert status.needs_attention and status.state.value == "awaiting_shipment"

    # No server: said in one line, quickly.
    run = await returns(stack, "list", TEMPORAL_ADDRESS="127.0.0.1:1")
    assert (run.code, run.error_line) == (
        1, "returns: cannot connect to Temporal at 127.0.0.1:1: Connection refused")
    # Another key than the one the returns were encrypted with: said, not a traceback.
    run = await returns(stack, "show", review, RETURNS_CODEC_KEYS="",
                        RETURNS_DATA_DIR=str(stack.data_dir / "elsewhere"))
    assert run.code == 1
    assert run.error_line.startswith(f"returns: cannot decrypt return {review}: "), run.err
    assert "RETURNS_CODEC_KEYS" in run.error_line
    description = await stack.handle(review).describe()
    assert description.status == WorkflowExecutionStatus.RUNNING


# ---------------------------------------------------------------------------- the docs' queries
DOCS = ROOT / "docs" / "operating-in-the-ui.md"
_ROW = re.compile(r"^\| (?P<what>[^|]+) \| `(?P<query>[^`]+)` \| \[open\]\((?P<url>[^)]+)\) \| "
                  r"(?:`(?P<command>[^`]+)`|—) \|$")
_TIME = re.compile(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"')


async def test_the_documented_queries_run_and_match_their_links_and_commands(stack: Stack) -> None:
    """docs/operating-in-the-ui.md: each list query is accepted by the server, its link opens
    that query, and its `returns list` command builds the same query."""
    rows = [m for m in map(_ROW.match, DOCS.read_text().splitlines()) if m]
    assert len(rows) >= 12, "the docs' query table is gone or changed format"
    parser = build_parser()
    for row in rows:
        query = row["query"]
        assert row["url"] == ui_url("http://127.0.0.1:8233", "default", query), row["what"]
        async for _ in stack.client.list_workflows(query, limit=1):  # the server parses it
            break
        command = row["command"]
        if command and command.startswith("returns list "):
            built = list_query(parser.parse_args(shlex.split(command)[1:]))
            assert _TIME.sub('"T"', built) == _TIME.sub('"T"', query), (row["what"], built)
    # README.md's daily lists (tests/ops/test_readme.py checks them against `returns list`).
    readme = re.findall(r"^\| [^|]+ \| `([^`]+)` \| `returns list [^`]+` \|$",
                        (ROOT / "README.md").read_text(), re.MULTILINE)
    assert len(readme) >= 8, "README's daily lists are gone or changed format"
    for query in readme:
        async for _ in stack.client.list_workflows(query, limit=1):
            break
