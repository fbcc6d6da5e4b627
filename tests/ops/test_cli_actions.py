"""The `returns` command does everything the staff forms do (issue 17 point 6), run as a subprocess
against a real dev server and a real worker, on the demo's returns as `make run` sends them
(demo/generate.py: lines `1`, `2`): approving with overrides, asking the customer, confirming a
pearl's inspection checks so a CLI-only warehouse finishes a pearl return, a failed inspection
shipped back with the customer's payment and shown without a refund (point 5), extending,
cancelling, the refund actions' refusals, the list ordered by what is due first, and output
piped into a reader that goes away."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_asyncio

from returns.events import ReturnRequested
from tests.ops.stack import STEP_TIMEOUT, Stack, running_stack
from tests.ops.test_cli import RETURNS, Run, returns

pytestmark = pytest.mark.e2e

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "demo"))
from generate import demo_events  # noqa: E402


@pytest_asyncio.fixture(scope="module")
async def stack(tmp_path_factory, temporal_cli_path: Path):
    if not RETURNS.exists():
        pytest.fail(f"{RETURNS} is missing: run `make venv`", pytrace=False)
    async with running_stack(tmp_path_factory.mktemp("cli-actions"), temporal_cli_path) as running:
        yield running


def demo(return_id_prefix: str, number: int) -> ReturnRequested:
    """Today's demo return `<prefix>-<yymmdd>-<number>`, as `make run` sends it."""
    suffix = f"-{number:02d}"
    event = next(e for e in demo_events() if e["type"] == "return.requested"
                 and e["return_id"].startswith(return_id_prefix) and e["return_id"].endswith(suffix))
    return ReturnRequested.model_validate(event)


async def ok(stack: Stack, *args: str) -> Run:
    run = await returns(stack, *args)
    assert run.code == 0, (args, run)
    return run


async def refused(stack: Stack, *args: str, code: int = 1) -> str:
    run = await returns(stack, *args)
    assert run.code == code, (args, run)
    assert run.out == "", run.out
    return run.error_line


async def test_a_cli_only_warehouse_finishes_a_pearl_return_by_confirming_its_checks(
        stack: Stack) -> None:
    request = demo("PRL", 1)  # Akoya strand with its certificate: 003 §II.3 and §IV.2 checks
    rid = await stack.start_return(request)
    await stack.in_state(rid, "under_review")
    await ok(stack, "approve", rid, "--actor", "sam")
    await stack.in_state(rid, "awaiting_shipment")
    await ok(stack, "receive", f"RMA-{rid}", "--all", "--actor", "warehouse:anna")
    await stack.in_state(rid, "inspecting")

    # The card lists the checks; a pass without them is refused by the workflow's validator.
    show = (await ok(stack, "show", rid)).out
    assert "Refund total 680.00 EUR once the items pass inspection" in show, show
    assert "with this command: returns receive, returns inspect, returns extend" in show, show
    line = await refused(stack, "inspect", rid, "--pass", "1", "--actor", "ines")
    assert line.startswith("returns: record_inspection refused: "), line
    assert "checks_confirmed" in line, line
    # One check of two named: said before anything is sent, with what to do.
    line = await refused(stack, "inspect", rid, "--pass", "1", "--check", "1=1", "--actor", "ines")
    assert line.startswith("returns: --check: line 1 passes only with every check confirmed; "
                           "not confirmed: 2: 003 §IV.2: "), line
    assert "(--check 1=2, or --fail 1 --failed-check 1=2)" in line
    assert (await refused(stack, "inspect", rid, "--pass", "1", "--check", "1=3")).endswith(
        "line 1 has checks 1 to 2, not 3")

    run = await ok(stack, "inspect", rid, "--pass", "1", "--check", "1=1", "--check", "1=2",
                   "--notes", "certificate AK-2291-7 matches", "--actor", "ines")
    assert run.out.startswith("record_inspection: inspection recorded"), run.out
    final = await asyncio.wait_for(stack.handle(rid).result(), STEP_TIMEOUT)
    assert final.state == "refunded" and final.refund.paid == 68000, final.audit
    assert "Refunded 680.00 EUR" in (await ok(stack, "show", rid)).out


