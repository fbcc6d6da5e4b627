"""The Markdown status card the Temporal UI shows for each return (workflow current details).

Pure: from a ReturnStatus to text. No PII: ids, states, items, amounts and deadlines only.
"""

from __future__ import annotations


from returns.evidence import describe_size, evidence_url, media_word, uploaded_after_request
from returns.money import format_money
from returns.policy.decision import Party
from returns.refund_shown import line_words, refund_shown
from returns.status import DEADLINE_LABELS, FINAL, ItemStatus, ReturnState, ReturnStatus
from returns.tracking import describe as describe_tracking


_PAYERS = (Party.merchant, Party.customer)
# The staff console's public address (console/, issue 17), for the evidence links. Read once when
# the worker starts, so every card of a run links to the same place.


def _decision(i: ItemStatus) -> str:
    """"refund", "not eligible", and what was asked when it differs: "exchange (asked repair)"."""
    granted = i.resolution.value.replace("_", " ") if i.eligible and i.resolution else "not eligible"
    asked = i.requested_resolution
    if asked is not None and (not i.eligible or asked != i.resolution):
        granted += f" (asked {asked.value.replace('_', ' ')})"
    return granted


def render_status_card(status: ReturnStatus, console_page: str | None = None) -> str:
    """`console_page`: the return's page in the staff console (returns/console_link.py), linked
    under the title; None: no link."""
    cur = status.currency
    lines = [f"## Return {status.return_id} · {status.state.value.replace('_', ' ')}"]
    lines.append(f"Merchant **{status.merchant_id}** · order **{status.order_id}**"
                 + (f" · outcome **{status.outcome}**" if status.outcome else ""))
    if console_page:
        lines.append(f"\n[Open in the staff console]({console_page})")
    if status.needs_attention:
        lines.append(f"\n> **Needs attention:** {status.attention_reason}")
    if status.waiting_on:
        lines.append(f"\nWaiting on: **{status.waiting_on}**")
    # A finished return has no deadline left (a rejected return's review deadline is never "met").
    running = [d for d in status.deadlines if not d.met] if status.state not in FINAL else []
    if running:
        lines.append("\n### Deadlines")
        for d in sorted(running, key=lambda d: d.due_at):
            flag = " — **overdue**" if d.breached else ""
            if d.paused_since is not None:
                flag += (f" — **paused** since {d.paused_since:%a %d %b %H:%M} UTC: waiting for the "
                         f"customer's answer (the date moves by the time it waits)")
            lines.append(f"- {DEADLINE_LABELS[d.kind]}: {d.due_at:%a %d %b %Y %H:%M} UTC "
                         f"({d.basis}){flag}")
    if status.items:
        # The policy's reasons matter for the review; afterwards only a refusal's reasons stay.
        reviewing = status.state in (ReturnState.requested, ReturnState.under_review)
        # A list, not a Markdown table: the Web UI (2.54) renders tables without cell padding.
        lines.append("\n### Items")
        for i in status.items:
            lines.append(f"- **{i.line_id}** {i.title} × {i.quantity_requested} · {_decision(i)} · "
                         f"{line_words(i, status.state, cur)}"
                         + (f" · return paid by {i.return_shipping_paid_by.value}"
                            if i.eligible and i.return_shipping_paid_by in _PAYERS else "")
                         + f" · received {i.quantity_received}"
                         + (f" · inspection **{i.inspection}**" if i.inspection else "")
                         + (f" · missing {', '.join(e.value.replace('_', ' ') for e in i.evidence_missing)}"
                            if reviewing and i.evidence_missing else "")
                         + _uploaded(i, status, reviewing))
        reasons = [(i.line_id, r) for i in status.items for r in i.reasons
                   if reviewing or not i.eligible]
        if reasons:
            # The blank line after the title: the UI's renderer starts a list only after one.
            lines.append("\n**Reasons**\n")
            lines += [f"- {line}: {r.clause}: {r.text}" for line, r in reasons]
        points = [(i.line_id, p) for i in status.items for p in i.staff_review_points] if reviewing else []
        if status.state in (ReturnState.received, ReturnState.inspecting):
            checks = [(i.line_id, n, c) for i in status.items if i.quantity_received
                      for n, c in enumerate(i.inspection_checks, 1)]
            if checks:
                lines.append("\n**The inspection must confirm** (record_inspection with "
                             "checks_confirmed: true, or failed_checks: [numbers] and passed: "
                             "false)\n")
                lines += [f"- {line} check {n}: {c}" for line, n, c in checks]
        if points:
            lines.append("\n**For staff to check**\n")
            lines += [f"- {line}: {p}" for line, p in points]
    # The money follows the outcome (returns/refund_shown.py): no refund after a failed
    # inspection, what was paid once the refund is done.
    shown = refund_shown(status)
    lines.append(f"\n**{shown.words[:1].upper()}{shown.words[1:]}**"
                 + (f", fees {format_money(status.fees_total, cur)}" if not shown.final else ""))
    if status.refund:
        r = status.refund
        lines.append(f"Refund: {r.status}, {format_money(r.amount, r.currency)}"
                     + (f", id {r.refund_id}" if r.refund_id else "")
                     + (f", last error: {r.last_error}" if r.last_error and r.status != "succeeded" else ""))
    if status.evidence:
        lines += _evidence(status, console_page)
    if status.customer_owes:
        lines.append(f"\n**The customer owes** (ship_to_customer needs their payment recorded)\n"
                     f"\n{status.customer_owes}")
        lines.append(_owed_payment(status))
    if status.label:
        lines.append(f"Label: {status.label.rma_number}")
    lines += _customer_section(status)
    if status.next_actions:
        lines.append("\n### What you can do")
        lines += [f"- {a}" for a in status.next_actions]
    return "\n".join(lines)


