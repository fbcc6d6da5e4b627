"""What the customer sees of one return, from the `status` query (ReturnStatus) and the merchant's
contact details (its policy file): pure, no Temporal, no HTTP.

Only customer-facing facts leave here: steps with dates, what to do next and by when, each item's
decision with a reason written for customers (never a rule code or a staff note), amounts in the
customer's language, the return address. The page's template shows a `CustomerView` and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from returns import customer_words
from returns.allowed import OPEN_BEFORE_RECEIPT
from returns.events import Address
from returns.evidence import ended as return_over
from returns.policy.decision import MerchantContact, Party
from returns.refund_itemised import itemised
from returns.refund_shown import line_refund, refund_shown
from returns.status import (
    DeadlineKind, InspectionResult, ReceiptOutcome, ReturnState, ReturnStatus,
)

from customer_page import upload_view, words

S = ReturnState
# The happy path, in order: a step is done once the return entered one of its states.
_OUTCOME_STATES = {S.refunding, S.refunded, S.exchange_shipping, S.exchanged, S.repairing,
                   S.repaired, S.returning_to_customer}
_STEPS: list[tuple[str, set[ReturnState], DeadlineKind | None]] = [
    ("step_approved", {S.approved}, DeadlineKind.review),
    ("step_shipped", {S.in_transit, S.received}, DeadlineKind.ship_by),
    ("step_received", {S.received}, None),
    ("step_inspected", _OUTCOME_STATES, DeadlineKind.inspection),
    ("step_closed", {S.refunded, S.exchanged, S.repaired, S.closed}, DeadlineKind.refund),
]
# Steps that send something to the customer, which may wait for a payment first.
_SHIPS_TO_CUSTOMER = {S.exchange_shipping, S.repairing, S.returning_to_customer}
_ENDS = {S.rejected: "step_rejected", S.expired: "step_expired", S.withdrawn: "step_withdrawn",
         S.cancelled: "step_cancelled"}
# Ended before any outcome: the page says how and when, and no item's decision.
_ENDED_BEFORE_OUTCOME = {S.withdrawn, S.cancelled}
# What the customer may do, and when (the workflow's own rules: returns.allowed, parcel_scanned).
TRACKING_STATES = frozenset({S.awaiting_shipment})


@dataclass
class Step:
    label: str
    done: bool
    date: str | None  # when it happened, or the date it is due by


@dataclass
class Item:
    title: str
    quantity: int
    decision: str
    reasons: list[str]
    refund: str | None
    fees: list[str]
    # An inspection fee deducted from the line (returns/refund_itemised.py), in the customer's
    # words: "Inspection fee deducted: −€15.00", "Refunded for this item: €192.50".
    inspection_fee: str | None = None
    refunded: str | None = None


@dataclass
class CustomerView:
    language: str
    title: str
    order: str
    steps: list[Step]
    next_action: str
    items: list[Item]
    refund_total: str | None
    fees_total: str | None
    shipping: str | None
    return_address: Address | None
    merchant_name: str
    support: str
    has_label: bool
    can_give_tracking: bool
    can_withdraw: bool
    final: bool
    w: dict[str, str] = field(default_factory=dict)
    # Photos and videos (customer_page/upload_view.py)
    can_upload: bool = False
    uploads: list[upload_view.Upload] = field(default_factory=list)
    upload_form: upload_view.UploadForm | None = None
    # Staff's open question (request_info) and the customer's answers (issue 16 §3).
    question: str | None = None
    question_number: int | None = None
    answers: list[Answer] = field(default_factory=list)

    owed: Owed | None = None  # what the customer pays before a shipment (issue 18 point 2)
    # What staff shipped to the customer (replacement, repaired item, item sent back), with its
    # carrier and tracking number, in the customer's words.
    shipment: str | None = None
    # A withdrawn or cancelled return: how and when it ended, said instead of the items' decisions
    # (the items are still listed, without decision, reason, refund or fee).
    ended: str | None = None
    # "Total refunded: €192.50" under the refund once an inspection fee was deducted.
    refund_itemised_total: str | None = None


@dataclass
class Answer:
    question: str
    answer: str
    date: str


@dataclass
class Owed:
    why: str  # in the customer's words ("Before we ship it, €20.00 is to be paid. …")
    amount: str | None = None  # asked online, in the customer's language
    payment_url: str | None = None  # the provider-hosted page (Stripe Checkout)
    paid: bool = False


def _entered(status: ReturnStatus) -> dict[ReturnState, datetime]:
    """When the return first entered each state (the audit's "state" entries: "a -> b")."""
    entered: dict[ReturnState, datetime] = {}
    for entry in status.audit:
        if entry.action == "state" and "->" in entry.detail:
            try:
                state = ReturnState(entry.detail.split("->")[-1].strip())
            except ValueError:
                continue
            entered.setdefault(state, entry.at)
    return entered


def _tracking(status: ReturnStatus) -> str | None:
    """The last carrier + tracking number the return heard of (audit "parcel picked_up" etc.)."""
    if status.tracking:
        return f"{status.tracking[-1].carrier} {status.tracking[-1].tracking_number}"
    found = [e.detail for e in status.audit if e.action.startswith("parcel ") and e.detail]
    return found[-1] if found else None


def _shipped_from(status: ReturnStatus) -> ReturnState | None:
    """The state the last shipment to the customer left from (the last one the return entered of
    exchange_shipping, repairing, returning_to_customer): what was shipped."""
    shipped_from = None
    for entry in status.audit:
        if entry.action == "state" and "->" in entry.detail:
            target = entry.detail.split("->")[-1].strip()
            if target in _SHIPS_TO_CUSTOMER:
                shipped_from = ReturnState(target)
    if shipped_from is None and status.state in _SHIPS_TO_CUSTOMER:
        shipped_from = status.state
    return shipped_from


def _shipment(status: ReturnStatus, language: str) -> str | None:
    """"Your replacement is on its way with UPS. Tracking number: 1Z…" (ship_to_customer)."""
    shipment, shipped_from = status.shipment_to_customer, _shipped_from(status)
    if shipment is None or shipped_from is None:
        return None
    return customer_words.shipped(shipped_from.value, shipment.carrier, shipment.tracking_number,
                                  language)


def build(status: ReturnStatus, contact: MerchantContact | None, timezone: str | None,
          language: str) -> CustomerView:
    w = words.WORDS[language]
    when = lambda at: words.date(at, timezone, language) if at else None  # noqa: E731
    money = lambda amount: words.money(amount, status.currency, language)  # noqa: E731
    support_email = contact.support_email if contact else ""
    entered = _entered(status)
    deadlines = {d.kind: d for d in status.deadlines}
    ships = any(i.eligible and i.needs_return_shipment for i in status.items)

    steps = [Step(w["step_requested"], True, when(status.requested_at))]
    ended = _ENDS.get(status.state)
    for key, states, deadline in _STEPS:
        if not ships and key in ("step_shipped", "step_received", "step_inspected"):
            continue
        reached = [entered[s] for s in states if s in entered]
        done = bool(reached) or status.state in states
        if ended and not done:
            break  # a return that ended early has nothing more to come
        due = deadlines[deadline].due_at if deadline in deadlines and not done else None
        if due is not None and deadlines[deadline].paused_since is not None:
            due = None  # waits for the customer's answer: no date to promise meanwhile
        steps.append(Step(w[key], done, when(min(reached)) if reached else when(due)))
    if ended:
        steps.append(Step(w[ended], True, when(entered.get(status.state))))

    tracking = _tracking(status)
    # Over once final or once its outcome is given: a refunded or exchanged return ends there.
    over = return_over(status.state, status.outcome)
    owed = _owed(status, money, language)
    if owed is not None and owed.payment_url:
        next_action = w["pay_now"]
    elif status.state in TRACKING_STATES and DeadlineKind.ship_by in deadlines:
        next_action = w["ship_by"].format(date=when(deadlines[DeadlineKind.ship_by].due_at))
    elif status.state == S.in_transit and tracking:
        next_action = w["shipped_thanks"].format(tracking=tracking)
    elif status.state == S.withdrawn:
        next_action = w["withdrawn_thanks"]
    elif over:
        next_action = w["status_closed"]
    elif status.customer_owes and status.state in _SHIPS_TO_CUSTOMER:
        next_action = w["owed_next"]  # staff ship only once it is paid (004 §3.7, §4.4)
    else:
        next_action = w["nothing_to_do"]

    items = []
    by_fee = itemised(status)  # None unless an inspection fee was deducted
    lines = {line.line_id: line for line in by_fee.lines} if by_fee else {}
    decided = any(i.resolution for i in status.items) or status.state not in (
        S.requested, S.under_review)
    deciding = status.state in (S.requested, S.under_review)
    for i in status.items:
        resolution = i.resolution.value if i.resolution else None
        # While staff review, an item the policy would refuse is "being reviewed", not "not
        # accepted": staff may still accept it as an exception.
        held = deciding and not i.eligible
        decision = customer_words.decision_label(
            language, eligible=i.eligible or held, resolution=resolution,
            deciding=not decided or i.resolution is None or held)
        reasons = customer_words.item_reasons(
            language, eligible=i.eligible or held, resolution=None if held else resolution,
            resolution_changed=i.resolution_reason is not None and not held,
            evidence_missing=[k.value for k in i.evidence_missing], deciding=deciding,
            support_email=support_email, upload_here=upload_view.can_upload(status))
        if i.inspection == InspectionResult.failed:  # the email said so: no "Refund" left here
            decision, reasons = w["res_failed_inspection"], [w["failed_inspection_reason"]]
        items.append(Item(
            title=i.title, quantity=i.quantity_requested, decision=decision, reasons=reasons,
            # The refund follows the outcome (returns/refund_shown.py): none after a failed
            # inspection or a return that ended without one.
            refund=money(line_refund(i, status.state)) if line_refund(i, status.state) else None,
            fees=[money(f.amount) for f in i.fees if not f.waived] if i.eligible else []))
        line = lines.get(i.line_id)
        if line is not None and line.inspection_fee:
            items[-1].inspection_fee = customer_words.inspection_fee_deducted(
                line.inspection_fee, status.currency, language)
            items[-1].refunded = customer_words.refunded_for_line(line.refunded, status.currency,
                                                                  language)

    payers = {i.return_shipping_paid_by for i in status.items
              if i.eligible and i.needs_return_shipment and i.return_shipping_paid_by}
    shipping = (w["shipping_paid_by_customer"] if Party.customer in payers
                else w["shipping_paid_by_merchant"] if Party.merchant in payers else None)
    parcel_in = any(r.outcome == ReceiptOutcome.recorded for r in status.receipts)
    question = status.open_question if status.state == S.under_review else None
    if question is not None:
        next_action = w["answer_needed"]
    elif status.state == S.under_review and status.customer_answers:
        next_action = w["answer_thanks"]
    if not ships:  # a returnless refund: nothing is sent back, nothing is checked
        w = {**w, "refund_note": w["refund_note_returnless"]}
    ended = None
    if status.state in _ENDED_BEFORE_OUTCOME:
        # Withdrawn or cancelled: no decision, reason, refund or fee is still to be had; say how
        # and when it ended, and list what the return was about.
        at = entered.get(status.state) or (status.audit[-1].at if status.audit else None)
        ended = customer_words.ended(status.state.value, when(at) or "", language) if at else None
        items = [Item(title=i.title, quantity=i.quantity, decision="", reasons=[], refund=None,
                     fees=[]) for i in items]
    view = CustomerView(
        language=language, title=w["title"].format(return_id=status.return_id),
        order=w["order"].format(order_id=status.order_id), steps=steps, next_action=next_action,
        items=items,
        refund_total=money(refund_shown(status).amount) if refund_shown(status).amount else None,
        fees_total=money(status.fees_total) if status.fees_total else None,
        shipping=shipping if ships and not over else None,
        return_address=contact.return_address if contact and ships else None,
        merchant_name=contact.name if contact else "",
        support=w["support"].format(email=support_email) if support_email else "",
        has_label=status.label is not None and not over and not parcel_in,  # used by then
        can_give_tracking=status.state in TRACKING_STATES,
        can_withdraw=status.state in OPEN_BEFORE_RECEIPT and not parcel_in,
        final=over, w=w,
        can_upload=upload_view.can_upload(status),
        uploads=upload_view.uploads(status, timezone, language),
        upload_form=upload_view.form(status, language),
        question=question.question if question else None,
        question_number=question.number if question else None,
        answers=[Answer(a.question, a.answer, when(a.answered_at)) for a in status.customer_answers],
        owed=owed, shipment=_shipment(status, language), ended=ended)
    if by_fee is not None:  # the lines' refunds, less the fee, add up to this total
        view.refund_total = money(by_fee.total) if by_fee.total else None
        view.refund_itemised_total = customer_words.text(language, "refund_itemised_total",
                                                         amount=money(by_fee.total))
    return view



def _owed(status: ReturnStatus, money, language: str) -> Owed | None:
    """What the customer owes before the next shipment, in the customer's words (the same as the
    emails': returns/customer_words.owed), and the page to pay it on."""
    p = status.owed_payment
    if not status.customer_owes:  # nothing owed, or the shipment is on its way
        return None
    why = customer_words.owed(status.customer_owes_amount, status.customer_owes_quoted,
                              status.currency, language) or ""
    if p is None:
        return Owed(why=why)
    # Asked online: the heading, the amount on the button and its note say it all.
    return Owed(why="", amount=money(p.amount), payment_url=p.url if not p.paid else None,
                paid=p.paid)
