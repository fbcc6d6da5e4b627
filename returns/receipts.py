"""Warehouse receipts: whether one fits the return. The workflow refuses (and raises to staff) a
receipt that does not; `returns receive` says the same before sending it."""

from __future__ import annotations

from returns.actions import WarehouseReceipt
from returns.allowed import Action, Now, refusal
from returns.status import ItemStatus


def expected_units(items: list[ItemStatus]) -> dict[str, int]:
    """Units the warehouse should receive per line: eligible items that travel back."""
    return {i.line_id: i.quantity_requested for i in items
            if i.eligible and i.resolution is not None and i.needs_return_shipment}


def received_units(items: list[ItemStatus]) -> dict[str, int]:
    return {i.line_id: i.quantity_received for i in items if i.quantity_received}


def receipt_problems(now: Now, expected: dict[str, int], received: dict[str, int],
                     receipt: WarehouseReceipt) -> list[str]:
    """What is wrong with `receipt`: `expected` is the units coming back per line, `received` the
    units already recorded per line. Empty when it fits."""
    turn = refusal(Action.warehouse_receipt, now)
    if turn:
        return [turn]
    problems = []
    for item in receipt.items:
        if item.line_id not in expected:
            problems.append(f"line {item.line_id!r} is not part of this return (expected: "
                            f"{', '.join(sorted(expected)) or 'nothing'})")
            continue
        total = received.get(item.line_id, 0) + item.quantity
        if total > expected[item.line_id]:
            problems.append(f"line {item.line_id}: {total} received but only "
                            f"{expected[item.line_id]} are being returned")
    return problems
