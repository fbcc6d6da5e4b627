"""A full return's own activity inputs and results, for bench/minimal.py's MinimalWithData.

bench/lifecycle.py decrypts them from a full return's history and writes them as JSON; the data
worker (bench/minimal.py with RETURNS_BENCH_DATA set) loads the file once, at start, before it
polls, so workflow code only reads this module's cached value (it is passed through the sandbox).

    {"types": [<activity 0's type>, ...], "inputs": [<activity 0's argument>, ...],
     "results": [<activity 0's result>, ...]}
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

ENV = "RETURNS_BENCH_DATA"


@functools.cache
def load() -> dict:
    plan = json.loads(Path(os.environ[ENV]).read_text())
    if len(plan["inputs"]) != len(plan["results"]):
        raise ValueError(f"{os.environ[ENV]}: as many inputs as results are needed")
    return plan