def _uploaded(item: ItemStatus, status: ReturnStatus, reviewing: bool) -> str:
    """" · **uploaded after the request: photos (2 files)**" for an item flagged for missing
    evidence; the reviewer decides with it (an upload never approves anything)."""
    after = uploaded_after_request(item, status.evidence, status.requested_at) if reviewing else None
    return f" · **{after}**" if after else ""


def _evidence(status: ReturnStatus, console_page: str | None) -> list[str]:
    """The customer's files, each a link to the staff console (staff only; no console address
    given to the return: listed without links)."""
    lines = ["\n### Customer's evidence (staff only)\n"]
    for f in status.evidence:
        what = (f"{f.kind.value.replace('_', ' ')}: {media_word(f.content_type)}, "
                f"{f.content_type}, {describe_size(f.size)}")
        lines.append((f"- [{what}]({evidence_url(console_page, f.sha256)})" if console_page
                      else f"- {what}")
                     + (f" · line {f.line_id}" if f.line_id else "")
                     + f" · {f.uploaded_at:%d %b %Y %H:%M} UTC")
    return lines


def _customer_section(status: ReturnStatus) -> list[str]:
    """What the customer told the return: the open question, their answers, tracking numbers."""
    lines: list[str] = []
    question = status.open_question if status.state == ReturnState.under_review else None
    if question or status.customer_answers:
        lines.append("\n### Customer answers")
        if question:
            lines.append(f"- question {question.number} ({question.asked_by}, "
                         f"{question.asked_at:%d %b %H:%M} UTC): {question.question} — "
                         f"**not answered yet**")
        for a in status.customer_answers:
            lines.append(f"- question {a.question_number}: {a.question}\n"
                         f"  - answer ({a.answered_at:%d %b %H:%M} UTC): {a.answer}")
    if status.tracking:
        lines.append("\n### Tracking numbers")
        lines += [f"- {describe_tracking(n)}, {n.at:%d %b %H:%M} UTC" for n in status.tracking]
    return lines
def _owed_payment(status: ReturnStatus) -> str:
    """How what the customer owes is being collected (returns/collection.py)."""
    p = status.owed_payment
    if p is None:
        return ("\nWhere the policy leaves an amount to staff, `request_customer_payment` "
                "{actor, amount} quotes it; where the merchant collects through Stripe the "
                "customer gets a payment page.")
    if p.paid:
        return (f"\n**Paid online:** {format_money(p.amount, p.currency)} on {p.provider} "
                f"({p.reference}): ship_to_customer needs no customer_payment.")
    if p.url:
        return (f"\n**Waiting on the customer's payment:** {format_money(p.amount, p.currency)} "
                f"on {p.provider} ({p.payment_id}), for {p.why}. Payment page: {p.url}")
    return f"\nThe payment page ({p.payment_id}) expired; a new one is being made."
