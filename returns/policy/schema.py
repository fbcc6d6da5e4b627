"""The shape of a merchant policy file (`policies/<merchant>.toml`), as pydantic models.

A policy file is data an operations lead can read: every rule carries the clause of the merchant's
written policy it comes from. `docs/policies.md` explains every key. Loading and error messages
live in `registry.py`; the rules that read these models live in `rules.py`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from returns.events import Address, CustomerType, Email, EvidenceKind, Identifier, Resolution, ReturnReason
from returns.policy.decision import SLA, Calendar, DayUnit, Duration, FeeKind, MerchantContact, Party, Reason

Clause = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=300),
    Field(description='where the rule comes from, e.g. "004 §2.2" or "merchant default, not in seed"'),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
RegionName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
BasisPoints = Annotated[int, Field(ge=0, le=10_000, description="3000 = 30 %")]
WindowDays = Annotated[int, Field(ge=0, le=3660)]

# The line attributes a rule may name; `material:<x>` and `pearl_type:<x>` name values.
FLAG_ATTRIBUTES = ("customized", "engraved", "final_sale", "previously_exchanged", "third_party_modified")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(_Model):
    """A sentence of the policy with its clause; becomes a `Reason`."""

    clause: Clause
    text: Text

    def reason(self, **values: object) -> Reason:
        return Reason(clause=self.clause, text=self.text.format(**values) if values else self.text)


# --- [policy] and [merchant] ----------------------------------------------------------------------
class PolicyHeader(_Model):
    merchant_id: Identifier
    version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    seed: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] = ""
    title: Text
    # Nothing eligible and nothing for a person to look at: reject without bothering staff.
    auto_reject_ineligible: bool = False
    auto_reject_clause: Cited | None = None

    @model_validator(mode="after")
    def _clause_when_auto(self) -> "PolicyHeader":
        if self.auto_reject_ineligible and self.auto_reject_clause is None:
            raise ValueError("auto_reject_clause: required when auto_reject_ineligible is true")
        return self


class MerchantTable(_Model):
    name: Text
    return_address: Address
    support_email: Email
    staff_email: Email
    # The From: address of the merchant's emails. Optional here so a policy can be evaluated
    # alone; the worker refuses to start without it (returns/merchant_settings.py).
    sender_email: Email | None = None

    def contact(self) -> MerchantContact:
        return MerchantContact(name=self.name, return_address=self.return_address,
                               support_email=self.support_email, staff_email=self.staff_email,
                               sender_email=self.sender_email)


# --- [sla] ----------------------------------------------------------------------------------------
class TimeLimit(_Model):
    amount: Annotated[int, Field(ge=0, le=366)]
    unit: DayUnit
    clause: Clause

    def duration(self) -> Duration:
        return Duration(amount=self.amount, unit=self.unit)


class SLATable(_Model):
    calendar: Calendar
    calendar_clause: Clause
    review: TimeLimit
    ship_by: TimeLimit
    ship_by_reminder_before: TimeLimit
    inspection: TimeLimit
    refund: TimeLimit
    refund_escalate_before: TimeLimit
    reshipment: TimeLimit

    @field_validator("calendar")
    @classmethod
    def _known_timezone(cls, calendar: Calendar) -> Calendar:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(calendar.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {calendar.timezone!r}") from None
        return calendar

    def to_sla(self) -> SLA:
        names = ("review", "ship_by", "ship_by_reminder_before", "inspection", "refund",
                 "refund_escalate_before", "reshipment")
        limits: dict[str, TimeLimit] = {name: getattr(self, name) for name in names}
        return SLA(
            calendar=self.calendar,
            clauses={"calendar": self.calendar_clause} | {n: t.clause for n, t in limits.items()},
            **{n: t.duration() for n, t in limits.items()},
        )


# --- [reasons] --------------------------------------------------------------------------------------
class ReasonMeaning(_Model):
    """How the merchant's policy classifies one `ReturnReason`."""

    quality: bool
    clause: Clause
    meaning: Text


