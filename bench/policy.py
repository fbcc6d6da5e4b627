"""Policy decisions per second on one core: `returns.policy.engine.decide` over a mix of requests
for the three demo merchants (eligible, ineligible, several items, fees), pinned to one CPU.

    .venv/bin/python bench/policy.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from returns.policy.engine import decide  # noqa: E402
from returns.policy.registry import PolicyRegistry  # noqa: E402
from samples.events import item, line, return_requested  # noqa: E402


def requests():
    out = []
    for merchant in ("fine-jewelry", "opalook", "pearl-platform"):
        out.append(return_requested(merchant))
        out.append(return_requested(merchant, delivered_days_ago=40))  # out of window
        out.append(return_requested(merchant, items=[item("L1", reason="changed_mind")]))
        out.append(return_requested(merchant, lines=[line("L1"), line("L2", sku="NECK-2", title="Pearl necklace", unit_price=55000, unit_tax=9000), line("L3", sku="EAR-3", title="Earrings", quantity=2, unit_price=12000, unit_tax=2000)],
                                    items=[item("L1"), item("L2", reason="size_fit", resolution="exchange", exchange_for="45 cm"), item("L3", quantity=2, reason="style_preference")]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    registry = PolicyRegistry.load(ROOT / "policies")
    batch = [(registry.get(r.merchant_id), r) for r in requests()]
    for policy, request in batch:  # warm up (and check every request decides)
        decide(policy, request)
    count = 0
    started = time.perf_counter()
    cpu = time.process_time()
    while time.perf_counter() - started < args.seconds:
        for policy, request in batch:
            decide(policy, request)
        count += len(batch)
    wall = time.perf_counter() - started
    used = time.process_time() - cpu
    print(f"policy decisions: {count / wall:.0f}/s on one core ({count} decisions of {len(batch)} "
          f"kinds in {wall:.1f}s wall, {used:.1f}s CPU; {1e6 * wall / count:.0f} µs each)")


if __name__ == "__main__":
    main()
