"""The return rules, one small unit each, parameterised by the merchant's policy file.

Shaped like Solidus' eligibility validators: every rule looks at one thing (the time window, the
item's attributes, the evidence, ...), and records on the item's `Draft` whether it is eligible,
whether a person must look, what resolution is granted, and a reason citing the policy clause.
`engine.decide` runs them in order. Item rules see one requested item; request rules see them all
(a returnless refund or a P.O. box concerns the whole parcel).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from returns.events import (
    Customer,
    EvidenceKind,
    OrderLine,
    RequestedItem,
    Resolution,
    ReturnRequested,
)
from returns.money import format_money, percent_of
from returns.policy.decision import Fee, Party, Reason
from returns.policy.schema import FLAG_ATTRIBUTES, AttributeRule, Ground, MerchantPolicy


# --- what the rules look at, and what they write ---------------------------------------------------
@dataclass(frozen=True)
class ItemFacts:
    """Everything about one requested item that a rule may look at; computed once."""

    policy: MerchantPolicy
    request: ReturnRequested
    item: RequestedItem
    line: OrderLine
    request_date: date  # request.occurred_at in the merchant's time zone
    start_date: date  # delivery (signature) date, or the order date when unknown
    delivery_known: bool
    quality: bool
    attributes: frozenset[str]  # "engraved", "material:platinum_950", ...
    paid: int  # paid for the requested units, tax included
    paid_excluding_tax: int

    @property
    def customer(self) -> Customer:
        return self.request.order.customer


@dataclass
class Draft:
    """The decision for one item while the rules run."""

    facts: ItemFacts
    refused: bool = False  # a rule said no
    # A rule said "no, unless staff specially approve it" (004 §4.5): not eligible, but still open.
    held: bool = False
    held_points: list[str] = field(default_factory=list)  # shown to staff if a ground covers it
    needs_person: bool = False  # a person must decide or check something
    ground: Ground | None = None
    resolution: Resolution | None = None
    resolution_reason: Reason | None = None
    allowed: set[Resolution] | None = None  # None: any resolution the ground offers
    return_shipping: Party = Party.nobody
    reshipping: Party = Party.nobody
    refusals: list[Reason] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    review_points: list[str] = field(default_factory=list)
    inspection_checks: list[str] = field(default_factory=list)
    evidence_required: list[EvidenceKind] = field(default_factory=list)
    owed: list[Reason] = field(default_factory=list)  # paid before reshipping (004 §4.4)

    @property
    def eligible(self) -> bool:
        return (not self.refused and not self.held and self.ground is not None
                and self.ground.verdict == "eligible")

    @property
    def open(self) -> bool:
        """Not refused: eligible, or waiting for a person."""
        return not self.refused and self.ground is not None

    def refuse(self, reason: Reason) -> None:
        self.refused = True
        self.refusals.append(reason)

    def hold(self, reason: Reason, points: list[str]) -> None:
        """Refused in principle; a person may still accept it (an override)."""
        self.held = True
        self.refusals.append(reason)
        self.held_points.extend(p for p in points if p not in self.held_points)

    def review(self, point: str) -> None:
        self.needs_person = True
        if point not in self.review_points:
            self.review_points.append(point)

    def add_check(self, check: str) -> None:
        """Something the inspection must confirm before the item passes ("<clause>: <text>")."""
        if check not in self.inspection_checks:
            self.inspection_checks.append(check)

    def grant(self, resolution: Resolution, why: Reason | None) -> None:
        self.resolution = resolution
        if resolution != self.facts.item.resolution:
            self.resolution_reason = why


def line_attributes(line: OrderLine) -> frozenset[str]:
    """The names policy rules use for a line's attributes."""
    attrs = line.attributes
    names = {name for name in FLAG_ATTRIBUTES if getattr(attrs, name)}
    if attrs.material:
        names.add(f"material:{attrs.material}")
    if attrs.pearl_type:
        names.add(f"pearl_type:{attrs.pearl_type}")
    return frozenset(names)


def _matching(rules: list[AttributeRule], attributes: frozenset[str]) -> list[AttributeRule]:
    return [rule for rule in rules if attributes.intersection(rule.attributes)]


# What the customer is asked for, in plain words (reasons are read by the customer).
EVIDENCE_WORDS: dict[EvidenceKind, str] = {
    EvidenceKind.photos: "photos or videos of the item",
    EvidenceKind.original_packaging: "photos of the original packaging",
    EvidenceKind.certificate: "the quality inspection certificate",
    EvidenceKind.logistics_signature: "the carrier's delivery signature record",
    EvidenceKind.damage_proof: "proof of the damage when the parcel was signed for",
    EvidenceKind.courier_receipt: "the receipt for your return shipping",
}


