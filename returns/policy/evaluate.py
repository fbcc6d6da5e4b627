"""Try a policy on past returns: `python -m returns.policy.evaluate EVENTS.jsonl`.

Reads `return.requested` events (one JSON object per line; other event types are skipped), decides
each with the merchant's policy file and prints a table: return, line, verdict, resolution, refund,
fees, staff review, and every reason with its clause. Change a policy file, run it again on last
month's returns, compare. Invalid lines are reported with their line number and field; the exit
status is 1 if any line was invalid, 2 if the policy files themselves are broken.

    python -m returns.policy.evaluate returns.jsonl --policies policies/ --merchant fine-jewelry
    python -m returns.policy.evaluate returns.jsonl --json > decisions.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from returns.events import ReturnRequested
from returns.money import format_money
from returns.policy.decision import ItemDecision, ReturnDecision
from returns.policy.engine import decide
from returns.policy.registry import PolicyFileError, PolicyRegistry, UnknownMerchant

DEFAULT_POLICIES = Path(__file__).resolve().parents[2] / "policies"


def _validation_problems(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or '(event)'}: "
            f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors(include_url=False)]


def read_requests(stream: TextIO) -> Iterator[tuple[int, ReturnRequested | None, list[str]]]:
    """(line number, request or None, problems) for every non-blank line; other event types give
    (n, None, [])."""
    for n, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield n, None, [f"not valid JSON: {exc.msg} at column {exc.colno}"]
            continue
        if not isinstance(data, dict):
            yield n, None, ["(event): expected a JSON object"]
            continue
        if data.get("type", "return.requested") != "return.requested":
            yield n, None, []
            continue
        try:
            yield n, ReturnRequested.model_validate(data), []
        except ValidationError as exc:
            yield n, None, _validation_problems(exc)


def _verdict(item: ItemDecision) -> str:
    if item.eligible:
        return "eligible+review" if item.staff_review_required else "eligible"
    return "review" if item.staff_review_required else "refused"


def _resolution(item: ItemDecision) -> str:
    asked = item.requested_resolution.value
    if item.resolution is None:
        return f"{asked} -> none"
    return asked if item.resolution == item.requested_resolution else f"{asked} -> {item.resolution.value}"


def render(decision: ReturnDecision, return_id: str) -> str:
    cur = decision.currency
    lines = []
    header = (f"{return_id}  merchant={decision.merchant_id}  policy={decision.policy_version}  "
              f"decided_on={decision.decided_on}  refund_total={format_money(decision.refund_total, cur)}")
    if decision.auto_reject:
        header += "  AUTO-REJECT"
    lines.append(header)
    for reason in decision.auto_reject_reasons:
        lines.append(f"    auto-reject: {reason}")
    for reason in decision.address_problems:
        lines.append(f"    address: {reason}")
    lines.append(f"  {'line':<10} {'verdict':<16} {'resolution':<30} {'refund':>14} {'fees':>14}  review")
    for item in decision.items:
        lines.append(f"  {item.line_id:<10} {_verdict(item):<16} {_resolution(item):<30} "
                     f"{format_money(item.refund_amount, cur):>14} "
                     f"{format_money(item.fees_total, cur):>14}  "
                     f"{'yes' if item.staff_review_required else 'no'}")
        for point in item.staff_review_points:
            lines.append(f"      ! {point}")
        if item.resolution_reason:
            lines.append(f"      > {item.resolution_reason}")
        for reason in item.reasons:
            lines.append(f"      - {reason}")
    return "\n".join(lines)


def main(argv: list[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    parser = argparse.ArgumentParser(prog="python -m returns.policy.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("events", help="JSON Lines file of return.requested events ('-' for stdin)")
    parser.add_argument("--policies", type=Path, default=DEFAULT_POLICIES,
                        help=f"directory of policy files (default: {DEFAULT_POLICIES})")
    parser.add_argument("--merchant", help="only this merchant's returns")
    parser.add_argument("--json", action="store_true", help="one decision per line, as JSON")
    args = parser.parse_args(argv)

    try:
        registry = PolicyRegistry.load(args.policies)
    except PolicyFileError as exc:
        print(f"policy files are invalid:\n{exc}", file=err)
        return 2
    if args.merchant and args.merchant not in registry:
        print(str(UnknownMerchant(args.merchant, registry.merchant_ids)), file=err)
        return 2
    try:
        stream = sys.stdin if args.events == "-" else open(args.events, encoding="utf-8")
    except OSError as exc:
        print(f"{args.events}: cannot read: {exc.strerror}", file=err)
        return 2

    invalid = 0
    decided: list[ReturnDecision] = []
    with stream:
        for n, request, problems in read_requests(stream):
            if request is None:
                for problem in problems:
                    print(f"{args.events}:{n}: {problem}", file=err)
                invalid += bool(problems)
                continue
            if args.merchant and request.merchant_id != args.merchant:
                continue
            try:
                policy = registry.get(request.merchant_id)
            except UnknownMerchant as exc:
                print(f"{args.events}:{n}: merchant_id: {exc}", file=err)
                invalid += 1
                continue
            decision = decide(policy, request)
            decided.append(decision)
            if args.json:
                record = {"line": n, "return_id": request.return_id,
                          "decision": decision.model_dump(mode="json")}
                print(json.dumps(record, ensure_ascii=False), file=out)
            else:
                print(render(decision, request.return_id), file=out)
                print(file=out)

    if not args.json:
        print(_summary(decided, invalid), file=out)
    return 1 if invalid else 0


def _summary(decisions: list[ReturnDecision], invalid: int) -> str:
    items = [i for d in decisions for i in d.items]
    refunds: dict[str, int] = defaultdict(int)
    for d in decisions:
        refunds[d.currency] += d.refund_total
    money = ", ".join(format_money(v, c) for c, v in sorted(refunds.items())) or "nothing"
    return (f"{len(decisions)} returns, {len(items)} items: "
            f"{sum(i.eligible for i in items)} eligible, "
            f"{sum(i.staff_review_required for i in items)} for staff review, "
            f"{sum(d.auto_reject for d in decisions)} auto-rejected; refunds {money}; "
            f"{invalid} invalid lines")


if __name__ == "__main__":
    sys.exit(main())
