"""`returns`: the warehouse and operations command line, beside the Temporal Web UI.

    returns list [--state S]... [--merchant M] [--order O] [--waiting-on WHO] [--needs-attention]
                 [--overdue [review|ship_by|inspection|refund|reshipment]] [--as-of WHEN]
                 [--all] [--limit N] [--show-query] [--json]
    returns show RETURN [--merchant M] [--json]
    returns receive [RETURN] [--merchant M] [--item LINE[=QTY]]... [--condition [LINE=]TEXT]... [--all] [--note TEXT]
    returns inspect RETURN [--merchant M] [--pass LINE[=QTY]]... [--fail LINE]... [--notes [LINE=]TEXT]...
                   [--failed-check LINE=N]... [--check LINE[=N]]... [--checks-confirmed LINE]... [--fee LINE=AMOUNT]...
                   [--postage AMOUNT --courier-reference REF [--standard-shipping AMOUNT]]
    returns approve RETURN [--merchant M] [--note TEXT] [--stock-confirmed LINE]...
                   [--waive-fees LINE]... [--accept LINE]... [--resolution LINE=RESOLUTION]...
                   [--comparison-purchase LINE]... [--reason [LINE=]TEXT]...
    returns reject RETURN [--merchant M] --reason TEXT
    returns request-info RETURN [--merchant M] --question TEXT
    returns ship RETURN [--merchant M] --carrier C --tracking T [--paid REF=AMOUNT]
                   [--fee-payment-reference REF] [--checks-confirmed] [--note TEXT]
    returns retry-refund RETURN [--merchant M] [--note TEXT]
    returns record-refund RETURN [--merchant M] --amount AMOUNT --reference REF [--note TEXT]
    returns extend RETURN [--merchant M] --deadline KIND --days N --reason TEXT
    returns cancel RETURN [--merchant M] --reason TEXT
    returns acknowledge RETURN [--merchant M] --note TEXT

AMOUNT is written as the status card shows it, in the return's currency (`12.50` or `12.50 EUR`);
the action carries it in minor units (1250).

RETURN is the return id, its workflow id (`return-<merchant>-<id>`) or what the label's barcode
holds (`RMA-<id>` on the embedded label, the carrier's tracking code on a carrier label), so a
barcode scanner can type it. It is found through the `ReturnId` and `LabelBarcode` search
attributes (and, for returns started a moment ago, the workflow ids of the merchants with a
policy); two merchants may both have a return `R-1`: then `--merchant` says which. `receive` without items asks line by line in a terminal; without a
RETURN it reads one from the terminal or stdin (a scanner). It sends the same signal
(`warehouse_receipt`) and every update (`approve`, `reject`, `request_info`, `record_inspection`,
`ship_to_customer`, `retry_refund`, `record_manual_refund`, `extend_deadline`, `cancel`,
`acknowledge`) as the Web UI and the staff console, with the same payloads (returns/actions.py); the actor is --actor, else $RETURNS_ACTOR, else the login
name. The connection comes from temporalio.envconfig (TEMPORAL_ADDRESS, ...), like the worker's.

Exit status: 0 done; 1 refused or failed (one line on stderr says why, never a traceback;
RETURNS_CLI_DEBUG=1 adds it); 2 wrong usage; 3 the receipt was sent but the return did not confirm
it in time (do not send it again: check `show`).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import re
import sys
import time
import traceback
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.service import RPCError, RPCStatusCode

from returns.actions import (
    Acknowledge, ActionResult, Approve, Cancel, CustomerPayment, ExtendDeadline, ItemInspection,
    ItemOverride, PostageReimbursement, ReceivedItem, RecordInspection, RecordManualRefund,
    Reject, RequestInfo, RetryRefund, ShipToCustomer, WarehouseReceipt,
)
from returns.work_order import due_first
from returns_cli.options import OptionError, confirmed_checks, minor_units
from returns import receipts
from returns.allowed import Now
from returns.status import ReceiptOutcome, ReturnStatus
from returns_cli import lookup
from returns_cli.lookup import WORKFLOW_ID_PREFIX, ReturnRef
from returns_cli import render
from returns_cli.queries import FilterError, Filters
from runtime.codec import CodecKeyError, UndecryptablePayload
from runtime.converter import describe_validation_error
from runtime.shutdown import exit_now
from workflows import names
from workflows import search_attributes as sa

DEFAULT_TIMEOUT = 30.0
EXIT_REFUSED, EXIT_USAGE, EXIT_UNCONFIRMED = 1, 2, 3


class CliError(Exception):
    """Shown as one line on stderr; `code` is the exit status."""

    def __init__(self, message: str, code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.code = code


# ------------------------------------------------------------------------------------ arguments
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def return_ref(text: str) -> str:
    """`R1` or the label's barcode `RMA-R1` -> `R1` (scanners may add spaces); a workflow id
    (`return-opalook-R1`) is kept whole: it is looked up as it is."""
    ref = text.strip()
    if ref.startswith("RMA-") and len(ref) > len("RMA-"):
        ref = ref[len("RMA-"):]
    if not ref or any(c.isspace() for c in ref):
        raise CliError(f"{text.strip()!r} is not a return id or a label barcode (RMA-<return id> "
                       "or the carrier's tracking code)")
    return ref


def split_line(value: str, option: str) -> tuple[str, str | None]:
    line, sep, rest = value.partition("=")
    if not line.strip():
        raise CliError(f"{option}: expected LINE or LINE=..., got {value!r}")
    return line.strip(), (rest.strip() if sep else None)


def quantity(text: str, option: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CliError(f"{option}: quantity {text!r} is not a whole number") from None
    if value < 0:
        raise CliError(f"{option}: quantity {value} is negative")
    return value


def per_line_texts(values: list[str], lines: set[str], option: str) -> tuple[str | None, dict[str, str]]:
    """`--notes TEXT` applies to every line; `--notes L2=TEXT` to line L2 only."""
    common, by_line = None, {}
    for value in values:
        line, sep, text = value.partition("=")
        if sep and line.strip() in lines:
            by_line[line.strip()] = text.strip()
        else:
            common = value.strip() if common is None else f"{common}; {value.strip()}"
    return common, by_line


def actor_of(args: argparse.Namespace) -> str:
    return (args.actor or os.environ.get("RETURNS_ACTOR") or getpass.getuser() or "").strip()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="returns", description=__doc__.split("\n\n")[0],
                     epilog="Details: docs/operating-in-the-ui.md")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _Parser(add_help=False)
    common.add_argument("--timeout", type=float, default=float(os.environ.get(
        "RETURNS_CLI_TIMEOUT", DEFAULT_TIMEOUT)), help="seconds to wait for Temporal (default 30)")
    acting = _Parser(add_help=False, parents=[common])
    acting.add_argument("--actor", help="who is acting (default $RETURNS_ACTOR, else the login name)")

    p = sub.add_parser("list", parents=[common], help="returns matching filters (the UI's list queries)",
                       description="Returns matching every filter given, most urgent deadline first. "
                                   "Open returns only, unless --all or a final --state.")
    p.add_argument("--state", action="append", default=[], help="ReturnState (repeatable: any of)")
    p.add_argument("--merchant", help="MerchantId")
    p.add_argument("--order", help="OrderId")
    p.add_argument("--waiting-on", help="WaitingOn: staff, customer, warehouse, carrier, "
                                        "payment provider, nobody")
    p.add_argument("--needs-attention", action="store_true", help="NeedsAttention=true")
    p.add_argument("--overdue", nargs="?", const="", metavar="DEADLINE",
                   help="next deadline already passed; optionally of this kind (review, ship_by, "
                        "inspection, refund, reshipment)")
    p.add_argument("--as-of", help="judge --overdue at this time (ISO 8601, default now)")
    p.add_argument("--all", action="store_true", help="include finished returns")
    p.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")
    p.add_argument("--show-query", action="store_true", help="print the query (to paste in the UI) first")
    p.add_argument("--json", action="store_true", help="JSON lines instead of a table")

    one = _Parser(add_help=False)
    one.add_argument("--merchant", help="the merchant of RETURN, when two merchants have a return "
                                        "with that id")

    p = sub.add_parser("show", parents=[common, one], help="one return: state, deadlines, items, amounts, audit")
    p.add_argument("ret", metavar="RETURN")
    p.add_argument("--json", action="store_true", help="the status query's JSON")

    p = sub.add_parser("receive", parents=[acting, one], help="record what arrived at the warehouse",
                       description="Record a warehouse receipt (signal warehouse_receipt). Without "
                                   "--item or --all, asks line by line in a terminal.")
    p.add_argument("ret", metavar="RETURN", nargs="?",
                   help="return id or label barcode; read from the terminal/stdin when missing")
    p.add_argument("--item", action="append", default=[], metavar="LINE[=QTY]",
                   help="a line and how many arrived (default 1; repeatable)")
    p.add_argument("--condition", action="append", default=[], metavar="[LINE=]TEXT",
                   help="condition noted on arrival, for every line or one line")
    p.add_argument("--all", action="store_true", help="everything still expected arrived")
    p.add_argument("--note", help="a note on the whole receipt")
    p.add_argument("--receipt-id", metavar="ID",
                   help="the scan's id; the same id again is recorded once (default: a new one)")
    p.add_argument("--force", action="store_true",
                   help="send even when it does not fit the return (staff are alerted)")

    p = sub.add_parser("inspect", parents=[acting, one], help="record the inspection of every received line",
                       description="Record the inspection (update record_inspection). Without "
                                   "--pass/--fail, asks line by line in a terminal.")
    p.add_argument("ret", metavar="RETURN")
    p.add_argument("--pass", dest="passed", action="append", default=[], metavar="LINE[=QTY]",
                   help="a line that passed (optionally how many units)")
    p.add_argument("--fail", dest="failed", action="append", default=[], metavar="LINE",
                   help="a line that failed")
    p.add_argument("--notes", action="append", default=[], metavar="[LINE=]TEXT",
                   help="inspection notes, for every line or one line")
    p.add_argument("--confirmed", action="append", default=[], metavar="LINE",
                   help="every check the status card lists for this line was confirmed "
                        "(checks_confirmed; required for a pass where the policy lists checks)")
    p.add_argument("--failed-check", dest="failed_checks", action="append", default=[],
                   metavar="LINE=N", help="the line failed its check number N (as the status card "
                                          "numbers them); the customer is told its clause")
    p.add_argument("--checks-confirmed", dest="confirmed", action="append", metavar="LINE",
                   help="the same as --confirmed: checks_confirmed for this line")
    p.add_argument("--check", dest="checks", action="append", default=[], metavar="LINE[=N]",
                   help="check number N the status card lists for this line was confirmed (e.g. "
                        "a pearl's certificate, 003 §IV.2); a pass needs every one; LINE alone: "
                        "all of them")
    p.add_argument("--fee", dest="fees", action="append", default=[], metavar="LINE=AMOUNT",
                   help="inspection fee for this line where the policy allows one (003 §V.1.4), "
                        "deducted from its refund")
    p.add_argument("--postage", metavar="AMOUNT",
                   help="the customer's return postage to reimburse (004 §3.4), with "
                        "--courier-reference")
    p.add_argument("--courier-reference", metavar="REF", help="the courier's document for --postage")
    p.add_argument("--standard-shipping", metavar="AMOUNT",
                   help="the standard rate for that parcel, where only standard shipping is "
                        "reimbursed")

    p = sub.add_parser("approve", parents=[acting, one], help="approve a return under review")
    p.add_argument("ret", metavar="RETURN")
    p.add_argument("--note", help="a note for the customer's email")
    p.add_argument("--stock-confirmed", dest="stock_confirmed", action="append", default=[],
                   metavar="LINE", help="the stock for this line's exchange is confirmed "
                                        "(003 §III.2: required where the policy checks stock)")
    p.add_argument("--waive-fees", action="append", default=[], metavar="LINE",
                   help="override: waive this line's fees (needs --reason)")
    p.add_argument("--accept", action="append", default=[], metavar="LINE",
                   help="override: accept this line the policy refused (needs --reason)")
    p.add_argument("--resolution", action="append", default=[], metavar="LINE=RESOLUTION",
                   help="override: grant refund, exchange, repair or returnless_refund instead "
                        "(needs --reason)")
    p.add_argument("--comparison-purchase", action="append", default=[], metavar="LINE",
                   help="override: staff judged this line a comparison purchase (004 §7.1; "
                        "needs --reason)")
    p.add_argument("--reason", dest="reasons", action="append", default=[], metavar="[LINE=]TEXT",
                   help="why the overrides (every overridden line, or LINE=TEXT for one)")

    p = sub.add_parser("reject", parents=[acting, one], help="reject a return under review")
    p.add_argument("ret", metavar="RETURN")
    p.add_argument("--reason", required=True, help="why (the customer is told)")

    p = sub.add_parser("request-info", parents=[acting, one],
                       help="ask the customer a question during the review (update request_info)")
    p.add_argument("ret", metavar="RETURN")
    p.add_argument("--question", required=True, help="emailed to the customer")

    p = sub.add_parser("ship", parents=[acting, one],
                       help="record the shipment to the customer: exchange, repair, failed item "
                            "(update ship_to_customer)")
    p.add_argument("ret", metavar="RETURN")
    p.add_argument("--carrier", required=True)
    p.add_argument("--tracking", required=True, help="the tracking number")
    p.add_argument("--paid", metavar="REF=AMOUNT",
                   help="the customer's payment of what they owe first (customer_payment: the "
                        "status card's 'The customer owes')")
    p.add_argument("--fee-payment-reference", metavar="REF",
                   help="the customer's payment of the exchange fees, where only fees are owed")
    p.add_argument("--checks-confirmed", action="store_true",
                   help="what the policy asks of the product sent in exchange was checked "
                        "(003 §V.2.3)")
    p.add_argument("--note")

    p = sub.add_parser("retry-refund", parents=[acting, one],
                       help="try the failed refund again (update retry_refund)")
    p.add_argument("ret", metavar="RETURN")
    p.add_argument("--note")

    p = sub.add_parser("record-refund", parents=[acting, one],
                       help="record a refund made outside the system after the automatic one "
                            "failed (update record_manual_refund)")
    p.add_argument("ret", metavar="RETURN")
    p.add_argument("--amount", required=True, metavar="AMOUNT", help="what was refunded")
    p.add_argument("--reference", required=True, help="the bank's or provider's reference")
    p.add_argument("--note")

    p = sub.add_parser("extend", parents=[acting, one],
                       help="move a running deadline (update extend_deadline; the customer is told)")
    p.add_argument("ret", metavar="RETURN")
    p.add_argument("--deadline", required=True,
                   help="review, ship_by, inspection, refund or reshipment")
    p.add_argument("--days", required=True, type=int, help="in the policy's unit for it")
    p.add_argument("--reason", required=True, help="written for the customer")

    p = sub.add_parser("cancel", parents=[acting, one],
                       help="stop the return (update cancel; not while a refund is being paid)")
    p.add_argument("ret", metavar="RETURN")
    p.add_argument("--reason", required=True)

    p = sub.add_parser("acknowledge", parents=[acting, one],
                       help="you dealt with what the return needs attention for: clear it")
    p.add_argument("ret", metavar="RETURN")
    p.add_argument("--note", required=True, help="what you did (kept in the audit trail)")
    return parser


# ------------------------------------------------------------------------------------ Temporal
def one_line(err: BaseException, limit: int = 300) -> str:
    """The first line of an error's message (its type when it has none), at most `limit` long."""
    text = (str(err).strip().splitlines() or [""])[0].strip() or type(err).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"


