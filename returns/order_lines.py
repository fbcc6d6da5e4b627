"""What each order line still allows, across all the returns of one order (issue 15, point 4).

An order line was bought as so many units for so much money. Every return of the order draws on
the same line: a return *reserves* units when it is approved, *receives* at most what it reserved,
*claims* money before a refund is paid (then *confirms* what was paid or *releases* the claim),
*marks* units exchanged, and *releases* whatever it did not use when it ends. Nothing is ever
taken beyond what the line has left:

- units: the units reserved by all returns (refunded and exchanged ones stay counted) never exceed
  the units ordered; a return refunds or exchanges only units it reserved, receives at most what
  it reserved;
- money: a refund of some units never exceeds what those units cost (`paid * units / ordered`,
  rounded up so the remainder cent fits), and what is refunded and being refunded on a line
  never exceeds the share paid for all the units refunded so far (rounded down), nor what was
  paid. So a return of one unit of three cannot take the price of two, and two returns cannot
  race for money without racing for units.

Every request carries an idempotency key that begins with the return's reference (the return's
workflow id) and names the step (`return-R1:order-lines:reserve`). The same request again is a
no-op that answers what it answered the first time (`duplicate=True`); the same key with another
request is refused. A refused request changes nothing and says which line and which numbers.

`apply(ledger, request)` is the whole API: pure, no Temporal, no clock. The order workflow
(workflows/order_workflow.py) holds one ledger per order and calls it from its updates.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from returns.events import Identifier, Order
from returns.money import Currency, MinorUnits, allocate_in_order, format_money

# A return's workflow id (`return-<merchant>-<return>`) and a step key built on it.
ReturnRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$"),
                      Field(description="the return's workflow id, e.g. return-opalook-R-1")]
StepKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,299}$"),
                    Field(description="<return_ref>:<step>, e.g. return-opalook-R-1:order-lines:reserve")]
Units = Annotated[int, Field(ge=1, le=1000, strict=True, description="whole units, 1 to 1000")]


class OrderLineRefused(ValueError):
    """A request the order line does not allow; the message names the line and the numbers."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the order, as the guard sees it --------------------------------------------------------------
class LineSpec(_Model):
    line_id: Identifier
    units: Units = Field(description="units ordered")
    paid: MinorUnits = Field(description="paid for the whole line, tax included, in minor units")


class OrderSpec(_Model):
    """The lines of one order of one merchant: what the guard protects."""

    merchant_id: Identifier
    order_id: Identifier
    currency: Currency
    placed_at: AwareDatetime
    lines: Annotated[list[LineSpec], Field(min_length=1, max_length=200)]

    @model_validator(mode="after")
    def _unique_lines(self) -> "OrderSpec":
        _no_repeats([ln.line_id for ln in self.lines], "lines")
        return self

    @classmethod
    def of(cls, merchant_id: str, order: Order) -> "OrderSpec":
        """The guard's view of an order from a `return.requested` event."""
        return cls(merchant_id=merchant_id, order_id=order.order_id, currency=order.currency,
                   placed_at=order.placed_at,
                   lines=[LineSpec(line_id=ln.line_id, units=ln.quantity,
                                   paid=ln.unit_price * ln.quantity) for ln in order.lines])

    def line(self, line_id: str) -> LineSpec | None:
        return next((ln for ln in self.lines if ln.line_id == line_id), None)


def order_workflow_id(merchant_id: str, order_id: str) -> str:
    """One guard per order of one merchant: `order-<merchant_id>-<order_id>`."""
    return f"order-{merchant_id}-{order_id}"


def _no_repeats(ids: list[str], field: str) -> None:
    seen: set[str] = set()
    for i, line_id in enumerate(ids):
        if line_id in seen:
            raise ValueError(f"{field}[{i}].line_id: {line_id!r} appears twice")
        seen.add(line_id)