async def test_a_failed_inspection_ships_back_paid_and_shows_no_refund(stack: Stack) -> None:
    """The issue's example: opalook's demo return 04 (207.50 EUR proposed) fails inspection."""
    rid = await stack.start_return(demo("OPL", 4))
    await stack.in_state(rid, "under_review")
    await ok(stack, "approve", rid, "--actor", "sam")
    await stack.in_state(rid, "awaiting_shipment")
    await ok(stack, "receive", rid, "--item", "1=1", "--actor", "warehouse:anna")
    await stack.in_state(rid, "inspecting")
    await ok(stack, "inspect", rid, "--fail", "1", "--failed-check", "1=1",
             "--notes", "clasp forced", "--actor", "ines")
    status = await stack.in_state(rid, "returning_to_customer")
    show = (await ok(stack, "show", rid)).out
    assert "207.50" not in show, show
    assert "No refund: the inspection failed" in show and "no refund (inspection failed)" in show

    if status.customer_owes:  # shipping the failed item back is the customer's (000 policy)
        line = await refused(stack, "ship", rid, "--carrier", "UPS", "--tracking", "1Z999AA1",
                             "--actor", "sam")
        assert "customer_payment" in line, line
        assert (await refused(stack, "ship", rid, "--carrier", "UPS", "--tracking", "1Z999AA1",
                              "--paid", "PAY-1=12.345", "--actor", "sam")) == (
            "returns: --paid: '12.345' has more than 2 decimal(s) for EUR")
    run = await ok(stack, "ship", rid, "--carrier", "UPS", "--tracking", "1Z999AA10123456784",
                   "--paid", "PAY-4411=12.00", "--actor", "sam")
    assert run.out.startswith("ship_to_customer: shipment recorded"), run.out
    final = await asyncio.wait_for(stack.handle(rid).result(), STEP_TIMEOUT)
    assert final.state == "closed" and final.refund is None
    shipped = next(a for a in final.audit if a.action == "shipped to customer")
    assert "UPS 1Z999AA10123456784" in shipped.detail and shipped.actor == "sam"
    if status.customer_owes:
        assert "customer paid 12.00 EUR, ref PAY-4411" in shipped.detail
    # The customer's closing email (French) tells no refund either.
    import email.header
    import mailbox

    def subject(message) -> str:
        return str(email.header.make_header(email.header.decode_header(message["Subject"])))

    closing = [m for m in mailbox.Maildir(stack.data_dir / "outbox", create=False)
               if f"votre retour {rid} est termin" in subject(m)]
    assert len(closing) == 1, [subject(m) for m in mailbox.Maildir(stack.data_dir / "outbox")]
    text = "".join(part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
                   for part in closing[0].walk() if part.get_content_type() == "text/plain")
    assert "Remboursé" not in text and "207,50" not in text and "207.50" not in text, text
    # The list's refund column follows the outcome too (RefundAmount 0): "none", not 207.50.
    async def row():
        out = (await ok(stack, "list", "--order", final.order_id, "--all")).out
        found = next((ln for ln in out.splitlines() if ln.startswith(rid)), "")
        return found if "closed" in found else None
    listed = await stack.wait_for("the closed return in the list", row)
    assert "207.50" not in listed and " none " in listed, listed


async def test_approve_with_overrides_as_the_form_does(stack: Stack) -> None:
    """fine-jewelry's demo return 04: line 2 carries a 30 % restocking fee (004 §4.1)."""
    rid = await stack.start_return(demo("FJ", 4))
    await stack.in_state(rid, "under_review")
    assert (await refused(stack, "approve", rid, "--waive-fees", "2", "--actor", "sam", code=2)) == (
        "returns: line 2: an override needs --reason (why, kept in the audit trail)")
    assert (await refused(stack, "approve", rid, "--resolution", "2=swap", "--reason", "x y z",
                          "--actor", "sam")).startswith("returns: invalid override: resolution: ")
    line = await refused(stack, "approve", rid, "--waive-fees", "9", "--reason", "loyal customer",
                         "--actor", "sam")
    assert line.startswith("returns: approve refused: ") and "9" in line, line
    await ok(stack, "request-info", rid, "--question", "Please send a photo of the tag",
             "--actor", "sam")
    run = await ok(stack, "approve", rid, "--waive-fees", "2", "--reason", "2=loyal customer",
                   "--note", "thanks", "--actor", "sam")
    assert run.out.startswith("approve: "), run.out
    status = await stack.in_state(rid, "awaiting_shipment")
    line2 = next(i for i in status.items if i.line_id == "2")
    assert line2.fees and all(f.waived for f in line2.fees), line2.fees
    assert any(a.action == "override" and "loyal customer" in a.detail for a in status.audit)
    assert any("Please send a photo of the tag" in a.detail for a in status.audit)


