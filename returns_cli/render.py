"""Plain text for a terminal: the list of returns and one return's status. Pure (no Temporal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from returns.money import format_money
from returns.receipts import expected_units
from returns.refund_shown import line_words, refund_shown
from returns.status import DEADLINE_LABELS, FINAL, DeadlineKind, ItemStatus, ReturnStatus


# The status card's actions (returns.allowed.Action) and the `returns` subcommand that sends each.
COMMAND_OF = {
    "approve": "approve", "reject": "reject", "request_info": "request-info",
    "warehouse_receipt": "receive", "record_inspection": "inspect", "extend_deadline": "extend",
    "retry_refund": "retry-refund", "record_manual_refund": "record-refund",
    "ship_to_customer": "ship", "cancel": "cancel", "acknowledge": "acknowledge",
}


def when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%a %d %b %Y %H:%M UTC")


def relative(due: datetime, now: datetime) -> str:
    """`in 2d 3h` or `overdue 5h 10m`: how far a deadline is, at a glance."""
    seconds = int((due - now).total_seconds())
    late = seconds < 0
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        span = f"{days}d {hours}h"
    elif hours:
        span = f"{hours}h {minutes}m"
    else:
        span = f"{minutes}m"
    return f"overdue {span}" if late else f"in {span}"


def table(rows: list[list[str]], header: list[str] | None = None) -> str:
    """Columns aligned with two spaces between them."""
    everything = [header, *rows] if header else rows
    widths = [max(len(r[i]) for r in everything) for i in range(len(everything[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in everything)


@dataclass(frozen=True)
class ListedReturn:
    """One row of `returns list`, read from the workflow's search attributes (no query needed)."""

    return_id: str
    state: str
    waiting_on: str
    merchant_id: str
    order_id: str
    next_deadline: datetime | None
    next_deadline_kind: str | None
    refund_amount: int | None
    currency: str | None
    needs_attention: bool
    execution_status: str  # running, completed, terminated, ...
    requested_at: datetime | None = None


def list_rows(returns: list[ListedReturn], now: datetime) -> str:
    if not returns:
        return "no returns match"
    rows = []
    for r in returns:
        deadline = "—"
        if r.next_deadline is not None:
            deadline = (f"{r.next_deadline_kind or '?'} {r.next_deadline:%Y-%m-%d %H:%M}Z "
                        f"({relative(r.next_deadline, now)})")
        # RefundAmount follows the outcome (returns.refund_shown): 0 once nothing is refunded.
        refund = (format_money(r.refund_amount, r.currency)
                  if r.refund_amount and r.currency else "none" if r.refund_amount == 0 else "—")
        state = (r.state if r.execution_status in ("running", "completed")
                 else f"{r.state} ({r.execution_status})")
        rows.append([r.return_id, r.merchant_id, state, r.waiting_on, deadline, refund,
                     "NEEDS ATTENTION" if r.needs_attention else "", r.order_id])
    # What staff decide on first: which return, whose, where it is, who acts, by when, the money,
    # whether a person must look; the order last (the widest, the least read).
    header = ["RETURN", "MERCHANT", "STATE", "WAITING ON", "NEXT DEADLINE", "REFUND", "ATTENTION",
              "ORDER"]
    return table(rows, header) + f"\n{len(returns)} return(s)"


def expected_lines(status: ReturnStatus) -> list[ItemStatus]:
    """Lines the warehouse should receive (returns.receipts decides which)."""
    expected = expected_units(status.items)
    return [i for i in status.items if i.line_id in expected]


def status_text(status: ReturnStatus, now: datetime) -> str:
    cur = status.currency
    out = [f"Return {status.return_id} · {status.state.value.replace('_', ' ')}"
           + (f" · outcome {status.outcome}" if status.outcome else ""),
           f"Merchant {status.merchant_id} · order {status.order_id}"]
    if status.waiting_on:
        out.append(f"Waiting on: {status.waiting_on}")
    if status.needs_attention:
        out.append(f"NEEDS ATTENTION: {status.attention_reason}")

    if status.deadlines:
        out += ["", "Deadlines"]
        rows = []
        for d in sorted(status.deadlines, key=lambda d: d.due_at):
            if d.met:
                mark = "met"
            elif d.breached or (d.due_at < now and status.state not in FINAL):
                mark = relative(d.due_at, now).upper()
            elif status.state in FINAL:
                mark = "—"
            else:
                mark = relative(d.due_at, now)
            rows.append([f"  {DEADLINE_LABELS[DeadlineKind(d.kind)]}", when(d.due_at), mark, d.basis])
            rows += [["", "", "", f"extended {e}"] for e in d.extensions]
        out.append(table(rows))

    if status.items:
        out += ["", "Items"]
        rows = []
        for i in status.items:
            decision = (i.resolution.value.replace("_", " ") if i.eligible and i.resolution
                        else "not eligible")
            rows.append([f"  {i.line_id}", i.sku, i.title, str(i.quantity_requested), decision,
                         line_words(i, status.state, cur), str(i.quantity_received),
                         i.inspection or "—", "; ".join(
                             [*i.condition_notes, *([i.inspection_notes] if i.inspection_notes else [])])])
        out.append(table(rows, ["  LINE", "SKU", "ITEM", "QTY", "DECISION", "REFUND", "RECEIVED",
                                "INSPECTION", "NOTES"]))
        reasons = [(i.line_id, r) for i in status.items for r in i.reasons]
        if reasons:
            out += ["", "Reasons"] + [f"  {line}: {r.clause}: {r.text}" for line, r in reasons]
        fees = [(i.line_id, f) for i in status.items for f in i.fees]
        if fees:
            out += ["", "Fees"] + [
                f"  {line}: {f.kind.value} {format_money(f.amount, cur)}"
                + (f" (waived by {f.waived_by})" if f.waived else "") for line, f in fees]

    shown = refund_shown(status)  # follows the outcome: no refund after a failed inspection
    out += ["", shown.words[:1].upper() + shown.words[1:]
            + (f", fees {format_money(status.fees_total, cur)}" if not shown.final else "")]
    if status.refund:
        r = status.refund
        out.append(f"Refund: {r.status}, {format_money(r.amount, r.currency)}, attempt(s) {r.attempts}"
                   + (f", id {r.refund_id}" if r.refund_id else "")
                   + (f", manual reference {r.manual_reference}" if r.manual_reference else "")
                   + (f", last error: {r.last_error}" if r.last_error and r.status != "succeeded" else ""))
    if status.label:
        out.append(f"Label: {status.label.rma_number} (barcode {status.label.barcode_value})")
    if status.next_actions:
        out += ["", "What you can do: " + ", ".join(status.next_actions)]
        commands = [COMMAND_OF[a.split()[-1] if a.startswith("signal ") else a.split()[0]]
                    for a in status.next_actions
                    if (a.split()[-1] if a.startswith("signal ") else a.split()[0]) in COMMAND_OF]
        if commands:
            out.append("  with this command: " + ", ".join(f"returns {c}" for c in commands))
    if status.audit:
        out += ["", "Audit trail"]
        out.append(table([
            [f"  {a.at.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}", a.actor, a.action, a.detail]
            for a in status.audit]))
    return "\n".join(out)