# --- requests ------------------------------------------------------------------------------------
class _Request(_Model):
    merchant_id: Identifier
    order_id: Identifier
    return_ref: ReturnRef
    idempotency_key: StepKey

    @model_validator(mode="after")
    def _key_of_the_return(self):
        if not self.idempotency_key.startswith(f"{self.return_ref}:"):
            raise ValueError(f"idempotency_key: must begin with the return's reference "
                             f"'{self.return_ref}:' and name the step")
        if hasattr(self, "lines"):
            _no_repeats([ln.line_id for ln in self.lines], "lines")
        return self


class ReserveLine(_Model):
    line_id: Identifier
    units: Units = Field(description="units this return takes back, refunds or exchanges")
    ordered: Units = Field(description="units ordered on the line, as this return's order says")
    paid: MinorUnits = Field(description="paid for the line, as this return's order says")


class UnitsOfLine(_Model):
    line_id: Identifier
    units: Units


class RefundOfLine(_Model):
    line_id: Identifier
    units: Units = Field(description="units this refund pays for")
    amount: MinorUnits = Field(description="minor units refunded for them")


Lines = Annotated[list[UnitsOfLine], Field(min_length=1, max_length=200)]


class Reserve(_Request):
    """At approval: the units of each line that will come back, be refunded or be exchanged."""

    kind: Literal["reserve"] = "reserve"
    lines: Annotated[list[ReserveLine], Field(min_length=1, max_length=200)]


class Receive(_Request):
    """At the warehouse: units received, never more than the return reserved."""

    kind: Literal["receive"] = "receive"
    lines: Lines


class ClaimRefund(_Request):
    """Before a refund is paid: the money of each line it pays, held until confirmed or released."""

    kind: Literal["claim_refund"] = "claim_refund"
    currency: Currency
    lines: Annotated[list[RefundOfLine], Field(min_length=1, max_length=200)]


class ConfirmRefund(_Request):
    """The claimed refund was paid: all of it, or `amount_paid` (a manual refund for less)."""

    kind: Literal["confirm_refund"] = "confirm_refund"
    claim_key: StepKey
    amount_paid: MinorUnits | None = Field(
        None, description="what was actually paid, if less than claimed; spread over the claim's "
                          "lines in order")


class ReleaseRefund(_Request):
    """The claimed refund was not paid: its money goes back to the lines."""

    kind: Literal["release_refund"] = "release_refund"
    claim_key: StepKey


class MarkExchanged(_Request):
    """An exchange shipped: these reserved units are settled by the replacement."""

    kind: Literal["mark_exchanged"] = "mark_exchanged"
    lines: Lines


class ReleaseReturn(_Request):
    """The return ended: every unit it reserved and did not refund or exchange goes back."""

    kind: Literal["release_return"] = "release_return"


Request = Annotated[Union[Reserve, Receive, ClaimRefund, ConfirmRefund, ReleaseRefund,
                          MarkExchanged, ReleaseReturn], Field(discriminator="kind")]


# --- answers -------------------------------------------------------------------------------------
class LineUse(_Model):
    """One line across all the returns of the order."""

    line_id: str
    ordered: int
    paid: int
    currency: str
    held: int  # units reserved by returns, refunded and exchanged ones included
    received: int
    refunded_units: int
    exchanged_units: int
    refunded: int  # money confirmed refunded
    claimed: int  # money being refunded (claimed, not yet confirmed or released)
    units_left: int
    money_left: int


class LinesAnswer(_Model):
    idempotency_key: str
    return_ref: str
    done: str  # what happened, in words
    lines: list[LineUse]
    duplicate: bool = False  # the same request again: nothing changed, this is the first answer


