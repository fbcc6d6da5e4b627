"""The operator reference of every action (docs/actions.md), generated from the action models so it
cannot drift from what the validators accept.

    python -m returns.actions_doc            write docs/actions.md
    python -m returns.actions_doc --check    exit 1 if docs/actions.md differs from the models

Each action's fields come from its pydantic model's JSON Schema (returns/actions.py): name, type
and bounds, required or default, and the field's description. Pure: no Temporal.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from returns.actions import (
    Acknowledge, Approve, Cancel, ExtendDeadline, RecordInspection, RecordManualRefund, Reject,
    RequestInfo, RetryRefund, ShipToCustomer, WarehouseReceipt,
)
from returns.allowed import Action

DOC = Path(__file__).resolve().parent.parent / "docs" / "actions.md"


@dataclass(frozen=True)
class Entry:
    model: type[BaseModel]
    kind: str  # "update" or "signal"
    when: str
    cli: str


ACTIONS: dict[Action, Entry] = {
    Action.approve: Entry(Approve, "update", "under review",
                          "returns approve R [--note] [--stock-confirmed LINE] [--waive-fees LINE] "
                          "[--accept LINE] [--resolution LINE=R] [--comparison-purchase LINE] "
                          "[--reason [LINE=]TEXT]"),
    Action.reject: Entry(Reject, "update", "under review", "returns reject R --reason TEXT"),
    Action.request_info: Entry(RequestInfo, "update", "under review",
                               "returns request-info R --question TEXT"),
    Action.warehouse_receipt: Entry(WarehouseReceipt, "signal",
                                    "from the approval until the inspection is recorded",
                                    "returns receive R [--item LINE=QTY] [--all] "
                                    "[--condition [LINE=]TEXT]"),
    Action.record_inspection: Entry(RecordInspection, "update", "inspecting",
                                    "returns inspect R --pass LINE / --fail LINE [--check LINE=N] "
                                    "[--checks-confirmed LINE] [--failed-check LINE=N] "
                                    "[--fee LINE=AMOUNT] [--postage AMOUNT --courier-reference REF]"),
    Action.extend_deadline: Entry(ExtendDeadline, "update", "a deadline is running",
                                  "returns extend R --deadline KIND --days N --reason TEXT"),
    Action.retry_refund: Entry(RetryRefund, "update", "the automatic refund failed",
                               "returns retry-refund R [--note]"),
    Action.record_manual_refund: Entry(RecordManualRefund, "update",
                                       "the automatic refund failed",
                                       "returns record-refund R --amount AMOUNT --reference REF"),
    Action.ship_to_customer: Entry(ShipToCustomer, "update",
                                   "exchange_shipping, repairing, returning_to_customer",
                                   "returns ship R --carrier C --tracking T [--paid REF=AMOUNT] "
                                   "[--fee-payment-reference REF] [--checks-confirmed]"),
    Action.cancel: Entry(Cancel, "update", "before a refund is being paid",
                         "returns cancel R --reason TEXT"),
    Action.acknowledge: Entry(Acknowledge, "update", "the return needs attention (not a failed "
                                                     "refund)", "returns acknowledge R --note TEXT"),
}


def _type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    """`integer, 1 to 60`, `one of: review, ship_by`, `list of text`, ... from a JSON Schema."""
    if "$ref" in prop:
        target = defs[prop["$ref"].split("/")[-1]]
        if "enum" in target:
            return "one of: " + ", ".join(f"`{v}`" for v in target["enum"])
        return "object"
    if "anyOf" in prop:
        kinds = [p for p in prop["anyOf"] if p.get("type") != "null"]
        return _type(kinds[0], defs) if len(kinds) == 1 else " or ".join(
            _type(k, defs) for k in kinds)
    kind = prop.get("type")
    if kind == "array":
        inner = _type(prop.get("items", {}), defs)
        bounds = []
        if "minItems" in prop:
            bounds.append(f"at least {prop['minItems']}")
        if "maxItems" in prop:
            bounds.append(f"at most {prop['maxItems']}")
        return f"list of {inner}" + (f" ({', '.join(bounds)})" if bounds else "")
    words = {"string": "text", "integer": "whole number", "boolean": "true / false"}.get(kind, kind or "any")
    bounds = []
    for key, say in (("minimum", "from"), ("exclusiveMinimum", "above"), ("maximum", "to"),
                     ("minLength", "length from"), ("maxLength", "length to")):
        if key in prop:
            bounds.append(f"{say} {prop[key]}")
    if "pattern" in prop:
        bounds.append(f"pattern `{prop['pattern']}`")
    return words + (f", {', '.join(bounds)}" if bounds else "")


def _object(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    """The object schema a field holds (directly, optionally, or as list items), if any."""
    for candidate in (prop, prop.get("items", {}), *prop.get("anyOf", [])):
        if "$ref" in candidate:
            target = defs[candidate["$ref"].split("/")[-1]]
            if "properties" in target:
                return target
        if candidate.get("type") == "array" and "$ref" in candidate.get("items", {}):
            return _object(candidate["items"], defs)
    return None


def rows(schema: dict[str, Any], defs: dict[str, Any], prefix: str = "") -> list[list[str]]:
    """One row per field, nested objects' fields under `parent.` / `parent[].`."""
    out = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        path = prefix + name
        default = ("required" if name in required
                   else f"default `{json.dumps(prop['default'])}`" if "default" in prop
                   else "optional")
        description = (prop.get("description") or "").replace("\n", " ").replace("|", "/")
        inner = _object(prop, defs)
        kind = "object" if inner is not None and prop.get("type") != "array" else _type(prop, defs)
        if inner is not None and (prop.get("type") == "array" or "items" in prop):
            kind = "list of objects"
        out.append([f"`{path}`", kind, default, description])
        if inner is not None:
            sep = "[]." if kind == "list of objects" else "."
            out += rows(inner, defs, path + sep)
    return out