def temporal_target() -> str:
    """Where the CLI connects (for messages); '?' when the settings cannot be read."""
    from runtime.client import connect_config

    try:
        return connect_config()["target_host"]
    except Exception:
        return "?"


async def connect(timeout: float) -> Client:
    from runtime.client import connect as connect_client, connect_config

    try:
        target = connect_config()["target_host"]
    except Exception as err:  # a missing TEMPORAL_PROFILE, an unreadable config file
        raise CliError(f"cannot read the Temporal connection settings (TEMPORAL_ADDRESS, "
                       f"TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE): {one_line(err)}") from None
    try:
        return await asyncio.wait_for(connect_client(), timeout)
    except asyncio.TimeoutError:
        raise CliError(f"cannot connect to Temporal at {target}: no answer within {timeout:.0f}s") from None
    except RuntimeError as err:
        # The core's message nests the OS error: `... message: "Connection refused" })))`.
        reasons = re.findall(r'message: "([^"]+)"', str(err))
        if not reasons and "dns error" in str(err):
            reasons = ["the host name does not resolve"]
        reason = reasons[-1] if reasons else one_line(err, 200)
        raise CliError(f"cannot connect to Temporal at {target}: {reason}") from None
    except OSError as err:  # e.g. a TLS certificate file that is not there
        where = f" ({err.filename})" if getattr(err, "filename", None) else ""
        raise CliError(f"cannot connect to Temporal at {target}: {err.strerror or one_line(err)}"
                       f"{where}") from None
    except (ValueError, TypeError) as err:  # an address that is not host:port
        raise CliError(f"cannot connect to Temporal at {target}: {one_line(err, 200)}") from None