# --- state ---------------------------------------------------------------------------------------
class ReturnUse(_Model):
    """What one return holds of the order."""

    reserved: dict[str, int] = {}  # line -> units reserved (refunded/exchanged ones stay)
    received: dict[str, int] = {}
    refunded_units: dict[str, int] = {}
    exchanged_units: dict[str, int] = {}
    refunded: dict[str, int] = {}  # line -> money confirmed
    claims: dict[str, ClaimRefund] = {}  # pending claims by their key
    settled_claims: dict[str, Literal["confirmed", "released"]] = {}
    ended: bool = False

    def claimed_units(self, line_id: str) -> int:
        return sum(ln.units for c in self.claims.values() for ln in c.lines if ln.line_id == line_id)

    def free(self, line_id: str) -> int:
        """Reserved units not yet refunded, exchanged or being refunded."""
        return (self.reserved.get(line_id, 0) - self.refunded_units.get(line_id, 0)
                - self.exchanged_units.get(line_id, 0) - self.claimed_units(line_id))


class Applied(_Model):
    request: str  # the request as JSON, to tell a retry from another request under the same key
    answer: LinesAnswer


class OrderLedger(_Model):
    """Every return's use of one order's lines, and each applied request by its key."""

    order: OrderSpec
    returns: dict[str, ReturnUse] = {}
    applied: dict[str, Applied] = {}

    @classmethod
    def open(cls, order: OrderSpec) -> "OrderLedger":
        return cls(order=order)

    def use(self, line_id: str) -> LineUse:
        line = self.order.line(line_id)
        rs = self.returns.values()
        held = sum(r.reserved.get(line_id, 0) for r in rs)
        refunded = sum(r.refunded.get(line_id, 0) for r in rs)
        claimed = sum(ln.amount for r in rs for c in r.claims.values() for ln in c.lines
                      if ln.line_id == line_id)
        return LineUse(
            line_id=line_id, ordered=line.units, paid=line.paid, currency=self.order.currency,
            held=held, received=sum(r.received.get(line_id, 0) for r in rs),
            refunded_units=sum(r.refunded_units.get(line_id, 0) for r in rs),
            exchanged_units=sum(r.exchanged_units.get(line_id, 0) for r in rs),
            refunded=refunded, claimed=claimed, units_left=line.units - held,
            money_left=line.paid - refunded - claimed)

    def lines(self) -> list[LineUse]:
        return [self.use(ln.line_id) for ln in self.order.lines]

    def holding(self) -> list[str]:
        """The returns that still hold units or money of the order (not ended)."""
        return [ref for ref, r in self.returns.items() if not r.ended]

    def ever_settled(self) -> bool:
        """Anything was ever refunded or exchanged: a fresh ledger would forget it."""
        return any(r.refunded_units or r.exchanged_units or r.refunded
                   for r in self.returns.values())


# --- the operations ------------------------------------------------------------------------------
def apply(ledger: OrderLedger, request: Request) -> tuple[OrderLedger, LinesAnswer]:
    """`request` applied to a copy of `ledger`: (the new ledger, the answer).

    Raises OrderLineRefused (nothing changes) when the order lines do not allow it. The same
    request again under its key returns the ledger unchanged and the first answer, `duplicate`."""
    _belongs(ledger.order, request)
    seen = ledger.applied.get(request.idempotency_key)
    body = request.model_dump_json()
    if seen is not None:
        if seen.request != body:
            raise OrderLineRefused(
                f"idempotency_key: {request.idempotency_key!r} was already used for another "
                f"request ({seen.answer.done}); a new request needs a new step name")
        return ledger, seen.answer.model_copy(update={"duplicate": True})
    new = ledger.model_copy(deep=True)
    done, touched = _OPS[request.kind](new, request)
    answer = LinesAnswer(idempotency_key=request.idempotency_key, return_ref=request.return_ref,
                         done=done, lines=[new.use(line_id) for line_id in touched])
    new.applied[request.idempotency_key] = Applied(request=body, answer=answer)
    return new, answer


def _belongs(order: OrderSpec, request: _Request) -> None:
    if request.merchant_id != order.merchant_id:
        raise OrderLineRefused(f"merchant_id: order {order.order_id} here is not an order of "
                               f"merchant {request.merchant_id!r}")
    if request.order_id != order.order_id:
        raise OrderLineRefused(f"order_id: this guard holds order {order.order_id}, "
                               f"not {request.order_id!r}")


