"""Return postage: who buys the label, and how much of the customer's postage is reimbursed.

004 §3.4: "For returns/exchanges caused by non-quality issues, the shipping cost of returning the
product shall be borne by you; for those caused by quality issues, the return shipping cost shall
be borne by us upon presentation of valid courier documents (limited to standard shipping fees,
excluding value-added fees such as expedited and dedicated line services)."
"""

from __future__ import annotations

from collections.abc import Iterable

from returns.policy.decision import ItemDecision, Party


def prepaid_label(travelling: Iterable[ItemDecision]) -> bool:
    """A carrier label the merchant pays for only when the merchant bears the return shipping of
    every item in the parcel (004 §3.4, 003 §II.2, 000 §3.3); otherwise the customer posts it at
    their own cost with the PDF RMA label, and nothing is bought or deducted on their behalf."""
    items = list(travelling)
    return bool(items) and all(i.return_shipping_paid_by == Party.merchant for i in items)
