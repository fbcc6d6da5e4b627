"""A worker's adapters at work, in their own process, for tests/adapters/test_secrets_never_logged.py:
builds the worker's activities from an adapters file (the example's, pointed at local peers) and
runs every adapter through its failure paths (Stripe refusing the key, SMTP refusing the login,
EasyPost refusing the key, a method refunded by hand). Everything the process prints (JSON log
lines, tracebacks, error messages) is what the test searches for secrets.

    python -m tests.adapters.secrets_probe   (env: RETURNS_DATA_DIR, RETURNS_ADAPTERS_FILE, ...)
"""

from __future__ import annotations

import asyncio
import sys
import traceback

from temporalio.testing import ActivityEnvironment

from activities.contracts import RefundRequest
from returns.events import Payment
from returns.policy.registry import PolicyRegistry
from runtime.logging import configure_logging, get_logger
from runtime.settings import Settings
from tests.adapters.support import notification
from tests.adapters.test_easypost_labels import label_request
from worker import build_activities

log = get_logger("secrets_probe")


def refund(merchant_id: str, method: str, payment_id: str) -> RefundRequest:
    return RefundRequest(idempotency_key=f"return-R-{merchant_id}:refund", return_id="R-1",
                         order_id="O-1", currency="EUR", amount=1000, reason="accepted items",
                         merchant_id=merchant_id,
                         payments=[Payment(payment_id=payment_id, method=method, amount=1000)])


async def main() -> int:
    configure_logging(json=True)
    settings = Settings.from_env()
    registry = PolicyRegistry.load(settings.policies_dir)
    activities = {a.__name__: a for a in build_activities(settings, registry)}
    env = ActivityEnvironment()
    calls = [
        ("stripe refuses the key", activities["issue_refund"], refund("opalook", "card", "ch_1")),
        ("stripe refuses the key", activities["issue_refund"],
         refund("pearl-platform", "card", "pi_1")),
        ("refunded by hand", activities["issue_refund"], refund("pearl-platform", "klarna", "kl_1")),
        ("smtp refuses the login", activities["send_notification"],
         notification("approved", merchant_id="opalook")),
        ("easypost refuses the key", activities["create_return_label"], label_request()),
    ]
    for what, activity, arg in calls:
        try:
            await env.run(activity, arg)
            print(f"probe: {what}: succeeded", flush=True)
        except Exception as err:  # what Temporal would record: message and stack trace
            log.warning("probe failure", what=what, error=str(err), type=type(err).__name__)
            print(f"probe: {what}: {type(err).__name__}: {err}", flush=True)
            traceback.print_exc()
    print("probe: done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