def _add_evidence(draft: Draft, kinds: list[EvidenceKind]) -> None:
    for kind in kinds:
        if kind not in draft.evidence_required:
            draft.evidence_required.append(kind)


# --- item rules --------------------------------------------------------------------------------------
class ReasonCategory:
    """Quality or not, as the merchant defines it (e.g. 004 §6.1 / §6.2, 003 §II.1)."""

    def apply(self, draft: Draft) -> None:
        f = draft.facts
        meaning = f.policy.reasons[f.item.reason]
        kind = "a quality issue" if f.quality else "not a quality issue"
        draft.reasons.append(Reason(clause=meaning.clause,
                                    text=f"{f.item.reason.value} is {kind}: {meaning.meaning}"))


class AttributeRestrictions:
    """Customized, engraved, special materials, final sale, ...: which resolutions remain (004 §5,
    003 §IV.1). An item whose attributes leave nothing it can ask for is refused here, or held for
    a person when the rule says staff may specially approve it (004 §4.5)."""

    def apply(self, draft: Draft) -> None:
        f = draft.facts
        for rule in _matching(f.policy.attribute_rules, f.attributes):
            limit = rule.quality_resolutions if f.quality else rule.non_quality_resolutions
            if limit is None:
                continue
            allowed = set(limit) if draft.allowed is None else draft.allowed & set(limit)
            asked = f.item.resolution
            converted = rule.quality_instead.get(asked) if f.quality else None
            reason = Reason(clause=rule.clause, text=rule.text)
            if asked in allowed or converted in allowed:
                draft.allowed = allowed
                draft.reasons.append(reason)
            elif rule.refused_review_points:
                # The ground and window are still checked for what was asked: a person can only
                # approve a request that would otherwise be in time.
                draft.hold(reason, rule.refused_review_points)
            else:
                draft.allowed = allowed
                draft.refuse(reason)


class GroundAndWindow:
    """The first ground of the policy (in file order) that covers the reason, the buyer, the
    resolution and whose window from delivery is still open (003 §II, 004 §2.1/§2.2, 000 §1.4)."""

    def apply(self, draft: Draft) -> None:
        if draft.refused:
            return
        f = draft.facts
        tried: list[Reason] = []
        covering: list[Ground] = []
        for ground in f.policy.grounds:
            if not self._covers(ground, f):
                continue
            covering.append(ground)
            chosen = self._resolution(ground, draft, tried)
            if chosen is None:
                continue
            resolution, why = chosen
            draft.ground = ground
            draft.grant(resolution, why)
            draft.reasons.extend(tried)  # why earlier grounds did not apply
            draft.reasons.append(self._window_reason(ground, resolution, f))
            if ground.returnless is not None and resolution == Resolution.refund:
                # Nothing to send back (000 §1.3 lost products): refunded without a return.
                draft.grant(Resolution.returnless_refund, ground.returnless.reason())
            for note in ground.notes:
                if note.applies_to(resolution):
                    draft.reasons.append(note.reason())
                    if note.inspection_check:
                        draft.add_check(note.check())
                    if note.collect_before_shipping:
                        draft.owed.append(note.reason())
            for cited in (ground.refund_limit, ground.no_inspection_fee):  # 000 §1.2, 003 §II.4
                if cited is not None:
                    draft.reasons.append(Reason(clause=cited.clause, text=cited.text))
            if ground.verdict == "review":
                for point in ground.review_points:
                    draft.review(point)
            return
        if covering and not tried:
            # Grounds exist for this reason and buyer, but none offers what was asked, in time or
            # late: say so rather than blame a window.
            clauses = list(dict.fromkeys(g.clause for g in covering))
            draft.refuse(Reason(clause="; ".join(clauses),
                                text=f"no ground of this policy offers {f.item.resolution.value} "
                                     f"for {f.item.reason.value}"))
            return
        refusal = f.policy.refusals.quality if f.quality else f.policy.refusals.non_quality
        draft.refuse(refusal.reason())
        draft.refusals.extend(tried)

    @staticmethod
    def _covers(ground: Ground, f: ItemFacts) -> bool:
        if f.item.reason not in ground.reasons or f.customer.type not in ground.customer_types:
            return False
        return not ground.regions or any(f.policy.in_region(r, f.customer.country)
                                         for r in ground.regions)

    @staticmethod
    def _deadline(ground: Ground, resolution: Resolution, f: ItemFacts) -> date:
        return f.start_date + timedelta(days=ground.window.days_for(resolution))

    def _resolution(self, ground: Ground, draft: Draft,
                    tried: list[Reason]) -> tuple[Resolution, Reason | None] | None:
        """The asked resolution if this ground offers it in time, else its stated alternative."""
        f = draft.facts
        asked = f.item.resolution
        candidates: list[tuple[Resolution, Reason | None]] = [(asked, None)]
        # The item's attributes rule out what was asked (003 §IV.1, 004 §5.2): their alternative
        # comes first and is the reason given; then the ground's own (004 §2.1, §8).
        if f.quality and draft.allowed is not None and asked not in draft.allowed:
            for rule in _matching(f.policy.attribute_rules, f.attributes):
                if asked in rule.quality_instead:
                    candidates.append((rule.quality_instead[asked],
                                       Reason(clause=rule.clause, text=rule.text)))
        if asked in ground.instead:
            cited = ground.instead_reasons.get(asked) or ground.instead_clause
            assert cited is not None  # schema guarantees it
            candidates.append((ground.instead[asked], cited.reason()))
        for resolution, why in candidates:
            if resolution not in ground.resolutions:
                continue
            if draft.allowed is not None and resolution not in draft.allowed:
                continue
            deadline = self._deadline(ground, resolution, f)
            if f.request_date > deadline:
                tried.append(Reason(
                    clause=ground.window.clause_for(resolution),
                    text=f"{ground.title}: {resolution.value} had to be requested by {deadline} "
                         f"({ground.window.days_for(resolution)} calendar days from {self._start(f)}); "
                         f"requested {f.request_date}"))
                continue
            return resolution, why
        return None

    @staticmethod
    def _start(f: ItemFacts) -> str:
        return f"delivery on {f.start_date}" if f.delivery_known else f"the order date {f.start_date}"

    def _window_reason(self, ground: Ground, resolution: Resolution, f: ItemFacts) -> Reason:
        deadline = self._deadline(ground, resolution, f)
        return Reason(clause=ground.window.clause_for(resolution),
                      text=f"{ground.title}: requested {f.request_date}, within "
                           f"{ground.window.days_for(resolution)} calendar days from {self._start(f)} "
                           f"(last day {deadline})")