async def resolve(client: Client, text: str, timeout: float,
                  merchant: str | None = None) -> ReturnRef:
    """The return `text` names: a workflow id (`return-<merchant>-<id>`), a return id, the
    embedded label's barcode (`RMA-<id>`) or any label's barcode (a carrier's tracking code).
    One readable CliError when nothing matches, or more than one return does: two merchants with
    the same return id ask for `--merchant`."""
    raw = text.strip()
    return_id = return_ref(text)
    try:
        found = await lookup.find_returns(client, raw, return_id, merchant=merchant,
                                          timeout=timeout)
    except lookup.LookupFailed as err:
        raise CliError(str(err)) from None
    if not found:
        if raw.startswith(WORKFLOW_ID_PREFIX):
            raise CliError(f"no return {raw}")
        where = f" at merchant {merchant}" if merchant else ""
        raise CliError((f"no return {return_id}" if raw != return_id else
                        f"no return or label barcode {raw}") + where)
    if len(found) == 1:
        return found[0]
    ids = sorted({ref.return_id for ref in found})
    if len(ids) == 1:
        merchants = ", ".join(sorted(ref.merchant_id for ref in found))
        raise CliError(f"return {ids[0]} exists at {len(found)} merchants ({merchants}): give "
                       "--merchant")
    raise CliError(f"the label barcode {raw} is on {len(found)} returns: "
                   f"{', '.join(str(ref) for ref in sorted(found))}; give the return id instead")