def render() -> str:
    lines = [
        "# Actions: every field staff send",
        "",
        "<!-- Generated by `python -m returns.actions_doc` from returns/actions.py; do not edit. "
        "tests/ops/test_doc_examples.py fails when it differs from the models. -->",
        "",
        "Every action is ONE JSON object naming its `actor`, sent as the update or signal of that "
        "name (Temporal UI: **More Actions**; the `returns` command; the staff console). Types "
        "are strict: `\"120\"` is not `120`, `\"yes\"` is not `true`; an unknown field is "
        "refused, naming it. Amounts are whole minor units of the return's currency "
        "(`1250` EUR is 12.50 EUR); the `returns` command takes them as the status card prints "
        "them (`12.50`). Whether an action fits the return *now* is the validator's answer "
        "(the status card's **What you can do**). Examples that work on the demo returns: "
        "[operating-in-the-ui.md](operating-in-the-ui.md#acting-more-actions--send-an-update--send-a-signal).",
        "",
        "| action | kind | when | `returns` command |",
        "| --- | --- | --- | --- |",
    ]
    for action, entry in ACTIONS.items():
        lines.append(f"| [`{action.value}`](#{action.value}) | {entry.kind} | {entry.when} | "
                     f"`{entry.cli}` |")
    for action, entry in ACTIONS.items():
        schema = entry.model.model_json_schema(mode="validation")
        defs = schema.get("$defs", {})
        doc = (entry.model.__doc__ or "").strip().replace("\n", " ")
        lines += ["", f"## {action.value}", "", f"{entry.kind}, {entry.when}."
                  + (f" {' '.join(doc.split())}" if doc and not doc.startswith(entry.model.__name__ + "(") else ""),
                  "", "| field | type | | what |", "| --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(r) + " |" for r in rows(schema, defs)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m returns.actions_doc", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/actions.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC} differs from the models: run `python -m returns.actions_doc`",
                  file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