class ShippingParties:
    """Who pays each leg: the return to the merchant, and the reshipment of an exchange or repair
    (003 §II.2-§II.4, 004 §3.4/§4.3/§4.4, 000 §3.3). Runs last: a returnless refund ships nothing.
    For an item a person must decide, the terms it would get are stated, not applied."""

    def apply(self, draft: Draft) -> None:
        if not draft.open or draft.resolution == Resolution.returnless_refund:
            return
        ground = draft.ground
        assert ground is not None
        outbound = draft.resolution in (Resolution.exchange, Resolution.repair)
        legs = (f"return shipping paid by {ground.return_shipping.value}"
                if ground.return_shipping != Party.nobody else "nothing to send back")
        if outbound:
            legs += f", reshipping paid by {ground.reshipping.value}"
        if not draft.eligible:
            draft.reasons.append(Reason(clause=ground.shipping_clause,
                                        text=f"if accepted: {draft.resolution.value}, {legs}"))
            return
        draft.return_shipping = ground.return_shipping
        draft.reshipping = ground.reshipping if outbound else Party.nobody
        draft.reasons.append(Reason(clause=ground.shipping_clause, text=legs))


class AttributeConditions:
    """Evidence, certificate numbers and checks that special items need (003 §IV.2 precious
    pearls, 003 §IV.1 same style, 004 §5.4 third-party work), and the special approval a person
    may give an item refused in principle (004 §4.5)."""

    def apply(self, draft: Draft) -> None:
        if not draft.open:
            return
        f = draft.facts
        for point in draft.held_points:  # refused in principle, in time: staff may approve it
            draft.review(point)
        for rule in _matching(f.policy.attribute_rules, f.attributes):
            _add_evidence(draft, rule.evidence)
            points = list(rule.review_points) + (list(rule.quality_review_points) if f.quality else [])
            for point in points:
                draft.review(point)
            for check in rule.inspection_checks:
                draft.add_check(check)
            if rule.require_certificate_number:
                number = f.line.attributes.certificate_number
                if number:
                    draft.review(f"{rule.clause}: certificate number on the order line: {number}")
                else:
                    draft.review(f"{rule.clause}: the order line carries no certificate number "
                                 f"to match against the outbound records")