async def test_extend_cancel_and_the_refund_actions(stack: Stack) -> None:
    rid = await stack.start_return(demo("OPL", 1))
    await stack.in_state(rid, "under_review")
    before = next(d for d in (await stack.status(rid)).deadlines if d.kind == "review").due_at
    run = await ok(stack, "extend", rid, "--deadline", "review", "--days", "2",
                   "--reason", "waiting for the carrier's report", "--actor", "sam")
    assert run.out.startswith("extend_deadline: "), run.out
    after = next(d for d in (await stack.status(rid)).deadlines if d.kind == "review").due_at
    assert after > before
    line = await refused(stack, "extend", rid, "--deadline", "ship_by", "--days", "2",
                         "--reason", "strike", "--actor", "sam")
    assert line == "returns: extend_deadline refused: deadline: ship_by is not running (running: review)"
    # The refund actions exist for a failed refund only; the validator says so.
    line = await refused(stack, "retry-refund", rid, "--actor", "sam")
    assert line.startswith("returns: retry_refund refused: cannot retry the refund: the refund is "
                           "not started"), line
    assert (await refused(stack, "record-refund", rid, "--amount", "abc", "--reference", "BANK-1",
                          "--actor", "sam")) == (
        "returns: --amount: 'abc' is not an amount like 12.50 (in EUR)")
    assert (await refused(stack, "record-refund", rid, "--amount", "12.00 USD", "--reference",
                          "BANK-1", "--actor", "sam")) == (
        "returns: --amount: '12.00 USD' is not in the return's currency EUR")
    line = await refused(stack, "record-refund", rid, "--amount", "148.34", "--reference",
                         "BANK-1", "--actor", "sam")
    assert line.startswith("returns: record_manual_refund refused: cannot record a manual refund"), line
    run = await ok(stack, "cancel", rid, "--reason", "duplicate request", "--actor", "sam")
    assert run.out.startswith("cancel: "), run.out
    final = await asyncio.wait_for(stack.handle(rid).result(), STEP_TIMEOUT)
    assert final.state == "cancelled"
    assert "No refund: cancelled" in (await ok(stack, "show", rid)).out


async def test_the_list_puts_work_without_a_deadline_above_finished_returns(stack: Stack) -> None:
    """A return shipped back to the customer waits on staff with no deadline running; it used to
    sort after every finished return."""
    merchant_returns = {}
    for number in (2, 3):  # opalook 02 (an exchange) and 03 (nothing eligible: under review)
        merchant_returns[number] = await stack.start_return(demo("OPL", number))
    for rid in merchant_returns.values():
        await stack.in_state(rid, "under_review")
    open_no_deadline = await stack.start_return(demo("PRL", 2))
    await stack.in_state(open_no_deadline, "under_review")
    await ok(stack, "approve", open_no_deadline, "--actor", "sam")
    await ok(stack, "receive", open_no_deadline, "--all", "--actor", "warehouse:anna")
    await stack.in_state(open_no_deadline, "inspecting")
    await ok(stack, "inspect", open_no_deadline, "--fail", "1", "--actor", "ines")
    await stack.in_state(open_no_deadline, "returning_to_customer")
    finished = merchant_returns[3]
    await ok(stack, "reject", finished, "--reason", "nothing is eligible", "--actor", "sam")
    await asyncio.wait_for(stack.handle(finished).result(), STEP_TIMEOUT)
    due = merchant_returns[2]

    wanted = [due, open_no_deadline, finished]

    async def order():
        out = (await ok(stack, "list", "--all")).out
        rows = [ln.split()[0] for ln in out.splitlines()[1:] if ln.split()]
        shown = [r for r in rows if r in wanted]
        return (out, shown) if shown == wanted else None

    out, _ = await stack.wait_for(f"the list in the order {wanted}", order)
    header = out.splitlines()[0].split()
    assert header[:3] == ["RETURN", "MERCHANT", "STATE"] and "ATTENTION" in header, header


async def test_output_into_a_pipe_whose_reader_left_ends_quietly(stack: Stack) -> None:
    """`returns show R | head`: the reader is gone before the output is written. The command
    ends with status 0 and nothing on stderr, instead of blaming Temporal."""
    rid = await stack.start_return(demo("PRL", 4))
    await stack.in_state(rid, "under_review")
    for args in (["show", rid], ["list", "--all"], ["show", rid, "--json"]):
        read, write = os.pipe()
        os.close(read)  # the reader has gone: every write fails with EPIPE
        try:
            done = await asyncio.to_thread(
                subprocess.run, [str(RETURNS), *args], stdout=write, stderr=subprocess.PIPE,
                env=stack.cli_env(), timeout=STEP_TIMEOUT)
        finally:
            os.close(write)
        assert (done.returncode, done.stderr.decode()) == (0, ""), args
    # And with a real `head`, through a shell.
    done = await asyncio.to_thread(
        subprocess.run, ["bash", "-c", f"set -o pipefail; '{RETURNS}' show {rid} | head -1"],
        capture_output=True, env=stack.cli_env(), timeout=STEP_TIMEOUT)
    assert done.returncode == 0 and done.stderr == b"", done
    assert re.match(rf"Return {rid} · under review", done.stdout.decode())


