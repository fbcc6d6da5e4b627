"""Which run of a return the console has checked, and whose it is, so that the next request about
it does not ask the server again.

Every request about a return first checks that the signed-in person may see its merchant: a
`describe` of the workflow (its `MerchantId` search attribute). An action's form post and the page
shown after it (the 303) asked twice within a second, each a server round trip that waits behind
the intake when new returns pour in (docs/performance.md, "Pages people wait on"). A return's
merchant never changes, so the answer is kept for a while, with the run it was read from.

Safe for tenancy because everything sent after a remembered check goes to that run only (the
handle is pinned to its run id): were the workflow id ever used again by another run, possibly of
another merchant, that run is not reached through this memory; the pinned run, once closed,
answers "finished". The person's merchants are checked on every request (`Staff.sees`): only the
return's merchant is remembered, never the permission.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

KEEP_SECONDS = 600.0  # how long a checked run is trusted without asking again
MOST = 20_000  # returns remembered at most (the least recently used go first)


@dataclass(frozen=True)
class KnownRun:
    run_id: str
    merchant_id: str | None


class KnownRuns:
    def __init__(self, *, keep_seconds: float = KEEP_SECONDS, most: int = MOST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._keep = keep_seconds
        self._most = most
        self._clock = clock
        self._runs: OrderedDict[str, tuple[KnownRun, float]] = OrderedDict()

    def get(self, workflow_id: str) -> KnownRun | None:
        found = self._runs.get(workflow_id)
        if found is None:
            return None
        run, at = found
        if self._clock() - at > self._keep:
            del self._runs[workflow_id]
            return None
        self._runs.move_to_end(workflow_id)
        return run

    def remember(self, workflow_id: str, run_id: str, merchant_id: str | None) -> KnownRun:
        run = KnownRun(run_id=run_id, merchant_id=merchant_id)
        self._runs[workflow_id] = (run, self._clock())
        self._runs.move_to_end(workflow_id)
        while len(self._runs) > self._most:
            self._runs.popitem(last=False)
        return run

    def forget(self, workflow_id: str) -> None:
        self._runs.pop(workflow_id, None)

    def __len__(self) -> int:
        return len(self._runs)


__all__ = ["KEEP_SECONDS", "MOST", "KnownRun", "KnownRuns"]