class GroundReviewPoints:
    """Checks the ground asks for a given resolution (003 §III.2: confirm stock for exchanges)."""

    def apply(self, draft: Draft) -> None:
        if not draft.open or draft.resolution is None:
            return
        ground = draft.ground
        assert ground is not None
        if ground.verdict == "eligible":
            for point in ground.review_points:
                draft.review(point)
        for point in ground.review_points_by_resolution.get(draft.resolution, []):
            draft.review(point)


class EvidenceRequired:
    """What the customer must upload with the application (003 §II.1, §III.1; 004 §2.4)."""

    def apply(self, draft: Draft) -> None:
        if not draft.open:
            return
        f = draft.facts
        ground = draft.ground
        assert ground is not None
        _add_evidence(draft, ground.evidence)
        _add_evidence(draft, ground.evidence_by_reason.get(f.item.reason, []))
        missing = [k for k in draft.evidence_required if k not in f.item.evidence]
        if missing:
            check = f.policy.checks.evidence_missing
            draft.reasons.append(check.reason(missing=", ".join(EVIDENCE_WORDS[k] for k in missing)))
            draft.review(check.staff_point(missing=", ".join(k.value for k in missing)))


class DeclaredMissing:
    """Evidence the customer declares missing (not merely not uploaded), decided where the policy's
    text is clear (003 §VI.2 unconditional returns, 004 §5.5 / §2.3 non-quality returns); where it
    is not, a person sees what was declared."""

    def apply(self, draft: Draft) -> None:
        f = draft.facts
        declared = f.item.evidence_declared_missing
        if not declared or not draft.open:
            return
        ground = draft.ground
        assert ground is not None
        for rule in ground.refused_without:
            gone = [k for k in rule.evidence if k in declared]
            if gone:
                words = ", ".join(EVIDENCE_WORDS[k] for k in gone)
                draft.refuse(Reason(clause=rule.clause,
                                    text=f"{rule.text} (you told us you no longer have: {words})"))
                # Clear: nothing left for a person to decide on this item.
                draft.needs_person = False
                draft.review_points.clear()
                return
        draft.review(f"{f.policy.checks.evidence_missing.clause}: the customer declares missing: "
                     f"{', '.join(k.value for k in declared)}; decide whether the request can "
                     f"proceed without it")


class DeliveryDateKnown:
    """Windows count from the carrier's signature; without it, from the order date, and a person
    checks (004 §2 note, 003 §II "of receipt", 000 §1.4 "after receipt")."""

    def apply(self, draft: Draft) -> None:
        f = draft.facts
        if not f.delivery_known:
            check = f.policy.checks.delivery_date_missing
            draft.reasons.append(check.reason())
            draft.review(check.staff_point())


class BusinessBuyerNote:
    """A note the merchant wants on every professional buyer's request (000 §3.1)."""

    def apply(self, draft: Draft) -> None:
        note = draft.facts.policy.checks.business_buyer
        if note is not None and draft.facts.customer.type.value == "business":
            draft.reasons.append(note.reason())


class PolicyNotes:
    """Conditions of the whole policy stated on every item a ground covers (004 §7.2 customs
    duties borne by the customer, §7.3 wrong address or absent recipient)."""

    def apply(self, draft: Draft) -> None:
        if not draft.open:
            return
        f = draft.facts
        abroad = f.request.order.shipping_address.country != f.policy.merchant.return_address.country
        for note in f.policy.notes:
            if note.applies_to(draft.resolution) and (abroad or not note.abroad_only):
                draft.reasons.append(note.reason())
                if note.inspection_check:
                    draft.add_check(note.check())


ITEM_RULES = (ReasonCategory(), AttributeRestrictions(), GroundAndWindow(), DeclaredMissing(),
              AttributeConditions(), GroundReviewPoints(), EvidenceRequired(), DeliveryDateKnown(),
              BusinessBuyerNote(), PolicyNotes())