async def test_the_status_card_links_to_the_return_in_the_staff_console(stack: Stack) -> None:
    """Ingestion gives the console's base URL (Settings.console_url, RETURNS_CONSOLE_URL) to the
    return at its start (memo), so the card the Temporal UI shows links to the console's page;
    a return started without it has no link. The console itself is another package: only the
    link is checked here."""
    from temporalio.api.sdk.v1 import WorkflowMetadata

    from ingestion.intake import Intake, Outcome as Delivered
    from runtime.settings import Settings

    assert Settings.from_env({}).console_url == "http://127.0.0.1:8083"
    assert Settings.from_env({"RETURNS_CONSOLE_URL": ""}).console_url is None

    async def card(rid: str) -> str:
        async def read():
            meta = await stack.handle(rid).query("__temporal_workflow_metadata",
                                                 result_type=WorkflowMetadata)
            return meta.current_details if "under review" in meta.current_details else None
        return await stack.wait_for(f"the status card of {rid}", read)

    linked = demo("FJ", 3).model_copy(update={"return_id": "FJ-LINKED-01",
                                              "event_id": "evt-fj-linked-01"})
    intake = Intake(stack.client, task_queue=stack.task_queue, known_merchant=lambda m: True,
                    console_url="https://console.example.test/")
    assert (await intake.deliver(linked)).outcome == Delivered.started
    stack.started.append(linked.return_id)
    stack.merchants[linked.return_id] = linked.merchant_id
    assert ("[Open in the staff console](https://console.example.test/returns/"
            "return-fine-jewelry-FJ-LINKED-01)") in await card(linked.return_id)

    plain = await stack.start_return(demo("PRL", 3))  # the stack's Intake: no console URL
    assert "returns console" not in await card(plain)


async def test_a_refused_refund_is_retried_then_recorded_from_the_command_line(stack: Stack) -> None:
    """The payment provider refuses (the support desk already refunded the payment by hand, so
    the embedded ledger has nothing left to refund): `returns show` says what to do, `retry-refund`
    tries again, `record-refund` records the manual refund, typed as the card prints it."""
    from activities.contracts import RefundRequest
    from activities.ledger import SqliteLedger
    from runtime.settings import Settings

    base = demo("OPL", 4)  # a copy on its own order: 207.50 EUR after inspection
    order = base.order.model_copy(update={
        "order_id": "OPL-ORD-REFUSED-04",
        "payments": [p.model_copy(update={"payment_id": "pay-refused-04"})
                     for p in base.order.payments]})
    request = base.model_copy(update={"return_id": "OPL-REFUSED-04", "order": order,
                                      "event_id": "evt-opl-refused-04"})
    payment = order.payments[0]
    ledger = SqliteLedger(Settings.from_env({"RETURNS_DATA_DIR": str(stack.data_dir)}).ledger_path)
    await ledger.refund(RefundRequest(
        idempotency_key="support-desk-refused-04", return_id="other", order_id=order.order_id,
        currency=order.currency, amount=payment.amount, payments=[payment],
        reason="refunded by the support desk"))

    rid = await stack.start_return(request)
    await stack.in_state(rid, "under_review")
    await ok(stack, "approve", rid, "--actor", "sam")
    await stack.in_state(rid, "awaiting_shipment")
    await ok(stack, "receive", rid, "--all", "--actor", "warehouse:anna")
    await stack.in_state(rid, "inspecting")
    await ok(stack, "inspect", rid, "--pass", "1", "--check", "1", "--actor", "ines")

    async def failed():
        st = await stack.status(rid)
        return st if st.refund and st.refund.status == "failed" else None

    await stack.wait_for("the refund refused", failed)
    show = (await ok(stack, "show", rid)).out
    assert "Refund of 207.50 EUR failed: retry_refund or record_manual_refund" in show, show
    assert "returns retry-refund, returns record-refund" in show, show
    run = await ok(stack, "retry-refund", rid, "--note", "asked the provider", "--actor", "sam")
    assert run.out.startswith("retry_refund: refund retry started"), run.out
    await stack.wait_for("the refund refused again", failed)
    assert (await refused(stack, "record-refund", rid, "--amount", "300", "--reference",
                          "BANK-77", "--actor", "sam")) == (
        "returns: record_manual_refund refused: amount: 30000 is more than the 20750 due "
        "(EUR minor units)")
    run = await ok(stack, "record-refund", rid, "--amount", "207.50 EUR", "--reference",
                   "BANK-77", "--actor", "sam")
    assert run.out.startswith("record_manual_refund: manual refund recorded"), run.out
    final = await asyncio.wait_for(stack.handle(rid).result(), STEP_TIMEOUT)
    assert final.refund.status == "manual" and final.refund.paid == 20750
    assert "Refunded 207.50 EUR, recorded by staff" in (await ok(stack, "show", rid)).out