def failure_message(err: BaseException) -> str:
    """The innermost readable message: a validator's ApplicationError, not the SDK's wrapper."""
    while isinstance(err, FailureError) and err.cause is not None and not isinstance(err, ApplicationError):
        err = err.cause
    if isinstance(err, WorkflowUpdateFailedError) and err.cause is not None:
        err = err.cause
    return getattr(err, "message", None) or str(err)


async def why_unreachable(handle: WorkflowHandle, return_id: ReturnRef) -> CliError:
    """NOT_FOUND: no such return, or it has finished and takes no more actions."""
    try:
        description = await handle.describe()
    except RPCError:
        return CliError(f"no return {return_id}")
    if description.status == WorkflowExecutionStatus.RUNNING:
        return CliError(f"return {return_id} is not reachable right now; try again")
    state = description.typed_search_attributes.get(sa.RETURN_STATE) or "finished"
    return CliError(f"return {return_id} is finished ({state}); nothing more can be recorded")


async def fetch_status(client: Client, return_id: ReturnRef, timeout: float) -> ReturnStatus:
    handle = client.get_workflow_handle(return_id.workflow_id)
    try:
        return await handle.query(names.QUERY_STATUS, result_type=ReturnStatus,
                                  rpc_timeout=timedelta(seconds=timeout))
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise CliError(f"no return {return_id}") from None
        if err.status == RPCStatusCode.DEADLINE_EXCEEDED:
            raise CliError(f"return {return_id} did not answer within {timeout:.0f}s: is the "
                           "worker running?") from None
        raise CliError(f"cannot read return {return_id}: {err.message}") from None
    except WorkflowQueryFailedError as err:
        raise CliError(f"cannot read return {return_id}: {err.message}") from None
    except UndecryptablePayload as err:
        raise CliError(f"cannot decrypt return {return_id}: {err}") from None


async def send_update(client: Client, return_id: ReturnRef, name: str, action: BaseModel,
                      timeout: float) -> ActionResult | None:
    """Run one update; None when the workflow accepted it but has not finished within `timeout`."""
    handle = client.get_workflow_handle(return_id.workflow_id)
    try:
        update = await handle.start_update(name, action, wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                                           result_type=ActionResult,
                                           rpc_timeout=timedelta(seconds=timeout))
        return await asyncio.wait_for(update.result(), timeout)
    except WorkflowUpdateFailedError as err:
        raise CliError(f"{name} refused: {failure_message(err)}") from None
    except asyncio.TimeoutError:
        return None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise await why_unreachable(handle, return_id) from None
        if err.status == RPCStatusCode.DEADLINE_EXCEEDED:
            raise CliError(f"return {return_id} did not answer within {timeout:.0f}s: is the "
                           "worker running?") from None
        raise CliError(f"{name} failed: {err.message}") from None


def model(cls: type[BaseModel], what: str, **fields: Any) -> BaseModel:
    """The action as JSON, validated as the workflow validates what the UI sends (strict: enum
    values such as `ship_by` are taken as JSON strings)."""
    try:
        return cls.model_validate_json(json.dumps(to_jsonable_python(
            {k: v for k, v in fields.items() if v is not None})))
    except ValidationError as err:
        raise CliError(f"invalid {what}: {describe_validation_error(err)}") from None