# --- request rules -----------------------------------------------------------------------------------
class ReturnlessRefund:
    """Refund without taking the item back when return shipping costs more than the goods, or the
    buyer ships from outside the merchant's region (000 §1.5)."""

    def apply(self, policy: MerchantPolicy, request: ReturnRequested, drafts: list[Draft]) -> None:
        rule = policy.returnless_refund
        if rule is None:
            return
        # Items with nothing to send back (lost parcels) are neither converted nor counted.
        travelling = [d for d in drafts if d.eligible and d.ground is not None
                      and d.ground.return_shipping != Party.nobody]
        candidates = [d for d in travelling if d.resolution in rule.resolutions]
        if not candidates:
            return
        why: Reason | None = None
        country = request.order.shipping_address.country
        currency = request.order.currency
        if rule.outside_region and not policy.in_region(rule.outside_region, country):
            why = Reason(clause=rule.clause, text=rule.region_text.format(country=country))
        elif rule.when_shipping_exceeds_value and request.estimated_return_shipping is not None:
            # Choice (docs/policies.md): the parcel's shipping is compared with the value of
            # everything that would travel in it, not item by item.
            parcel_value = sum(d.facts.paid for d in travelling)
            if request.estimated_return_shipping > parcel_value:
                why = Reason(clause=rule.clause, text=rule.value_text.format(
                    shipping=format_money(request.estimated_return_shipping, currency),
                    value=format_money(parcel_value, currency)))
        if why is None:
            return
        for draft in candidates:
            draft.resolution = Resolution.returnless_refund
            draft.resolution_reason = why
            draft.reasons.append(why)


class ShippingAddress:
    """No returns or exchanges to/from P.O. boxes and APO/FPO/DPO addresses (004 §2.5)."""

    def apply(self, policy: MerchantPolicy, request: ReturnRequested,
              drafts: list[Draft]) -> list[Reason]:
        rules = policy.address
        if rules is None:
            return []
        address = request.order.shipping_address
        text = " ".join(part for part in (address.line1, address.line2, address.city) if part)
        labels = [p.label for p in rules.refused if p.matches(text)]
        if labels:
            for draft in drafts:
                if draft.open and draft.resolution != Resolution.returnless_refund:
                    draft.review(f"{rules.clause}: ask the customer for a physical street address "
                                 f"(shipping address is a {' / '.join(labels)})")
        return [Reason(clause=rules.clause, text=f"{label} in the shipping address: {rules.text}")
                for label in labels]


class ComparisonPurchase:
    """Several units of one category bought, some returned for non-quality reasons while at least
    one is kept: a person decides whether it is a comparison purchase (004 §7.1)."""

    def apply(self, policy: MerchantPolicy, request: ReturnRequested, drafts: list[Draft]) -> None:
        check = policy.comparison_purchase
        if check is None:
            return
        ordered: dict[str, int] = defaultdict(int)
        for line in request.order.lines:
            if line.attributes.category:
                ordered[line.attributes.category] += line.quantity
        returned: dict[str, list[Draft]] = defaultdict(list)
        for draft in drafts:
            category = draft.facts.line.attributes.category
            if category and not draft.facts.quality and draft.open:
                returned[category].append(draft)
        for category, group in sorted(returned.items()):
            units = sum(d.facts.item.quantity for d in group)
            if ordered[category] >= 2 and units < ordered[category]:
                text = check.text.format(ordered=ordered[category], category=category,
                                         returned=units)
                for draft in group:
                    draft.review(f"{check.clause}: {text}")


# --- money -------------------------------------------------------------------------------------------
def fees_for(policy: MerchantPolicy, *, quality: bool, resolution: Resolution | None,
             attributes: frozenset[str] | set[str], comparison_purchase: bool, paid: int) -> list[Fee]:
    """Every fee rule of the policy whose conditions hold (004 §4.1, §4.5, §7.1)."""
    if resolution is None:
        return []
    fees = []
    for rule in policy.fees:
        if rule.quality is not None and rule.quality != quality:
            continue
        if resolution not in rule.resolutions:
            continue
        if rule.attributes and not set(attributes).intersection(rule.attributes):
            continue
        if rule.comparison_purchase is not None and rule.comparison_purchase != comparison_purchase:
            continue
        fees.append(Fee(kind=rule.kind, amount=percent_of(paid, rule.basis_points),
                        basis_points=rule.basis_points,
                        reason=Reason(clause=rule.clause, text=rule.text)))
    return fees


def refund_cap(policy: MerchantPolicy, paid: int, paid_excluding_tax: int,
               ground: Ground | None = None) -> int:
    """The most that may be refunded for the item (000 §2.1: price excluding tax), unless its
    ground says otherwise (000 §1.2: an L221-3 withdrawal refunds all sums paid)."""
    limit = ground.refund_limit if ground is not None and ground.refund_limit else policy.refund
    if limit.limit == "price_excluding_tax":
        return min(paid, paid_excluding_tax)
    return paid


def refund_after_fees(resolution: Resolution | None, cap: int, fees: list[Fee]) -> int:
    """Money back: the cap less the fees for refunds; nothing for exchanges and repairs."""
    if resolution not in (Resolution.refund, Resolution.returnless_refund):
        return 0
    owed = sum(f.amount for f in fees if not f.waived)
    return max(0, cap - owed)
