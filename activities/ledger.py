"""`SqliteLedger`: the embedded default payment provider, a refund ledger in one SQLite file.

It behaves like a real provider so the workflow is exercised against real rules:

- Idempotency: a refund is stored under its `idempotency_key`. The same key again returns the
  same refund with `duplicate=True`; the same key with another amount, currency, order or return
  is refused, like Stripe's "Keys for idempotent requests can only be used with the same
  parameters they were first used with".
- Captures: the order's payments are registered from each request with INSERT OR IGNORE — the
  first registration of a payment wins, so a later request cannot inflate what was captured.
  A payment already registered for another order, or in another currency, is refused.
- Never more than captured: a refund is split across the request's payments in order (first
  payment first, `returns.money.allocate_in_order`) over what each still has unrefunded, and is
  refused when they cannot hold it.
- Safe with several workers: every refund is one `BEGIN IMMEDIATE` transaction (the write lock
  is taken before anything is read), in WAL mode, on a file that survives restarts.

Refused requests leave no trace (the transaction is rolled back). Blocking sqlite3 calls run in a
thread (`asyncio.to_thread`), one connection per call.

Ops: `sqlite3 .data/ledger.sqlite3 'select * from refunds'`, or the query helpers below.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from activities.contracts import RefundIssued, RefundRequest
from activities.payments import RefundRefused
from returns.money import allocate_in_order, format_money

MAX_AMOUNT = 10**15  # minor units; far above any order, well inside SQLite's 64-bit integers

_SCHEMA = """
CREATE TABLE IF NOT EXISTS captures (
    payment_id    TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL,
    currency      TEXT NOT NULL,
    method        TEXT NOT NULL,
    amount        INTEGER NOT NULL CHECK (amount >= 0),
    registered_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS captures_by_order ON captures(order_id);

CREATE TABLE IF NOT EXISTS refunds (
    refund_id       TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    return_id       TEXT NOT NULL,
    order_id        TEXT NOT NULL,
    currency        TEXT NOT NULL,
    amount          INTEGER NOT NULL CHECK (amount > 0),
    reason          TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS refunds_by_order ON refunds(order_id);

CREATE TABLE IF NOT EXISTS refund_splits (
    refund_id  TEXT NOT NULL REFERENCES refunds(refund_id),
    payment_id TEXT NOT NULL REFERENCES captures(payment_id),
    position   INTEGER NOT NULL,
    amount     INTEGER NOT NULL CHECK (amount > 0),
    PRIMARY KEY (refund_id, payment_id)
);
CREATE INDEX IF NOT EXISTS refund_splits_by_payment ON refund_splits(payment_id);
"""


@dataclass(frozen=True)
class LedgerRefund:
    """One refund as recorded in the ledger."""

    refund_id: str
    idempotency_key: str
    return_id: str
    order_id: str
    currency: str
    amount: int
    reason: str
    created_at: datetime
    splits: dict[str, int] = field(default_factory=dict)  # payment_id -> amount, in order


class SqliteLedger:
    """A refund provider backed by the SQLite file at `path` (created on first use)."""

    def __init__(self, path: Path, *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._ready = False
        self._init_lock = threading.Lock()

    # --- the provider ---------------------------------------------------------------------------
    async def refund(self, req: RefundRequest) -> RefundIssued:
        _validate(req)
        return await asyncio.to_thread(self._refund, req)

    def _refund(self, req: RefundRequest) -> RefundIssued:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                issued = self._refund_in_transaction(db, req)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return issued

    def _refund_in_transaction(self, db: sqlite3.Connection, req: RefundRequest) -> RefundIssued:
        previous = db.execute(
            "SELECT refund_id, return_id, order_id, currency, amount FROM refunds"
            " WHERE idempotency_key = ?", (req.idempotency_key,)).fetchone()
        if previous is not None:
            refund_id, return_id, order_id, currency, amount = previous
            if (return_id, order_id, currency, amount) != \
                    (req.return_id, req.order_id, req.currency, req.amount):
                raise RefundRefused(
                    f"idempotency_key: {req.idempotency_key!r} was already used for refund "
                    f"{refund_id} of {format_money(amount, currency)} on order {order_id} "
                    f"(return {return_id}); keys can only be reused with the same parameters")
            return RefundIssued(refund_id=refund_id, amount=amount, currency=currency,
                                splits=_splits(db, refund_id), duplicate=True)

        now = _now()
        db.executemany(
            "INSERT OR IGNORE INTO captures"
            " (payment_id, order_id, currency, method, amount, registered_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(p.payment_id, req.order_id, req.currency, p.method, p.amount, now)
             for p in req.payments])

        capacities: list[int] = []
        captured_total = refunded_total = 0
        for i, payment in enumerate(req.payments):
            order_id, currency, captured = db.execute(
                "SELECT order_id, currency, amount FROM captures WHERE payment_id = ?",
                (payment.payment_id,)).fetchone()
            if order_id != req.order_id:
                raise RefundRefused(
                    f"payments[{i}].payment_id: {payment.payment_id!r} was captured for another "
                    f"order, not {req.order_id}")
            if currency != req.currency:
                raise RefundRefused(
                    f"currency: payment {payment.payment_id} was captured in {currency}, "
                    f"the refund asks for {req.currency}")
            refunded = self._refunded(db, payment.payment_id)
            capacities.append(captured - refunded)
            captured_total += captured
            refunded_total += refunded

        available = sum(capacities)
        if req.amount > available:
            raise RefundRefused(
                f"amount: {format_money(req.amount, req.currency)} is more than the "
                f"{format_money(available, req.currency)} still refundable on order "
                f"{req.order_id} (captured {format_money(captured_total, req.currency)}, "
                f"already refunded {format_money(refunded_total, req.currency)})")

        parts = allocate_in_order(req.amount, capacities)
        refund_id = f"re_{uuid.uuid4().hex[:24]}"
        db.execute(
            "INSERT INTO refunds (refund_id, idempotency_key, return_id, order_id, currency,"
            " amount, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (refund_id, req.idempotency_key, req.return_id, req.order_id, req.currency,
             req.amount, req.reason, now))
        splits = {p.payment_id: part for p, part in zip(req.payments, parts) if part > 0}
        db.executemany(
            "INSERT INTO refund_splits (refund_id, payment_id, position, amount)"
            " VALUES (?, ?, ?, ?)",
            [(refund_id, pid, pos, amount) for pos, (pid, amount) in enumerate(splits.items())])
        return RefundIssued(refund_id=refund_id, amount=req.amount, currency=req.currency,
                            splits=splits)

    # --- queries for tests and ops --------------------------------------------------------------
    async def refunds(self, order_id: str | None = None) -> list[LedgerRefund]:
        """Every refund (of one order when `order_id` is given), oldest first."""
        return await asyncio.to_thread(self._refunds, order_id)

    async def refunded_total(self, payment_id: str) -> int:
        """Minor units refunded so far on one payment (0 if unknown)."""
        return await asyncio.to_thread(self._query_one, self._refunded, payment_id)

    async def captured(self, payment_id: str) -> int:
        """Minor units captured on one payment, as first registered (0 if unknown)."""
        def captured(db: sqlite3.Connection, pid: str) -> int:
            row = db.execute("SELECT amount FROM captures WHERE payment_id = ?",
                             (pid,)).fetchone()
            return 0 if row is None else row[0]
        return await asyncio.to_thread(self._query_one, captured, payment_id)

    def _query_one(self, fn, arg):
        with self._connect() as db:
            return fn(db, arg)

    @staticmethod
    def _refunded(db: sqlite3.Connection, payment_id: str) -> int:
        return db.execute("SELECT COALESCE(SUM(amount), 0) FROM refund_splits"
                          " WHERE payment_id = ?", (payment_id,)).fetchone()[0]

    def _refunds(self, order_id: str | None) -> list[LedgerRefund]:
        sql = ("SELECT refund_id, idempotency_key, return_id, order_id, currency, amount, reason,"
               " created_at FROM refunds")
        args: tuple = ()
        if order_id is not None:
            sql += " WHERE order_id = ?"
            args = (order_id,)
        sql += " ORDER BY created_at, rowid"
        with self._connect() as db:
            return [
                LedgerRefund(refund_id=r[0], idempotency_key=r[1], return_id=r[2],
                             order_id=r[3], currency=r[4], amount=r[5], reason=r[6],
                             created_at=datetime.fromisoformat(r[7]), splits=_splits(db, r[0]))
                for r in db.execute(sql, args).fetchall()
            ]

    # --- plumbing -------------------------------------------------------------------------------
    def _connect(self) -> "_Connection":
        if not self._ready:
            with self._init_lock:
                if not self._ready:
                    self._create()
                    self._ready = True
        return _Connection(self.path, self._busy_timeout)

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _Connection(self.path, self._busy_timeout) as db:
            # Switching to WAL takes an exclusive lock that SQLite's busy handler does not wait
            # for: when several workers open a new ledger at once, wait for the winner here.
            for attempt in range(200):
                try:
                    db.execute("PRAGMA journal_mode=WAL")
                    break
                except sqlite3.OperationalError as err:
                    if "locked" not in str(err) or attempt == 199:
                        raise
                    time.sleep(0.05)
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")


class _Connection:
    """One autocommit sqlite3 connection (transactions are explicit), closed on exit."""

    def __init__(self, path: Path, busy_timeout: float) -> None:
        self._db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA synchronous=FULL")  # a money ledger: durable at COMMIT

    def __enter__(self) -> sqlite3.Connection:
        return self._db

    def __exit__(self, *exc) -> None:
        self._db.close()


def _splits(db: sqlite3.Connection, refund_id: str) -> dict[str, int]:
    rows = db.execute("SELECT payment_id, amount FROM refund_splits WHERE refund_id = ?"
                      " ORDER BY position", (refund_id,)).fetchall()
    return {pid: amount for pid, amount in rows}


def _validate(req: RefundRequest) -> None:
    """Refuse requests no provider would accept, naming the field."""
    if req.amount <= 0:
        raise RefundRefused(f"amount: must be more than 0 minor units, got {req.amount}")
    if req.amount > MAX_AMOUNT:
        raise RefundRefused(f"amount: {req.amount} minor units is beyond any real order")
    c = req.currency
    if not (len(c) == 3 and c.isascii() and c.isalpha() and c.isupper()):
        raise RefundRefused(f"currency: must be a 3-letter upper-case ISO 4217 code, got {c!r}")
    if not req.idempotency_key:
        raise RefundRefused("idempotency_key: required")
    if not req.payments:
        raise RefundRefused(f"payments: order {req.order_id} lists no payment to refund to")
    seen: set[str] = set()
    for i, p in enumerate(req.payments):
        if p.payment_id in seen:
            raise RefundRefused(f"payments[{i}].payment_id: {p.payment_id!r} is listed twice")
        if p.amount > MAX_AMOUNT:
            raise RefundRefused(f"payments[{i}].amount: {p.amount} minor units is beyond any "
                                "real order")
        seen.add(p.payment_id)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


__all__ = ["LedgerRefund", "SqliteLedger"]
