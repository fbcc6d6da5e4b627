"""A notification as its customer reads it: every reason, fee, amount and note in the customer's
words and language (returns/customer_words.py, the catalogue the return page uses too).

The workflow sends the decision's facts (`NotificationItem.resolution_changed`, `evidence_missing`,
`fee_amounts`, amounts in minor units, `deadline_kind`, `owed_amount`, units `missing` / `failed`);
this module words them just before the templates render. The policy's own reasons (clauses, rule
texts, written for staff) and text the code wrote in English for staff are never shown to a
customer: the templates only ever see what `for_customer` returns.
"""

from __future__ import annotations

from activities.contracts import Notification, NotificationItem
from returns import customer_words as cw

# Templates whose `message` the workflow writes (in English, for the audit or staff): a customer
# reads the words built here from the notification's facts instead, never that message.
WORDED_HERE = frozenset({"received", "inspection_passed", "inspection_failed",
                         "deadline_extended"})
_DECIDING = frozenset({"requested", "under_review"})
# Emails that tell what was refunded: line by line once an inspection fee was deducted.
ITEMISED = frozenset({"refund_issued", "closed"})


def _item(item: NotificationItem, n: Notification, language: str) -> NotificationItem:
    currency = n.currency
    reasons = cw.item_reasons(
        language, eligible=item.eligible, resolution=item.resolution,
        resolution_changed=item.resolution_changed, evidence_missing=item.evidence_missing,
        deciding=n.state in _DECIDING, support_email=n.merchant_support_email)
    if currency is None:  # an older return: no amounts to word, so no staff text either
        return item.model_copy(update={"reasons": reasons, "fees": []})
    if n.template == "closed" and item.failed and item.failed >= item.quantity:
        # Sent back after a failed inspection: the summary must not read "refund".
        item = item.model_copy(update={"resolution": cw.FAILED_INSPECTION})
    return item.model_copy(update={
        "reasons": reasons,
        "fees": [cw.fee_line(f.kind, f.amount, currency, language) for f in item.fee_amounts],
        "refund": cw.money(item.refund_amount, currency, language) if item.refund_amount else None,
    })


def _units(items: list[NotificationItem], field: str, language: str) -> list[str]:
    return [cw.text(language, "units", title=i.title, quantity=getattr(i, field))
            for i in items if getattr(i, field)]


def _message(n: Notification, language: str) -> str | None:
    """The template's `message` for the templates whose message the workflow does not write."""
    currency = n.currency or ""
    owed = cw.owed(n.owed_amount, n.owed_quoted, currency, language) if currency else None
    if n.template == "received":
        return "\n".join(_units(n.items, "missing", language)) or None
    if n.template == "inspection_passed":
        return owed
    if n.template == "inspection_failed":
        lines = _units(n.items, "failed", language)
        return "\n".join(lines + ([""] + [owed] if owed else [])) or None
    if n.template == "deadline_extended":
        return cw.deadline_moved(n.deadline_kind, language) if n.deadline_kind else None
    return n.message


# Emails after which no parcel is to come to the merchant (refused, withdrawn, ended).
NO_PARCEL_COMING = frozenset({"rejected", "withdrawn", "cancelled", "expired", "closed",
                              "refund_issued", "returned_to_customer", "repaired"})


def for_customer(n: Notification) -> Notification:
    """`n` with its items, amounts and message in the customer's words and language."""
    language = cw.language_of(n.locale)
    update: dict = {"items": [_item(i, n, language) for i in n.items]}
    if n.items and not any(i.eligible and i.needs_return_shipment and i.resolution
                           for i in n.items):
        # Nothing travels back: no return address, no label or parcel talk.
        update.update(nothing_to_send=True, merchant_return_address=None)
    elif n.template in NO_PARCEL_COMING:
        # The return is refused or over: the address would read as an invitation to send.
        update["merchant_return_address"] = None
    if n.currency is not None and n.refund_total_amount:
        update["refund_total"] = cw.money(n.refund_total_amount, n.currency, language)
    if n.template in WORDED_HERE:
        update["message"] = _message(n, language)
    if n.refund_lines is not None and n.template in ITEMISED:
        update["refund_itemised"] = cw.refund_itemised(n.refund_lines, language)
    return n.model_copy(update=update)