class Refusals(_Model):
    """What the customer is told when no ground of the policy covers their reason."""

    quality: Cited
    non_quality: Cited


# --- [[grounds]] ------------------------------------------------------------------------------------
class ResolutionWindow(_Model):
    days: WindowDays
    clause: Clause


class Window(_Model):
    """Calendar days from delivery (the carrier's signature) within which to ask; a resolution may
    have its own (004 §2.1 exchange 30 days, §2.2 return 15 days)."""

    days: WindowDays
    clause: Clause
    by_resolution: dict[Resolution, ResolutionWindow] = {}

    def days_for(self, resolution: Resolution) -> int:
        special = self.by_resolution.get(resolution)
        return special.days if special else self.days

    def clause_for(self, resolution: Resolution) -> str:
        special = self.by_resolution.get(resolution)
        return special.clause if special else self.clause


class Note(Cited):
    """A condition shown with the decision, optionally only for some resolutions."""

    resolutions: list[Resolution] = []  # empty: always
    # The condition is also an inspection check (003 §IV.2's way): listed on the status card as
    # "<clause>: <text>", confirmed per item by `record_inspection`, named to the customer when
    # it fails (004 §2.3, §6.2, 003 §II.3, §VI.1, 000 §2.1).
    inspection_check: bool = False
    # Money the customer pays before the reshipment, in an amount staff quote (004 §4.4 price
    # difference): collected, or recorded with a payment reference, before ship_to_customer.
    collect_before_shipping: bool = False

    def check(self) -> str:
        return f"{self.clause}: {self.text}"

    def applies_to(self, resolution: Resolution | None) -> bool:
        return not self.resolutions or resolution in self.resolutions


class PolicyNote(Note):
    """A condition shown on every item a ground covers (004 §7.2 customs, §7.3 wrong address)."""

    # Only when the order ships to another country than the merchant's return address (customs).
    abroad_only: bool = False


class MissingEvidenceRefusal(Cited):
    """The ground does not apply when the customer declares one of `evidence` missing
    (003 §VI.2: packaging, certificates or labels missing → no unconditional return)."""

    evidence: Annotated[list[EvidenceKind], Field(min_length=1)]


