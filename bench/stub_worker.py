"""The real ReturnWorkflow with stub side effects, for bench/lifecycle.py: policy and deadline
activities are the real ones (cheap, pure), but email, label and refund answer at once without
rendering, writing a PDF or touching the ledger. Full returns on this worker minus the minimal
workflow is the cost of the workflow's own orchestration (sandbox, search attributes, status card,
bigger payloads); the real worker minus this one is the cost of the side effects.

    python bench/stub_worker.py      # TEMPORAL_ADDRESS, RETURNS_TASK_QUEUE
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from temporalio import activity
from temporalio.worker import Worker

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activities import contracts as c  # noqa: E402
from activities.deadlines import compute_deadline  # noqa: E402
from activities.policy import PolicyActivities  # noqa: E402
from returns.policy.registry import PolicyRegistry  # noqa: E402
from runtime.settings import ROOT  # noqa: E402


@activity.defn(name=c.SEND_NOTIFICATION)
async def send_notification(note: c.Notification) -> c.NotificationSent:
    return c.NotificationSent(message_id=f"<{note.idempotency_key}@stub>", transport="stub")


@activity.defn(name=c.CREATE_RETURN_LABEL)
async def create_return_label(req: c.LabelRequest) -> c.LabelCreated:
    return c.LabelCreated(rma_number=req.rma_number, barcode_value=req.rma_number,
                          path=f"/dev/null/{req.rma_number}.pdf", sha256="0" * 64)


@activity.defn(name=c.ISSUE_REFUND)
async def issue_refund(req: c.RefundRequest) -> c.RefundIssued:
    return c.RefundIssued(refund_id=f"re_stub_{req.return_id}", amount=req.amount,
                          currency=req.currency, splits={req.payments[0].payment_id: req.amount})


async def main() -> None:
    from runtime.client import connect
    from runtime.logging import configure_logging
    from workflows.return_workflow import ReturnWorkflow

    configure_logging()  # as worker.py: RETURNS_LOG_LEVEL (the benchmark's WARNING), not every line

    policy = PolicyActivities(PolicyRegistry.load(ROOT / "policies"))
    client = await connect()
    worker = Worker(client, task_queue=os.environ.get("RETURNS_TASK_QUEUE", "stub"),
                    workflows=[ReturnWorkflow],
                    activities=[policy.evaluate_return, policy.apply_overrides, compute_deadline,
                                send_notification, create_return_label, issue_refund])
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
