"""The side effects of one full return, timed alone: the real worker's own activities (eight
emails into the Maildir outbox, the PDF label, the ledger's refund, and the deadlines and policy
the stub worker keeps), each called with a full return's real argument, outside Temporal.
docs/performance.md, "The floor with data".

    .venv/bin/python bench/side_effects.py PLAN [--rounds 40]

PLAN is the `data-plan.json` that bench/lifecycle.py writes and prints (a full return's
activities, arguments and results, decrypted from its history). Each round renames what must be
unique (idempotency keys, the RMA number, the order and its payment), so every call does the work
again instead of answering "already done". CPU is the process's (threads included), per call.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import sys
import tempfile
import time
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from temporalio import activity  # noqa: E402
from temporalio.testing import ActivityEnvironment  # noqa: E402

from activities import contracts as c  # noqa: E402

# The stub worker's answers at once for these (bench/stub_worker.py): the side effects proper.
STUBBED = {c.SEND_NOTIFICATION, c.CREATE_RETURN_LABEL, c.ISSUE_REFUND}


def renamed(arg, r: int):
    """The argument of round r: unique keys, RMA number, order and payments."""
    update = {}
    if hasattr(arg, "idempotency_key"):
        update["idempotency_key"] = f"{arg.idempotency_key}-{r}"
    if hasattr(arg, "rma_number"):
        update["rma_number"] = f"{arg.rma_number}{r}"
    if hasattr(arg, "payments"):
        update.update(return_id=f"{arg.return_id}-{r}", order_id=f"{arg.order_id}-{r}",
                      payments=[p.model_copy(update={"payment_id": f"{p.payment_id}-{r}"})
                                for p in arg.payments])
    return arg.model_copy(update=update) if update else arg


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("plan", type=Path)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    os.environ["RETURNS_DATA_DIR"] = tempfile.mkdtemp(prefix="returns-side-effects-")
    os.environ.setdefault("RETURNS_LOG_LEVEL", "WARNING")

    import worker
    from returns.policy.registry import PolicyRegistry
    from runtime.logging import configure_logging
    from runtime.settings import Settings

    configure_logging()
    settings = Settings.from_env()
    functions = {activity._Definition.must_from_callable(f).name: f
                 for f in worker.build_activities(settings, PolicyRegistry.load(settings.policies_dir))}
    plan = json.loads(args.plan.read_text())
    calls = []
    for name, argument in zip(plan["types"], plan["inputs"]):
        fn = functions[name]
        hints = typing.get_type_hints(getattr(fn, "__func__", fn))
        [model] = [t for k, t in hints.items() if k != "return"]
        calls.append((name, fn, model.model_validate(argument)))

    env = ActivityEnvironment()
    cpu, count = collections.Counter(), collections.Counter()
    for r in range(args.rounds):
        for name, fn, argument in calls:
            argument = renamed(argument, r)
            before = time.process_time()
            await env.run(fn, argument)
            cpu[name] += time.process_time() - before
            count[name] += 1
    for name in cpu:
        print(f"{name:<22} {count[name] // args.rounds} per return, "
              f"{1e3 * cpu[name] / count[name]:.2f} ms of CPU each, "
              f"{1e3 * cpu[name] / args.rounds:.1f} ms per return"
              + ("  (stubbed by the stub worker)" if name in STUBBED else ""))
    stubbed = sum(v for k, v in cpu.items() if k in STUBBED)
    print(f"side effects the stub worker skips: {1e3 * stubbed / args.rounds:.1f} ms of CPU per "
          f"return; everything: {1e3 * sum(cpu.values()) / args.rounds:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