class Ground(_Model):
    """One way a customer may return an item (quality issue, cooling-off, warranty, ...).

    Grounds are tried in file order; the first whose reasons, buyer and window fit wins, so list
    the most generous first.
    """

    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    title: Text
    clause: Clause
    reasons: Annotated[list[ReturnReason], Field(min_length=1)]
    customer_types: Annotated[list[CustomerType], Field(min_length=1)] = [CustomerType.consumer,
                                                                          CustomerType.business]
    regions: list[RegionName] = []  # empty: any country; else the customer's country must be in one
    resolutions: Annotated[list[Resolution], Field(min_length=1)]
    # Asked for something this ground does not offer: grant this instead (and say why; a reason
    # for one asked resolution in `instead_reasons`, else `instead_clause`).
    instead: dict[Resolution, Resolution] = {}
    instead_clause: Cited | None = None
    instead_reasons: dict[Resolution, Cited] = {}
    window: Window
    # "review": the ground exists but a person decides (e.g. 000 §1.2 L221-3 exception).
    verdict: Literal["eligible", "review"] = "eligible"
    return_shipping: Party  # "nobody": nothing comes back (lost parcels), see `returnless`
    reshipping: Party
    shipping_clause: Clause
    # Nothing comes back (000 §1.3 lost products): a refund is paid without a return shipment
    # (resolution `returnless_refund`, this reason); an exchange is reshipped without one.
    returnless: Cited | None = None
    evidence: list[EvidenceKind] = []
    evidence_by_reason: dict[ReturnReason, list[EvidenceKind]] = {}
    evidence_clause: Clause | None = None
    review_points: list[Text] = []  # always shown to staff when this ground applies
    review_points_by_resolution: dict[Resolution, list[Text]] = {}  # e.g. exchange: check stock
    notes: list[Note] = []  # conditions checked later (e.g. unworn, verified at inspection)
    # This ground refunds otherwise than `[refund]` (000 §1.2: a withdrawal accepted under the
    # Consumer Code L221-3 exception refunds all sums paid, L221-24, not 000 §2.1's guarantee cap).
    refund_limit: "GroundRefundLimit | None" = None
    # No inspection fee on this ground, whatever `[inspection_fee]` says, and the customer is told
    # (003 §II.4: EU cooling-off returns "without bearing the return freight", the Directive).
    no_inspection_fee: Cited | None = None
    # An exchange on this ground is approved only once staff confirm the stock for it
    # (003 §III.2 "The platform will give priority to confirming inventory"): `Approve.stock_confirmed`.
    stock_check: Cited | None = None
    # Declared missing by the customer (`RequestedItem.evidence_declared_missing`): refused.
    refused_without: list[MissingEvidenceRefusal] = []

    @model_validator(mode="after")
    def _consistent(self) -> "Ground":
        for asked, granted in self.instead.items():
            if granted not in self.resolutions:
                raise ValueError(f"instead.{asked.value}: {granted.value!r} is not one of this "
                                 f"ground's resolutions")
        for asked in self.instead_reasons:
            if asked not in self.instead:
                raise ValueError(f"instead_reasons.{asked.value}: not a key of instead")
        if self.instead_clause is None and any(a not in self.instead_reasons for a in self.instead):
            raise ValueError("instead_clause: required when instead is set (or give every "
                             "asked resolution its instead_reasons)")
        if Resolution.returnless_refund in self.resolutions:
            raise ValueError("resolutions: returnless_refund is granted by [returnless_refund], "
                             "not asked for")
        for r in self.window.by_resolution:
            if r not in self.resolutions:
                raise ValueError(f"window.by_resolution.{r.value}: not one of this ground's "
                                 f"resolutions")
        if (self.evidence or self.evidence_by_reason) and not self.evidence_clause:
            raise ValueError("evidence_clause: required when evidence is listed")
        if (self.return_shipping == Party.nobody) != (self.returnless is not None):
            raise ValueError("returnless: set it (why nothing comes back) exactly when "
                             "return_shipping is \"nobody\"")
        if self.reshipping == Party.nobody and set(self.resolutions) & {Resolution.exchange,
                                                                        Resolution.repair}:
            raise ValueError("reshipping: an exchange or repair is shipped to the customer; say "
                             "who pays (merchant or customer)")
        if self.verdict == "review" and not self.review_points:
            raise ValueError("review_points: say what the person must check when verdict is review")
        return self


# --- [[attribute_rules]] ------------------------------------------------------------------------------
AttributeName = Annotated[
    str,
    StringConstraints(pattern=r"^(customized|engraved|final_sale|previously_exchanged|"
                              r"third_party_modified|(material|pearl_type):[a-z0-9_]{1,40})$"),
    Field(description='a flag attribute, or "material:<x>" / "pearl_type:<x>"'),
]


