"""`decide`: a merchant's policy and a return request in, a `ReturnDecision` out. Pure and
deterministic: no clock, no I/O; the request's own date is "today".
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from returns.events import OrderLine, RequestedItem, Resolution, ReturnRequested
from returns.money import prorate
from returns.policy.decision import ItemDecision, Party, Reason, ReturnDecision
from returns.policy.rules import (
    ITEM_RULES,
    ComparisonPurchase,
    Draft,
    ItemFacts,
    ReturnlessRefund,
    ShippingAddress,
    ShippingParties,
    fees_for,
    line_attributes,
    refund_after_fees,
    refund_cap,
)
from returns.policy.schema import MerchantPolicy


def decide(policy: MerchantPolicy, request: ReturnRequested) -> ReturnDecision:
    """What the merchant's policy says about every item of `request`, each reason cited."""
    if request.merchant_id != policy.merchant_id:
        raise ValueError(f"merchant_id: request is for {request.merchant_id!r} but the policy is "
                         f"{policy.merchant_id!r}")
    drafts = [_draft(policy, request, item) for item in request.items]
    for draft in drafts:
        for rule in ITEM_RULES:
            rule.apply(draft)
    ReturnlessRefund().apply(policy, request, drafts)
    address_problems = ShippingAddress().apply(policy, request, drafts)
    ComparisonPurchase().apply(policy, request, drafts)
    for draft in drafts:
        ShippingParties().apply(draft)

    items = [_item_decision(policy, draft) for draft in drafts]
    auto_reject = (policy.policy.auto_reject_ineligible
                   and not any(i.eligible or i.staff_review_required for i in items))
    auto_reject_reasons: list[Reason] = []
    if auto_reject:
        assert policy.policy.auto_reject_clause is not None  # schema guarantees it
        auto_reject_reasons.append(policy.policy.auto_reject_clause.reason())
        for draft in drafts:
            first = draft.refusals[0]
            auto_reject_reasons.append(Reason(clause=first.clause,
                                              text=f"{draft.facts.line.title}: {first.text}"))
    tz = ZoneInfo(policy.sla.calendar.timezone)
    return ReturnDecision(
        merchant_id=policy.merchant_id,
        merchant=policy.contact(),
        policy_version=policy.version,
        currency=request.order.currency,
        items=items,
        sla=policy.sla_terms(),
        address_problems=address_problems,
        auto_reject=auto_reject,
        auto_reject_reasons=auto_reject_reasons,
        inspection_failed_shipping=policy.inspection_failed.sentence(),
        inspection_failed_shipping_paid_by=policy.inspection_failed.paid_by,
        inspection_failed_shipping_clause=policy.inspection_failed.clause,
        exchange_checks=[f"{c.clause}: {c.text}" for c in policy.exchange_shipment.checks]
        if policy.exchange_shipment else [],
        original_packaging_clause=(policy.original_packaging.clause
                                   if policy.original_packaging else None),
        postage_standard_only=(policy.return_postage.cap() if policy.return_postage
                               and policy.return_postage.standard_only else None),
        decided_on=request.occurred_at.astimezone(tz).date().isoformat(),
    )


def paid_for(request: ReturnRequested, line: OrderLine, quantity: int) -> tuple[int, int]:
    """What was paid for `quantity` units of `line`: (tax included, tax excluded).

    When the order's payments are less than its lines and shipping (an order-level discount), each
    line's share is reduced in proportion, so refunds never add up to more than was paid.
    """
    order = request.order
    gross = line.unit_price * quantity
    net = (line.unit_price - line.unit_tax) * quantity
    order_value = sum(ln.unit_price * ln.quantity for ln in order.lines) + order.shipping_paid
    if order_value and order.total_paid < order_value:
        return (prorate(gross, order.total_paid, order_value),
                prorate(net, order.total_paid, order_value))
    return gross, net


def _draft(policy: MerchantPolicy, request: ReturnRequested, item: RequestedItem) -> Draft:
    tz = ZoneInfo(policy.sla.calendar.timezone)
    order = request.order
    line = order.line(item.line_id)
    start = order.delivered_at or order.placed_at
    paid, paid_net = paid_for(request, line, item.quantity)
    facts = ItemFacts(
        policy=policy, request=request, item=item, line=line,
        request_date=request.occurred_at.astimezone(tz).date(),
        start_date=start.astimezone(tz).date(),
        delivery_known=order.delivered_at is not None,
        quality=policy.is_quality(item.reason),
        attributes=line_attributes(line),
        paid=paid, paid_excluding_tax=paid_net,
    )
    return Draft(facts=facts)


def _item_decision(policy: MerchantPolicy, draft: Draft) -> ItemDecision:
    f = draft.facts
    cap = refund_cap(policy, f.paid, f.paid_excluding_tax, draft.ground)
    # Not eligible (refused, or waiting for a person to accept it): no resolution, nothing owed.
    resolution = draft.resolution if draft.eligible else None
    fees = fees_for(policy, quality=f.quality, resolution=resolution, attributes=f.attributes,
                    comparison_purchase=False, paid=f.paid)
    missing = [k for k in draft.evidence_required if k not in f.item.evidence]
    reasons = draft.refusals + draft.reasons
    resolution_reason = draft.resolution_reason if resolution is not None else None
    # Why the resolution differs from what was asked is a reason like any other (000 §1.3, §2.2
    # "no repair service"), whichever rule set it.
    if resolution_reason is not None and resolution_reason not in reasons:
        reasons.append(resolution_reason)
    return ItemDecision(
        line_id=f.line.line_id,
        sku=f.line.sku,
        title=f.line.title,
        quantity=f.item.quantity,
        eligible=draft.eligible,
        requested_resolution=f.item.resolution,
        resolution=resolution,
        resolution_reason=resolution_reason,
        quality_issue=f.quality,
        needs_return_shipment=resolution is not None and draft.return_shipping != Party.nobody,
        return_shipping_paid_by=draft.return_shipping,
        reshipping_paid_by=draft.reshipping,
        paid=f.paid,
        refund_cap=cap,
        fees=fees,
        refund_amount=refund_after_fees(resolution, cap, fees),
        evidence_required=draft.evidence_required,
        evidence_missing=missing,
        staff_review_required=draft.needs_person,
        staff_review_points=draft.review_points,
        inspection_checks=draft.inspection_checks,
        inspection_fee_clause=_inspection_fee_clause(f, draft),
        shipping_clause=draft.ground.shipping_clause if draft.ground else None,
        stock_check=(f"{draft.ground.stock_check.clause}: {draft.ground.stock_check.text}"
                     if draft.ground and draft.ground.stock_check
                     and draft.resolution == Resolution.exchange else None),
        owed_before_reshipping=draft.owed if resolution in (Resolution.exchange,
                                                            Resolution.repair) else [],
        refusals=list(draft.refusals),
        reasons=reasons + [fee.reason for fee in fees],
        line_attributes=sorted(f.attributes),
    )


def _inspection_fee_clause(f, draft: Draft) -> str | None:
    """The clause under which staff may charge this item an inspection fee, if any; none on a
    ground that excludes it (003 §II.4 EU cooling-off)."""
    rule = f.policy.inspection_fee
    if draft.ground is not None and draft.ground.no_inspection_fee is not None:
        return None
    if rule is None or (rule.quality is not None and rule.quality != f.quality):
        return None
    return f"{rule.clause}: {rule.text}"