# ------------------------------------------------------------------------------------ commands
def list_query(args: argparse.Namespace) -> str:
    """The visibility query of `returns list`'s options."""
    as_of = None
    if args.as_of:
        try:
            as_of = datetime.fromisoformat(args.as_of.replace("Z", "+00:00"))
        except ValueError:
            raise CliError(f"--as-of: {args.as_of!r} is not an ISO 8601 date or time") from None
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=timezone.utc)
    filters = Filters(states=args.state, merchant=args.merchant, order=args.order,
                      needs_attention=args.needs_attention, overdue=args.overdue,
                      waiting_on=args.waiting_on, include_finished=args.all, as_of=as_of)
    try:
        return filters.query()
    except FilterError as err:
        raise CliError(str(err), EXIT_USAGE) from None


async def cmd_list(client: Client, args: argparse.Namespace) -> int:
    query = list_query(args)
    if args.show_query:
        print(f"query: {query}")
    found: list[render.ListedReturn] = []
    try:
        async for w in client.list_workflows(query, limit=args.limit,
                                             rpc_timeout=timedelta(seconds=args.timeout)):
            attrs = w.typed_search_attributes
            found.append(render.ListedReturn(
                return_id=attrs.get(sa.RETURN_ID) or w.id,
                state=attrs.get(sa.RETURN_STATE) or "?",
                waiting_on=attrs.get(sa.WAITING_ON) or "—",
                merchant_id=attrs.get(sa.MERCHANT_ID) or "?",
                order_id=attrs.get(sa.ORDER_ID) or "?",
                next_deadline=attrs.get(sa.NEXT_DEADLINE),
                next_deadline_kind=attrs.get(sa.NEXT_DEADLINE_KIND),
                refund_amount=attrs.get(sa.REFUND_AMOUNT),
                currency=attrs.get(sa.CURRENCY),
                needs_attention=bool(attrs.get(sa.NEEDS_ATTENTION)),
                execution_status=(w.status.name.lower() if w.status else "unknown"),
                requested_at=attrs.get(sa.REQUESTED_AT),
            ))
    except RPCError as err:
        raise CliError(f"the list query was refused: {err.message}") from None
    # What is due first; open work without a deadline before finished returns (returns.work_order).
    found.sort(key=lambda r: due_first(
        running=r.execution_status == "running", next_deadline=r.next_deadline,
        needs_attention=r.needs_attention, requested_at=r.requested_at, return_id=r.return_id))
    if args.json:
        for r in found:
            row = dict(r.__dict__, next_deadline=r.next_deadline.isoformat() if r.next_deadline else None,
                       requested_at=r.requested_at.isoformat() if r.requested_at else None)
            print(json.dumps(row))
    else:
        print(render.list_rows(found, datetime.now(timezone.utc)))
    return 0


async def cmd_show(client: Client, args: argparse.Namespace) -> int:
    status = await fetch_status(client, await resolve(client, args.ret, args.timeout, args.merchant),
                                args.timeout)
    print(status.model_dump_json(indent=2) if args.json
          else render.status_text(status, datetime.now(timezone.utc)))
    return 0


def ask(prompt: str) -> str:
    try:
        return input(prompt).strip()
    except EOFError:
        raise CliError("no answer (end of input); nothing was sent") from None


def ask_quantity(prompt: str, default: int) -> int:
    while True:
        answer = ask(prompt)
        if not answer:
            return default
        try:
            value = int(answer)
            if value >= 0:
                return value
        except ValueError:
            pass
        print(f"  a whole number from 0, please (Enter for {default})")


def ask_yes(prompt: str, default: bool = True) -> bool:
    while True:
        answer = ask(prompt).lower()
        if not answer:
            return default
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        print("  y or n, please")


def receipt_problems(status: ReturnStatus, items: dict[str, int]) -> list[str]:
    """The workflow's own checks (it refuses such a receipt and alerts staff), said up front."""
    receipt = WarehouseReceipt.model_construct(items=[
        ReceivedItem.model_construct(line_id=line, quantity=qty) for line, qty in items.items()])
    return receipts.receipt_problems(Now.of(status), receipts.expected_units(status.items),
                                     receipts.received_units(status.items), receipt)


def prompt_receipt(status: ReturnStatus) -> tuple[dict[str, int], dict[str, str]]:
    print(f"Return {status.return_id} · {status.state.value.replace('_', ' ')} · "
          f"{status.merchant_id} order {status.order_id}")
    items: dict[str, int] = {}
    conditions: dict[str, str] = {}
    for line in render.expected_lines(status):
        left = line.quantity_requested - line.quantity_received
        print(f"{line.line_id}  {line.title} ({line.sku}): expected {line.quantity_requested}, "
              f"received so far {line.quantity_received}")
        if left <= 0:
            print("  all received already")
            continue
        qty = ask_quantity(f"  how many arrived? [{left}] ", left)
        if qty:
            items[line.line_id] = qty
            condition = ask("  condition (Enter if as expected): ")
            if condition:
                conditions[line.line_id] = condition
    return items, conditions