class AttributeRule(_Model):
    """Items with any of `attributes` are restricted (customized, special materials, ...)."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    clause: Clause
    text: Text
    attributes: Annotated[list[AttributeName], Field(min_length=1)]
    # Non-quality reasons: which resolutions remain possible ([] = not returnable at all).
    non_quality_resolutions: list[Resolution] | None = None  # None: no restriction
    # Quality reasons: which resolutions remain possible, and what to grant instead.
    quality_resolutions: list[Resolution] | None = None
    quality_instead: dict[Resolution, Resolution] = {}
    evidence: list[EvidenceKind] = []
    require_certificate_number: bool = False  # the order line must carry the certificate's number
    review_points: list[Text] = []  # a person must look at these items
    quality_review_points: list[Text] = []  # ... only when the reason is a quality issue
    # Refused "in principle" but staff may still specially approve it (004 §4.5): the item is not
    # eligible, yet it goes to a person with these points instead of being refused outright.
    refused_review_points: list[Text] = []
    # What the inspection must confirm before such an item passes (003 §IV.2: the certificate
    # matches the product number and the outbound records): record_inspection refuses a pass
    # without `checks_confirmed`.
    inspection_checks: list[Text] = []

    @model_validator(mode="after")
    def _consistent(self) -> "AttributeRule":
        if (self.refused_review_points and self.non_quality_resolutions is None
                and self.quality_resolutions is None):
            raise ValueError("refused_review_points: this rule restricts no resolution, so it "
                             "never refuses anything to review")
        for asked, granted in self.quality_instead.items():
            if self.quality_resolutions is not None and granted not in self.quality_resolutions:
                raise ValueError(f"quality_instead.{asked.value}: {granted.value!r} is not one of "
                                 f"quality_resolutions")
        return self


# --- [[fees]] ---------------------------------------------------------------------------------------
class FeeRule(_Model):
    """A percentage of what was paid for the item, charged when every condition holds.

    For a refund the fee is deducted; for an exchange it is owed by the customer before reshipping.
    """

    kind: FeeKind
    basis_points: BasisPoints
    clause: Clause
    text: Text
    quality: bool | None = None  # None: either
    resolutions: Annotated[list[Resolution], Field(min_length=1)]
    attributes: list[AttributeName] = []  # empty: any item; else the item has one of them
    comparison_purchase: bool | None = None  # None: either


# --- optional tables --------------------------------------------------------------------------------
class ReturnlessRefund(_Model):
    """Refund without taking the item back (000 §1.5)."""

    clause: Clause
    resolutions: Annotated[list[Resolution], Field(min_length=1)]  # asked resolutions converted
    when_shipping_exceeds_value: bool = False
    value_text: Text | None = None
    # The customer's shipping country outside this region: refund without return.
    outside_region: RegionName | None = None
    region_text: Text | None = None

    @model_validator(mode="after")
    def _texts(self) -> "ReturnlessRefund":
        if self.when_shipping_exceeds_value and not self.value_text:
            raise ValueError("value_text: required when when_shipping_exceeds_value is true")
        if self.outside_region and not self.region_text:
            raise ValueError("region_text: required when outside_region is set")
        return self


class AddressPattern(_Model):
    label: Text
    regex: Annotated[str, StringConstraints(min_length=1, max_length=300)]

    @field_validator("regex")
    @classmethod
    def _compiles(cls, regex: str) -> str:
        try:
            re.compile(regex)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return regex

    def matches(self, text: str) -> bool:
        return re.search(self.regex, text, re.IGNORECASE) is not None


class AddressRules(_Model):
    """Addresses the merchant will not ship returns/exchanges to or from."""

    clause: Clause
    text: Text
    refused: Annotated[list[AddressPattern], Field(min_length=1)]


class InspectionFee(_Model):
    """A fee staff may charge at inspection, in an amount they set (003 §V.1.4: "possible quality
    inspection fees (such as re-inspection fees)" for non-quality returns); deducted from the
    item's refund, never more than it."""

    clause: Clause
    text: Text
    quality: bool | None = False  # False: only non-quality returns; None: any


class InspectionFailed(_Model):
    """Who pays to ship back items that fail inspection (004 §3.7, 003 §III.4), told to the
    customer in the inspection-failed email."""

    paid_by: Party
    clause: Clause
    text: Text  # one sentence for the customer, without the clause

    @field_validator("paid_by")
    @classmethod
    def _someone_pays(cls, paid_by: Party) -> Party:
        if paid_by == Party.nobody:
            raise ValueError("the items travel back: say who pays, merchant or customer")
        return paid_by

    def sentence(self) -> str:
        """`text` as a sentence with its clause in brackets, like the emails' reasons."""
        text = self.text.rstrip(". ")
        return f"{text[:1].upper()}{text[1:]} ({self.clause})."


class ReturnPostage(_Model):
    """How much of the customer's return postage is reimbursed where the merchant bears it
    (004 §3.4: "limited to standard shipping fees, excluding value-added fees such as expedited
    and dedicated line services")."""

    standard_only: bool = True
    clause: Clause
    text: Text

    def cap(self) -> str:
        return f"{self.clause}: {self.text}"


class ExchangeShipment(_Model):
    """What the product sent in exchange must be, confirmed by staff before `ship_to_customer`
    (003 §V.2.3 "The exchanged products must be new products of the same quality as the original
    products, with a quality inspection certificate attached")."""

    checks: Annotated[list[Cited], Field(min_length=1)]


class RefundLimit(_Model):
    limit: Literal["price_paid", "price_excluding_tax"] = "price_paid"
    clause: Clause


class GroundRefundLimit(RefundLimit):
    """A ground's own limit, told to the customer with `text` (000 §1.2 L221-3 withdrawal)."""

    text: Text


Ground.model_rebuild()


class ComparisonPurchaseCheck(_Model):
    """Flag orders where several items of one category were bought and all but some returned."""

    clause: Clause
    text: Text


class Check(Cited):
    """A fixed check: `text` is the reason the customer reads, `staff_text` what staff must do."""

    staff_text: Text

    def staff_point(self, **values: object) -> str:
        return f"{self.clause}: {self.staff_text.format(**values) if values else self.staff_text}"


class Checks(_Model):
    """Clauses cited by the engine's fixed checks. Reasons are written for the customer; what
    staff must do goes to the review points only (`staff_text`)."""

    delivery_date_missing: Check  # no signature date: windows count from the order date
    evidence_missing: Check  # what to ask the customer for ({missing})
    business_buyer: Cited | None = None  # a note shown for B2B buyers


# --- the file -------------------------------------------------------------------------------------
class MerchantPolicy(_Model):
    policy: PolicyHeader
    merchant: MerchantTable
    sla: SLATable
    reasons: dict[ReturnReason, ReasonMeaning]
    refusals: Refusals
    regions: dict[RegionName, Annotated[list[CountryCode], Field(min_length=1)]] = {}
    grounds: Annotated[list[Ground], Field(min_length=1)]
    attribute_rules: list[AttributeRule] = []
    fees: list[FeeRule] = []
    refund: RefundLimit
    inspection_failed: InspectionFailed
    inspection_fee: InspectionFee | None = None
    return_postage: ReturnPostage | None = None
    # What staff confirm before an exchange ships (003 §V.2.3: new, same quality, certificate).
    exchange_shipment: ExchangeShipment | None = None
    # The original packaging must be used (003 §III.3, 004 §2.3): the approval email says "must".
    original_packaging: Cited | None = None
    returnless_refund: ReturnlessRefund | None = None
    address: AddressRules | None = None
    comparison_purchase: ComparisonPurchaseCheck | None = None
    notes: list[PolicyNote] = []  # shown on every item a ground covers
    checks: Checks

    @model_validator(mode="after")
    def _consistent(self) -> "MerchantPolicy":
        missing = [r.value for r in ReturnReason if r not in self.reasons]
        if missing:
            raise ValueError(f"reasons: every return reason must be classified; missing {missing}")
        ids = [g.id for g in self.grounds]
        if len(set(ids)) != len(ids):
            raise ValueError("grounds: each id must be unique")
        for i, ground in enumerate(self.grounds):
            for region in ground.regions:
                if region not in self.regions:
                    raise ValueError(f"grounds.{i}.regions: unknown region {region!r} "
                                     f"(define it under [regions])")
        rr = self.returnless_refund
        if rr and rr.outside_region and rr.outside_region not in self.regions:
            raise ValueError(f"returnless_refund.outside_region: unknown region "
                             f"{rr.outside_region!r} (define it under [regions])")
        return self

    @property
    def merchant_id(self) -> str:
        return self.policy.merchant_id

    @property
    def version(self) -> str:
        return self.policy.version

    def contact(self) -> MerchantContact:
        return self.merchant.contact()

    def sla_terms(self) -> SLA:
        return self.sla.to_sla()

    def is_quality(self, reason: ReturnReason) -> bool:
        return self.reasons[reason].quality

    def in_region(self, region: str, country: str) -> bool:
        return country in self.regions[region]
