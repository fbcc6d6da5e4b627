"""Money the customer owes before a shipment that depends on it, and whether staff recorded it.

Exchange fees (004 §4.5), the price difference and the reshipping cost of a non-quality exchange
(004 §4.4 "the shipping cost for re-shipping shall be borne by you; if there is a price
difference … the difference must be paid before arranging shipment"), the shipping back of an
item that failed inspection (004 §3.7, 003 §III.4 "borne by you"). Where no payment provider
collects it, staff record the customer's payment (`ShipToCustomer.customer_payment`) and the
shipment is refused until they do. Amounts the product knows (fees) are stated; the others
(price difference, postage) staff quote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from returns.actions import ShipToCustomer
from returns.events import Resolution
from returns.money import format_money
from returns.policy.decision import Party, ReturnDecision
from returns.status import ItemStatus, ReturnState


@dataclass(frozen=True)
class Owed:
    what: str  # for the customer: "the exchange fee (50 %) for Gold ring"
    clause: str
    amount: int | None = None  # None: quoted by staff (price difference, postage)
    fee: bool = False

    def sentence(self, currency: str) -> str:
        amount = format_money(self.amount, currency) if self.amount is not None else "as quoted"
        return f"{self.what}: {amount} ({self.clause})"


_OUTBOUND = {ReturnState.exchange_shipping: Resolution.exchange,
             ReturnState.repairing: Resolution.repair}


def owed_before(state: ReturnState, decision: ReturnDecision,
                items: Mapping[str, ItemStatus]) -> list[Owed]:
    """What the customer must pay before the shipment of `state` goes out."""
    owed: list[Owed] = []
    if state in _OUTBOUND:
        for i in decision.items:
            if i.resolution != _OUTBOUND[state] or not items[i.line_id].quantity_accepted:
                continue
            owed += [Owed(f"{f.reason.text} ({i.title})", f.reason.clause, f.amount, fee=True)
                     for f in i.fees if not f.waived]
            owed += [Owed(f"{r.text} ({i.title})", r.clause) for r in i.owed_before_reshipping]
            if i.reshipping_paid_by == Party.customer:
                owed.append(Owed(f"the cost of shipping the {_sent(state)} {i.title} to you",
                                 i.shipping_clause or "the policy's shipping terms"))
    elif state == ReturnState.returning_to_customer and \
            decision.inspection_failed_shipping_paid_by == Party.customer:
        back = [f"{i.title} x{i.quantity_received - i.quantity_accepted}" for i in items.values()
                if i.inspection == "failed" and i.quantity_received > i.quantity_accepted]
        if back:
            owed.append(Owed(f"the cost of shipping back what did not pass inspection "
                             f"({', '.join(back)})", _failed_clause(decision)))
    return owed


def _sent(state: ReturnState) -> str:
    return "exchanged" if state == ReturnState.exchange_shipping else "repaired"


def _failed_clause(decision: ReturnDecision) -> str:
    if decision.inspection_failed_shipping_clause:
        return decision.inspection_failed_shipping_clause
    found = re.search(r"\(([^()]*)\)\.?$", decision.inspection_failed_shipping or "")
    return found.group(1) if found else "the policy's inspection terms"


def owed_text(owed: list[Owed], currency: str) -> str | None:
    """For the customer, staff and the status card: what is owed and why, one line each."""
    if not owed:
        return None
    return ("To pay before we ship: " + "; ".join(o.sentence(currency) for o in owed)
            + ". We ship once it is paid.")


def payment_problem(state: ReturnState, decision: ReturnDecision,
                    items: Mapping[str, ItemStatus], action: ShipToCustomer,
                    paid_online: bool = False, waiting: str | None = None) -> str | None:
    """Why `action` cannot ship yet: something owed is not paid; None when it may ship.
    `paid_online`: the customer paid it through the merchant's provider (returns/collection.py);
    `waiting`: the payment asked of them online, said in the refusal."""
    owed = owed_before(state, decision, items)
    if not owed or (paid_online and action.customer_payment is None):
        return None
    currency = decision.currency
    known = sum(o.amount or 0 for o in owed)
    paid = action.customer_payment
    if paid is None and waiting:
        return (f"customer_payment: the return is waiting on the customer's payment ({waiting}); "
                f"it ships once they pay, or record a payment they made another way: "
                f"customer_payment: {{reference, amount}}")
    if paid is None and action.fee_payment_reference and all(o.fee for o in owed):
        return None  # fees only, recorded the way they always were
    if paid is None:
        field = "fee_payment_reference" if all(o.fee for o in owed) else "customer_payment"
        return (f"{field}: before this shipment the customer owes "
                f"{'; '.join(o.sentence(currency) for o in owed)}; collect it and give "
                f"customer_payment: {{reference, amount}} (in the console: what the customer "
                f"paid, reference and amount)")
    if paid.amount < known:
        return (f"customer_payment.amount: {format_money(paid.amount, currency)} is less than the "
                f"{format_money(known, currency)} owed in fees alone "
                f"({', '.join(o.clause for o in owed if o.amount)})")
    return None
