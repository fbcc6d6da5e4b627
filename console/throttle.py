"""Sign-in throttling: failed attempts counted per person and per client address in a sliding
window; once either is over its limit, sign-in is refused (429) without checking the password,
until the window has moved on. A success clears the person's failures."""

from __future__ import annotations

import time
from collections import defaultdict, deque

PER_USER = 5  # failures per name in WINDOW
PER_ADDRESS = 20  # failures per client address in WINDOW (several people behind one NAT)
WINDOW = 15 * 60.0
MAX_KEYS = 10_000


class SignInThrottle:
    def __init__(self, *, per_user: int = PER_USER, per_address: int = PER_ADDRESS,
                 window: float = WINDOW, clock=time.monotonic) -> None:
        self.limits = {"user": per_user, "address": per_address}
        self.window = window
        self.clock = clock
        self.failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        now = self.clock()
        queue = self.failures[key]
        while queue and now - queue[0] > self.window:
            queue.popleft()
        return queue

    def retry_after(self, name: str, address: str) -> int | None:
        """Seconds to wait when this name or address is throttled; None when it may try."""
        waits = []
        for kind, value in (("user", name.lower()), ("address", address)):
            recent = self._recent((kind, value))
            if len(recent) >= self.limits[kind]:
                waits.append(int(self.window - (self.clock() - recent[0])) + 1)
        return max(waits) if waits else None

    def failed(self, name: str, address: str) -> None:
        if len(self.failures) > MAX_KEYS:  # forget the idle ones
            for key in [k for k in self.failures if not self._recent(k)]:
                del self.failures[key]
        now = self.clock()
        self._recent(("user", name.lower())).append(now)
        self._recent(("address", address)).append(now)

    def succeeded(self, name: str) -> None:
        self.failures.pop(("user", name.lower()), None)