def _units(n: int) -> str:
    return f"{n} unit{'' if n == 1 else 's'}"


def _where(order: OrderSpec, line_id: str) -> str:
    return f"line {line_id} of order {order.order_id}"


def _line(order: OrderSpec, line_id: str, i: int) -> LineSpec:
    line = order.line(line_id)
    if line is None:
        known = ", ".join(ln.line_id for ln in order.lines)
        raise OrderLineRefused(f"lines[{i}].line_id: {line_id!r} is not a line of order "
                               f"{order.order_id} (its lines: {known})")
    return line


def _open_return(ledger: OrderLedger, ref: str, *, create: bool = False) -> ReturnUse:
    use = ledger.returns.get(ref)
    if use is None:
        if not create:
            raise OrderLineRefused(f"{ref} holds nothing of order {ledger.order.order_id}: "
                                   "its units are reserved at approval (reserve) first")
        use = ledger.returns[ref] = ReturnUse()
    if use.ended:
        raise OrderLineRefused(f"{ref} has ended and gave its units back to order "
                               f"{ledger.order.order_id}; it can hold nothing more")
    return use


def _holders(ledger: OrderLedger, line_id: str) -> str:
    parts = [f"{ref}: {r.reserved[line_id]}" for ref, r in ledger.returns.items()
             if r.reserved.get(line_id)]
    return ", ".join(parts) or "none"


def _reserve(ledger: OrderLedger, req: Reserve) -> tuple[str, list[str]]:
    order = ledger.order
    use = _open_return(ledger, req.return_ref, create=True)
    for i, ask in enumerate(req.lines):
        line = _line(order, ask.line_id, i)
        if (ask.ordered, ask.paid) != (line.units, line.paid):
            raise OrderLineRefused(
                f"{_where(order, ask.line_id)}: this return's order says {_units(ask.ordered)} "
                f"for {format_money(ask.paid, order.currency)}, but the order was first seen "
                f"with {_units(line.units)} for {format_money(line.paid, order.currency)}; "
                "the order changed: a person must check it")
        now = ledger.use(ask.line_id)
        if ask.units > now.units_left:
            raise OrderLineRefused(
                f"{_where(order, ask.line_id)}: cannot reserve {_units(ask.units)} for "
                f"{req.return_ref}: {now.ordered} ordered, {now.held} already under return, "
                f"refunded or exchanged ({_holders(ledger, ask.line_id)}), {now.units_left} left")
        use.reserved[ask.line_id] = use.reserved.get(ask.line_id, 0) + ask.units
    return (f"reserved {', '.join(f'{_units(a.units)} of {a.line_id}' for a in req.lines)} "
            f"for {req.return_ref}", [a.line_id for a in req.lines])


def _receive(ledger: OrderLedger, req: Receive) -> tuple[str, list[str]]:
    order = ledger.order
    use = _open_return(ledger, req.return_ref)
    for i, got in enumerate(req.lines):
        _line(order, got.line_id, i)
        reserved, received = use.reserved.get(got.line_id, 0), use.received.get(got.line_id, 0)
        if received + got.units > reserved:
            raise OrderLineRefused(
                f"{_where(order, got.line_id)}: {req.return_ref} cannot receive "
                f"{_units(got.units)} more: it reserved {reserved} at approval and "
                f"{received} {'was' if received == 1 else 'were'} already received")
        use.received[got.line_id] = received + got.units
    return (f"received {', '.join(f'{_units(g.units)} of {g.line_id}' for g in req.lines)} "
            f"for {req.return_ref}", [g.line_id for g in req.lines])


def _free_units(ledger: OrderLedger, use: ReturnUse, ref: str, line_id: str, units: int,
                what: str) -> None:
    free = use.free(line_id)
    if units > free:
        raise OrderLineRefused(
            f"{_where(ledger.order, line_id)}: {ref} cannot {what} {_units(units)}: it reserved "
            f"{use.reserved.get(line_id, 0)}, of which {use.refunded_units.get(line_id, 0)} "
            f"refunded, {use.exchanged_units.get(line_id, 0)} exchanged and "
            f"{use.claimed_units(line_id)} being refunded; {free} left")