async def cmd_receive(client: Client, args: argparse.Namespace) -> int:
    interactive = sys.stdin.isatty()
    ref = args.ret
    if ref is None:
        ref = ask("Scan the label or type the return id: ") if interactive else sys.stdin.readline()
        if not ref.strip():
            raise CliError("no return given: pass RETURN, or scan/type it on stdin")
    return_id = await resolve(client, ref, args.timeout, args.merchant)
    actor = actor_of(args)
    status = await fetch_status(client, return_id, args.timeout)
    lines = {i.line_id for i in status.items}

    items: dict[str, int] = {}
    for value in args.item:
        line, qty = split_line(value, "--item")
        items[line] = items.get(line, 0) + (quantity(qty, "--item") if qty is not None else 1)
    common, conditions = per_line_texts(args.condition, lines, "--condition")
    if args.all:
        for line in render.expected_lines(status):
            left = line.quantity_requested - line.quantity_received
            if left > 0 and line.line_id not in items:
                items[line.line_id] = left
    if not items and not args.all:
        if not interactive:
            raise CliError("no items: give --item LINE=QUANTITY (repeatable) or --all; in a "
                           "terminal you are asked line by line", EXIT_USAGE)
        problems = receipt_problems(status, {})
        if problems:
            raise CliError(f"cannot record a receipt for return {return_id}: {problems[0]}")
        items, conditions = prompt_receipt(status)
        if items and not ask_yes("Record " + ", ".join(f"{k} x{v}" for k, v in items.items())
                                 + f" as received by {actor}? [Y/n] "):
            raise CliError("nothing sent")
    items = {line: qty for line, qty in items.items() if qty > 0}
    if not items:
        raise CliError(f"nothing to record for return {return_id}: no item arrived"
                       + (" (everything expected is received already)" if args.all else ""))
    problems = receipt_problems(status, items)
    if problems and not args.force:
        raise CliError(f"not recorded for return {return_id}: {'; '.join(problems)} "
                       "(--force sends it anyway and alerts staff)")
    receipt = model(WarehouseReceipt, "receipt", actor=actor, note=args.note,
                    receipt_id=args.receipt_id or f"scan-{uuid.uuid4().hex[:12]}", items=[
        ReceivedItem(line_id=line, quantity=qty, condition=conditions.get(line, common))
        for line, qty in items.items()])

    handle = client.get_workflow_handle(return_id.workflow_id)
    try:
        await handle.signal(names.SIGNAL_WAREHOUSE_RECEIPT, receipt,
                            rpc_timeout=timedelta(seconds=args.timeout))
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise await why_unreachable(handle, return_id) from None
        raise CliError(f"receipt not sent: {err.message}") from None
    summary = ", ".join(f"{i.line_id} x{i.quantity}" + (f" ({i.condition})" if i.condition else "")
                        for i in receipt.items)
    # A signal has no answer: wait until the return lists what became of this receipt id.
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        now = await fetch_status(client, return_id, args.timeout)
        taken = [r for r in now.receipts if r.receipt_id == receipt.receipt_id]
        if taken:
            log = taken[-1]
            if log.outcome == ReceiptOutcome.refused:
                raise CliError(f"receipt refused for return {return_id}: {log.detail} (staff "
                               "are alerted)")
            if log.outcome == ReceiptOutcome.repeat:
                print(f"receipt {receipt.receipt_id} was already recorded for return "
                      f"{return_id}; not counted again")
                return 0
            print(f"received for return {return_id}: {summary}; the return is now "
                  f"{now.state.value}")
            return 0
        await asyncio.sleep(0.3)
    raise CliError(f"receipt sent for return {return_id} ({summary}) but not confirmed within "
                   f"{args.timeout:.0f}s; do not send it again: check `returns show {return_id}`",
                   EXIT_UNCONFIRMED)


def prompt_inspection(status: ReturnStatus) -> list[ItemInspection]:
    results = []
    for line in status.items:
        if line.quantity_received <= 0:
            continue
        failed = [n for n, check in enumerate(line.inspection_checks, 1)
                  if not ask_yes(f"{line.line_id} check {n}: {check}\n  confirmed? [Y/n] ")]
        passed = not failed and ask_yes(f"{line.line_id}  {line.title}: "
                                        f"{line.quantity_received} received; passed? [Y/n] ")
        notes = ask("  notes (Enter for none): ") or None
        results.append(ItemInspection(line_id=line.line_id, passed=passed, notes=notes,
                                      checks_confirmed=passed and bool(line.inspection_checks),
                                      failed_checks=failed))
    return results


async def cmd_inspect(client: Client, args: argparse.Namespace) -> int:
    return_id = await resolve(client, args.ret, args.timeout, args.merchant)
    if not args.passed and not args.failed:
        if not sys.stdin.isatty():
            raise CliError("no result: give --pass LINE and/or --fail LINE for every received "
                           "line; in a terminal you are asked line by line", EXIT_USAGE)
        results = prompt_inspection(await fetch_status(client, return_id, args.timeout))
    else:
        passed = dict(split_line(v, "--pass") for v in args.passed)
        failed = [split_line(v, "--fail")[0] for v in args.failed]
        both = sorted(set(passed) & set(failed))
        if both:
            raise CliError(f"line {both[0]} cannot both pass and fail", EXIT_USAGE)
        common, notes = per_line_texts(args.notes, set(passed) | set(failed), "--notes")
        confirmed = {split_line(v, "--confirmed")[0] for v in args.confirmed}
        failed_checks: dict[str, list[int]] = {}
        for v in args.failed_checks:
            line, number = split_line(v, "--failed-check")
            if number is None:
                raise CliError(f"--failed-check: expected LINE=N, got {v!r}", EXIT_USAGE)
            failed_checks.setdefault(line, []).append(quantity(number, "--failed-check"))
        status = (await fetch_status(client, return_id, args.timeout)
                  if args.checks or args.fees or args.postage else None)
        # A failed line names its failed checks (--failed-check); its confirmations do not count.
        confirmed |= checks_of(status, [v for v in args.checks
                                        if split_line(v, "--check")[0] not in failed])
        fees = fees_of(status, args.fees)
        results = [model(ItemInspection, "inspection", line_id=line, passed=True,
                         notes=notes.get(line, common),
                         quantity=quantity(qty, "--pass") if qty is not None else None,
                         checks_confirmed=line in confirmed, inspection_fee=fees.get(line),
                         failed_checks=failed_checks.get(line, []))
                   for line, qty in passed.items()]
        results += [model(ItemInspection, "inspection", line_id=line, passed=False,
                          notes=notes.get(line, common), inspection_fee=fees.get(line),
                          failed_checks=failed_checks.get(line, []))
                    for line in failed]
    postage = postage_of(await fetch_status(client, return_id, args.timeout)
                         if args.postage else None, args)
    action = model(RecordInspection, "inspection", actor=actor_of(args), items=results,
                   postage_reimbursement=postage)
    return report(return_id, names.UPDATE_RECORD_INSPECTION,
                  await send_update(client, return_id, names.UPDATE_RECORD_INSPECTION, action,
                                    args.timeout))


