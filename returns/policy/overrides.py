"""Staff exceptions at approval: waive fees, accept a refused item, change the resolution, flag a
comparison purchase (004 §7.1). Each one is recorded on the item as a reason naming the person.
"""

from __future__ import annotations

from returns.actions import ItemOverride
from returns.events import Resolution
from returns.policy.decision import Fee, ItemDecision, Party, Reason, ReturnDecision
from returns.policy.rules import fees_for, refund_after_fees
from returns.policy.schema import MerchantPolicy

_OUTBOUND = (Resolution.exchange, Resolution.repair)


def override_problem(decision: ReturnDecision, overrides: list[ItemOverride]) -> str | None:
    """Why staff's approval with `overrides` cannot apply, naming the field; None when it can.
    The approve validator asks this before the workflow takes the approval."""
    lines = [i.line_id for i in decision.items]
    for n, o in enumerate(overrides):
        if o.line_id not in lines:
            return (f"overrides[{n}].line_id: {o.line_id!r} is not part of this return "
                    f"(lines: {', '.join(sorted(lines))})")
        if o.resolution is not None and not o.accept_exception \
                and not decision.item(o.line_id).eligible:
            return (f"overrides[{n}].resolution: line {o.line_id} is not eligible; set "
                    f"accept_exception: true (with a reason) to accept it first")
    return None


def approval_problem(decision: ReturnDecision, overrides: list[ItemOverride],
                     stock_confirmed: list[str] | tuple[str, ...] = ()) -> str | None:
    """Why an approval with `overrides` cannot be taken (the approve validator): the overrides
    must apply, something must be eligible once they do, and an exchange whose stock the policy
    checks first must have it confirmed (003 §III.2)."""
    problem = override_problem(decision, overrides)
    if problem:
        return problem
    resolutions = {o.line_id: o.resolution for o in overrides if o.resolution is not None}
    for i in decision.items:
        exchanged = resolutions.get(i.line_id, i.resolution) == Resolution.exchange
        if i.stock_check and i.eligible and exchanged and i.line_id not in stock_confirmed:
            return (f"stock_confirmed: line {i.line_id} ({i.title}) is to be exchanged: "
                    f"{i.stock_check}. Confirm it with stock_confirmed: [\"{i.line_id}\"], or "
                    f"override its resolution to refund")
    accepted = {o.line_id for o in overrides if o.accept_exception}
    if not any(i.eligible or i.line_id in accepted for i in decision.items):
        return ("no item is eligible: reject the return, or accept an exception with overrides "
                "[{line_id, accept_exception: true, reason}]")
    return None


def apply_overrides(decision: ReturnDecision, overrides: list[ItemOverride], actor: str,
                    policy: MerchantPolicy) -> ReturnDecision:
    """The decision after staff `actor` applied `overrides`, in order; fees and refunds re-priced
    with the merchant's fee rules. Raises ValueError naming the field when an override does not fit.
    """
    if not actor or not actor.strip():
        raise ValueError("actor: say who is making the override")
    if policy.merchant_id != decision.merchant_id:
        raise ValueError(f"policy: the decision is for {decision.merchant_id!r}, not "
                         f"{policy.merchant_id!r}")
    problem = override_problem(decision, overrides)
    if problem:
        raise ValueError(problem)
    items = {item.line_id: item for item in decision.items}
    for n, override in enumerate(overrides):
        items[override.line_id] = _override_item(items[override.line_id], override, actor.strip(),
                                                 policy, n)
    new_items = [items[item.line_id] for item in decision.items]
    still_rejected = decision.auto_reject and not any(i.eligible for i in new_items)
    return decision.model_copy(update={
        "items": new_items,
        "auto_reject": still_rejected,
        "auto_reject_reasons": decision.auto_reject_reasons if still_rejected else [],
    })


def _override_item(item: ItemDecision, override: ItemOverride, actor: str,
                   policy: MerchantPolicy, n: int) -> ItemDecision:
    changes: list[str] = []
    eligible, resolution = item.eligible, item.resolution
    if override.accept_exception and not eligible:
        eligible = True
        resolution = override.resolution or item.requested_resolution
        changes.append(f"accepted as an exception ({resolution.value})")
    if override.resolution is not None and override.resolution != resolution:
        if not eligible:
            raise ValueError(f"overrides[{n}].resolution: line {item.line_id} is not eligible; "
                             f"set accept_exception to accept it first")
        changes.append(f"resolution {resolution.value if resolution else 'none'} -> "
                       f"{override.resolution.value}")
        resolution = override.resolution
    comparison = override.comparison_purchase or any(
        f.kind.value == "comparison_purchase" for f in item.fees)
    if override.comparison_purchase:
        changes.append("comparison purchase")
    if not eligible:
        if override.waive_fees:
            changes.append("fees waived (none charged: the item is not eligible)")
        return _with_reason(item, actor, override, changes)

    fees = _reprice(item, policy, resolution, comparison)
    if override.waive_fees:
        fees = [f.model_copy(update={"waived": True, "waived_by": actor}) for f in fees]
        changes.append("fees waived")

    update: dict = {
        "eligible": True,
        "resolution": resolution,
        "fees": fees,
        "refund_amount": refund_after_fees(resolution, item.refund_cap, fees),
    }
    if resolution != item.resolution:
        update |= _shipping(item, resolution)
        if resolution != item.requested_resolution:
            update["resolution_reason"] = Reason(clause=f"staff override by {actor}",
                                                 text=override.reason)
        else:
            update["resolution_reason"] = None
    return _with_reason(item.model_copy(update=update), actor, override, changes)


def _reprice(item: ItemDecision, policy: MerchantPolicy, resolution: Resolution | None,
             comparison: bool) -> list[Fee]:
    """The policy's fees for the item as it now stands, keeping waivers already granted."""
    fees = fees_for(policy, quality=item.quality_issue, resolution=resolution,
                    attributes=set(item.line_attributes), comparison_purchase=comparison,
                    paid=item.paid)
    waived = {f.kind: f for f in item.fees if f.waived}
    return [f.model_copy(update={"waived": True, "waived_by": waived[f.kind].waived_by})
            if f.kind in waived else f for f in fees]


def _shipping(item: ItemDecision, resolution: Resolution | None) -> dict:
    """Shipping legs after a resolution change or an accepted exception.

    The policy's terms are kept where the item had them; otherwise the rule common to the three
    seeds applies: the merchant pays for quality issues, the customer for the rest (003 §V.1.4,
    004 §3.4, Consumer Code L221-23 behind 000 §1.2).
    """
    if resolution == Resolution.returnless_refund:
        return {"needs_return_shipment": False, "return_shipping_paid_by": Party.nobody,
                "reshipping_paid_by": Party.nobody}
    default = Party.merchant if item.quality_issue else Party.customer
    back = item.return_shipping_paid_by if item.return_shipping_paid_by != Party.nobody else default
    out = item.reshipping_paid_by if item.reshipping_paid_by != Party.nobody else default
    return {"needs_return_shipment": True, "return_shipping_paid_by": back,
            "reshipping_paid_by": out if resolution in _OUTBOUND else Party.nobody}


def _with_reason(item: ItemDecision, actor: str, override: ItemOverride,
                 changes: list[str]) -> ItemDecision:
    what = "; ".join(changes) or "no change"
    reason = Reason(clause=f"staff override by {actor}", text=f"{override.reason} ({what})")
    return item.model_copy(update={"reasons": [*item.reasons, reason]})