def _claim(ledger: OrderLedger, req: ClaimRefund) -> tuple[str, list[str]]:
    order = ledger.order
    if req.currency != order.currency:
        raise OrderLineRefused(f"currency: {req.currency} is not the currency of order "
                               f"{order.order_id} ({order.currency})")
    use = _open_return(ledger, req.return_ref)
    money = lambda amount: format_money(amount, order.currency)  # noqa: E731
    for i, ask in enumerate(req.lines):
        line = _line(order, ask.line_id, i)
        _free_units(ledger, use, req.return_ref, ask.line_id, ask.units, "refund")
        now = ledger.use(ask.line_id)
        if ask.amount > now.money_left:
            raise OrderLineRefused(
                f"{_where(order, ask.line_id)}: cannot refund {money(ask.amount)} for "
                f"{req.return_ref}: {money(line.paid)} paid for the line, {money(now.refunded)} "
                f"refunded, {money(now.claimed)} being refunded, {money(now.money_left)} left")
        share = -(-line.paid * ask.units // line.units)  # rounded up: a remainder cent fits
        if ask.amount > share:
            raise OrderLineRefused(
                f"{_where(order, ask.line_id)}: cannot refund {money(ask.amount)} for "
                f"{_units(ask.units)} for {req.return_ref}: {_units(ask.units)} of "
                f"{line.units} cost {money(share)} of the {money(line.paid)} paid for the line")
        units_after = now.refunded_units + sum(
            ln.units for r in ledger.returns.values() for c in r.claims.values()
            for ln in c.lines if ln.line_id == ask.line_id) + ask.units
        cap = line.paid * units_after // line.units
        if now.refunded + now.claimed + ask.amount > cap:
            raise OrderLineRefused(
                f"{_where(order, ask.line_id)}: cannot refund {money(ask.amount)} for "
                f"{_units(ask.units)} for {req.return_ref}: {units_after} of {line.units} units "
                f"refunded would allow at most {money(cap)} in all, and "
                f"{money(now.refunded + now.claimed)} is already refunded or being refunded")
    use.claims[req.idempotency_key] = req  # lines are unique: no line of it saw another
    total = sum(ln.amount for ln in req.lines)
    parts = ", ".join(f"{money(a.amount)} for {_units(a.units)} of {a.line_id}" for a in req.lines)
    return (f"claimed {money(total)} ({parts}) for {req.return_ref}",
            [a.line_id for a in req.lines])


def _pending_claim(ledger: OrderLedger, use: ReturnUse, req: ConfirmRefund | ReleaseRefund) -> ClaimRefund:
    claim = use.claims.get(req.claim_key)
    if claim is None:
        settled = use.settled_claims.get(req.claim_key)
        raise OrderLineRefused(
            f"claim_key: the refund {req.claim_key!r} of {req.return_ref} was already {settled}"
            if settled else
            f"claim_key: {req.return_ref} has no refund claimed as {req.claim_key!r} "
            f"(pending: {', '.join(use.claims) or 'none'})")
    return claim


def _confirm(ledger: OrderLedger, req: ConfirmRefund) -> tuple[str, list[str]]:
    use = _open_return(ledger, req.return_ref)
    claim = _pending_claim(ledger, use, req)
    claimed = [ln.amount for ln in claim.lines]
    money = lambda amount: format_money(amount, ledger.order.currency)  # noqa: E731
    paid = sum(claimed) if req.amount_paid is None else req.amount_paid
    if paid > sum(claimed):
        raise OrderLineRefused(f"amount_paid: {money(paid)} is more than the {money(sum(claimed))} "
                               f"claimed by {req.claim_key}")
    for ln, amount in zip(claim.lines, allocate_in_order(paid, claimed)):
        use.refunded_units[ln.line_id] = use.refunded_units.get(ln.line_id, 0) + ln.units
        use.refunded[ln.line_id] = use.refunded.get(ln.line_id, 0) + amount
    del use.claims[req.claim_key]
    use.settled_claims[req.claim_key] = "confirmed"
    return (f"confirmed {money(paid)} refunded by {req.claim_key}",
            [ln.line_id for ln in claim.lines])


def _release_refund(ledger: OrderLedger, req: ReleaseRefund) -> tuple[str, list[str]]:
    use = _open_return(ledger, req.return_ref)
    claim = _pending_claim(ledger, use, req)
    del use.claims[req.claim_key]
    use.settled_claims[req.claim_key] = "released"
    total = format_money(sum(ln.amount for ln in claim.lines), ledger.order.currency)
    return f"released {total} claimed by {req.claim_key}", [ln.line_id for ln in claim.lines]


def _exchange(ledger: OrderLedger, req: MarkExchanged) -> tuple[str, list[str]]:
    use = _open_return(ledger, req.return_ref)
    for i, ex in enumerate(req.lines):
        _line(ledger.order, ex.line_id, i)
        _free_units(ledger, use, req.return_ref, ex.line_id, ex.units, "exchange")
        use.exchanged_units[ex.line_id] = use.exchanged_units.get(ex.line_id, 0) + ex.units
    return (f"exchanged {', '.join(f'{_units(e.units)} of {e.line_id}' for e in req.lines)} "
            f"for {req.return_ref}", [e.line_id for e in req.lines])


def _release_return(ledger: OrderLedger, req: ReleaseReturn) -> tuple[str, list[str]]:
    use = _open_return(ledger, req.return_ref, create=True)
    if use.claims:
        pending = ", ".join(
            f"{key} ({format_money(sum(ln.amount for ln in c.lines), ledger.order.currency)})"
            for key, c in use.claims.items())
        raise OrderLineRefused(f"{req.return_ref} cannot end while a refund it claimed is "
                               f"pending: {pending}; confirm or release it first")
    given_back = []
    for line_id, reserved in use.reserved.items():
        kept = use.refunded_units.get(line_id, 0) + use.exchanged_units.get(line_id, 0)
        if reserved > kept:
            given_back.append(f"{_units(reserved - kept)} of {line_id}")
            use.reserved[line_id] = kept
    use.ended = True
    return (f"{req.return_ref} ended; gave back {', '.join(given_back) or 'nothing'}",
            list(use.reserved))


_OPS = {
    "reserve": _reserve, "receive": _receive, "claim_refund": _claim, "confirm_refund": _confirm,
    "release_refund": _release_refund, "mark_exchanged": _exchange,
    "release_return": _release_return,
}


class ReturnHolding(_Model):
    return_ref: str
    ended: bool
    reserved: dict[str, int]
    pending_refunds: list[str]  # claim keys


class OrderLinesStatus(_Model):
    """The `status` query of the order workflow: every line and every return's holding."""

    merchant_id: str
    order_id: str
    currency: str
    lines: list[LineUse]
    returns: list[ReturnHolding]
    closed: str | None = None  # why this guard refuses everything, if it does


def status(ledger: OrderLedger, closed: str | None = None) -> OrderLinesStatus:
    return OrderLinesStatus(
        merchant_id=ledger.order.merchant_id, order_id=ledger.order.order_id,
        currency=ledger.order.currency, lines=ledger.lines(), closed=closed,
        returns=[ReturnHolding(return_ref=ref, ended=r.ended, reserved=dict(r.reserved),
                               pending_refunds=list(r.claims))
                 for ref, r in ledger.returns.items()])


__all__ = [
    "ClaimRefund", "ConfirmRefund", "LineSpec", "LineUse", "LinesAnswer", "MarkExchanged",
    "OrderLedger", "OrderLineRefused", "OrderLinesStatus", "OrderSpec", "Receive", "RefundOfLine",
    "ReleaseRefund", "ReleaseReturn", "Request", "Reserve", "ReserveLine", "ReturnHolding",
    "UnitsOfLine", "apply", "order_workflow_id", "status",
]