def checks_of(status: ReturnStatus | None, values: list[str]) -> set[str]:
    """`--check LINE=N`... -> the lines whose every listed check was confirmed."""
    by_line: dict[str, list[int | None]] = {}
    for value in values:
        line, number = split_line(value, "--check")
        by_line.setdefault(line, []).append(
            None if number is None else quantity(number, "--check"))
    confirmed = set()
    for line, numbers in by_line.items():
        item = next((i for i in status.items if i.line_id == line), None) if status else None
        if item is None:
            raise CliError(f"--check: line {line!r} is not part of this return")
        try:
            if confirmed_checks(item, numbers):
                confirmed.add(line)
        except OptionError as err:
            raise CliError(str(err)) from None
    return confirmed


def amount_of(text: str, currency: str, option: str) -> int:
    try:
        return minor_units(text, currency, option)
    except OptionError as err:
        raise CliError(str(err)) from None


def fees_of(status: ReturnStatus | None, values: list[str]) -> dict[str, int]:
    """`--fee LINE=AMOUNT`... -> inspection_fee per line, in minor units."""
    fees = {}
    for value in values:
        line, amount = split_line(value, "--fee")
        if amount is None:
            raise CliError(f"--fee: expected LINE=AMOUNT, got {value!r}", EXIT_USAGE)
        fees[line] = amount_of(amount, status.currency, "--fee")
    return fees


def postage_of(status: ReturnStatus | None, args: argparse.Namespace) -> PostageReimbursement | None:
    if status is None:
        if args.courier_reference or args.standard_shipping:
            raise CliError("--courier-reference and --standard-shipping go with --postage AMOUNT",
                           EXIT_USAGE)
        return None
    if not args.courier_reference:
        raise CliError("--postage: give the courier's document with --courier-reference REF",
                       EXIT_USAGE)
    return model(PostageReimbursement, "postage reimbursement",
                 amount=amount_of(args.postage, status.currency, "--postage"),
                 courier_reference=args.courier_reference,
                 standard_shipping=amount_of(args.standard_shipping, status.currency,
                                             "--standard-shipping")
                 if args.standard_shipping else None)


def overrides_of(args: argparse.Namespace) -> list[ItemOverride]:
    """`--waive-fees L1 --reason "loyal customer"` -> one ItemOverride per line named."""
    lines: dict[str, dict[str, Any]] = {}
    for line in args.waive_fees:
        lines.setdefault(line.strip(), {})["waive_fees"] = True
    for line in args.accept:
        lines.setdefault(line.strip(), {})["accept_exception"] = True
    for line in args.comparison_purchase:
        lines.setdefault(line.strip(), {})["comparison_purchase"] = True
    for value in args.resolution:
        line, resolution = split_line(value, "--resolution")
        if not resolution:
            raise CliError(f"--resolution: expected LINE=RESOLUTION, got {value!r}", EXIT_USAGE)
        lines.setdefault(line, {})["resolution"] = resolution
    common, reasons = per_line_texts(args.reasons, set(lines), "--reason")
    if args.reasons and not lines:
        raise CliError("--reason goes with an override: --waive-fees, --accept, --resolution or "
                       "--comparison-purchase", EXIT_USAGE)
    overrides = []
    for line, fields in lines.items():
        reason = reasons.get(line, common)
        if not reason:
            raise CliError(f"line {line}: an override needs --reason (why, kept in the audit "
                           "trail)", EXIT_USAGE)
        overrides.append(model(ItemOverride, "override", line_id=line, reason=reason, **fields))
    return overrides


async def cmd_approve(client: Client, args: argparse.Namespace) -> int:
    return_id = await resolve(client, args.ret, args.timeout, args.merchant)
    action = model(Approve, "approval", actor=actor_of(args), note=args.note,
                   stock_confirmed=args.stock_confirmed, overrides=overrides_of(args))
    return report(return_id, names.UPDATE_APPROVE,
                  await send_update(client, return_id, names.UPDATE_APPROVE, action, args.timeout))


async def cmd_reject(client: Client, args: argparse.Namespace) -> int:
    return_id = await resolve(client, args.ret, args.timeout, args.merchant)
    action = model(Reject, "rejection", actor=actor_of(args), reason=args.reason)
    return report(return_id, names.UPDATE_REJECT,
                  await send_update(client, return_id, names.UPDATE_REJECT, action, args.timeout))


async def cmd_acknowledge(client: Client, args: argparse.Namespace) -> int:
    return_id = await resolve(client, args.ret, args.timeout, args.merchant)
    action = model(Acknowledge, "acknowledgement", actor=actor_of(args), note=args.note)
    return report(return_id, names.UPDATE_ACKNOWLEDGE,
                  await send_update(client, return_id, names.UPDATE_ACKNOWLEDGE, action,
                                    args.timeout))


async def cmd_request_info(client: Client, args: argparse.Namespace) -> int:
    return await send(client, args, names.UPDATE_REQUEST_INFO,
                      lambda status: model(RequestInfo, "request", actor=actor_of(args),
                                           question=args.question))


async def cmd_ship(client: Client, args: argparse.Namespace) -> int:
    def action(status: ReturnStatus | None) -> BaseModel:
        payment = None
        if args.paid:
            reference, amount = split_line(args.paid, "--paid")
            if amount is None:
                raise CliError(f"--paid: expected REF=AMOUNT, got {args.paid!r}", EXIT_USAGE)
            payment = model(CustomerPayment, "customer payment", reference=reference,
                            amount=amount_of(amount, status.currency, "--paid"))
        return model(ShipToCustomer, "shipment", actor=actor_of(args), carrier=args.carrier,
                     tracking_number=args.tracking, customer_payment=payment,
                     fee_payment_reference=args.fee_payment_reference,
                     checks_confirmed=args.checks_confirmed, note=args.note)

    return await send(client, args, names.UPDATE_SHIP_TO_CUSTOMER, action, needs_status=bool(args.paid))


async def cmd_retry_refund(client: Client, args: argparse.Namespace) -> int:
    return await send(client, args, names.UPDATE_RETRY_REFUND,
                      lambda status: model(RetryRefund, "refund retry", actor=actor_of(args),
                                           note=args.note))


async def cmd_record_refund(client: Client, args: argparse.Namespace) -> int:
    return await send(client, args, names.UPDATE_RECORD_MANUAL_REFUND,
                      lambda status: model(RecordManualRefund, "manual refund",
                                           actor=actor_of(args),
                                           amount=amount_of(args.amount, status.currency, "--amount"),
                                           reference=args.reference, note=args.note),
                      needs_status=True)


async def cmd_extend(client: Client, args: argparse.Namespace) -> int:
    return await send(client, args, names.UPDATE_EXTEND_DEADLINE,
                      lambda status: model(ExtendDeadline, "extension", actor=actor_of(args),
                                           deadline=args.deadline, days=args.days,
                                           reason=args.reason))


async def cmd_cancel(client: Client, args: argparse.Namespace) -> int:
    return await send(client, args, names.UPDATE_CANCEL,
                      lambda status: model(Cancel, "cancellation", actor=actor_of(args),
                                           reason=args.reason))


async def send(client: Client, args: argparse.Namespace, name: str, build,
               needs_status: bool = False) -> int:
    """Resolve RETURN, build the action (from its status when an amount needs its currency),
    send the update, report."""
    return_id = await resolve(client, args.ret, args.timeout, args.merchant)
    status = await fetch_status(client, return_id, args.timeout) if needs_status else None
    action = build(status)
    return report(return_id, name, await send_update(client, return_id, name, action,
                                                     args.timeout))


def report(return_id: ReturnRef, name: str, result: ActionResult | None) -> int:
    if result is None:
        print(f"{name} accepted for return {return_id}; it is still being carried out "
              f"(check with `returns show {return_id}`)")
    else:
        print(f"{name}: {result.message} (return {return_id} is now {result.state})")
    return 0


COMMANDS = {"list": cmd_list, "show": cmd_show, "receive": cmd_receive, "inspect": cmd_inspect,
            "approve": cmd_approve, "reject": cmd_reject, "acknowledge": cmd_acknowledge,
            "request-info": cmd_request_info, "ship": cmd_ship, "retry-refund": cmd_retry_refund,
            "record-refund": cmd_record_refund, "extend": cmd_extend, "cancel": cmd_cancel}


async def run(args: argparse.Namespace) -> int:
    client = await connect(args.timeout)
    return await COMMANDS[args.command](client, args)


def cli(argv: list[str] | None = None) -> int:
    """Run one command; the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(run(args))
    except BrokenPipeError:
        # `returns show R1 | head`: the reader has what it wanted; end quietly (not Temporal's
        # fault), and keep the interpreter from complaining when it flushes stdout at exit.
        quiet_stdout()
        return 0
    except CliError as err:
        print(f"returns: {err}", file=sys.stderr)
        return err.code
    except CodecKeyError as err:
        print(f"returns: {err}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("returns: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # anything else: still one line, never a traceback
        if os.environ.get("RETURNS_CLI_DEBUG"):
            traceback.print_exc()
        print(f"returns: {unexpected(err)}", file=sys.stderr)
        return EXIT_REFUSED


def quiet_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered for a closed pipe is dropped."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def unexpected(err: Exception) -> str:
    """One line for an error no command expected: what failed and, for Temporal, where."""
    if isinstance(err, RPCError):
        return (f"Temporal at {temporal_target()} answered {err.status.name}: "
                f"{one_line(err)}")
    if isinstance(err, (ConnectionError, TimeoutError)):
        return f"lost the connection to Temporal at {temporal_target()}: {one_line(err)}"
    return (f"unexpected error: {type(err).__name__}: {one_line(err)} "
            "(RETURNS_CLI_DEBUG=1 shows the traceback)")


def main() -> None:
    """The `returns` console script."""
    try:
        code = cli()
    except SystemExit as done:  # argparse: --help, usage errors
        code = done.code if isinstance(done.code, int) else 0 if done.code is None else EXIT_USAGE
    except BrokenPipeError:  # `returns --help | head`
        quiet_stdout()
        code = 0
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the last of the output, for a reader that has gone
        quiet_stdout()
    exit_now(code)


if __name__ == "__main__":
    main()
