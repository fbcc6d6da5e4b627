"""Recorded histories of every path replay against today's workflow code.

A change that would break a return already running in production fails here. To change the
workflow safely, guard the new behaviour with `workflow.patched("<change-id>")` (README: "Changing
the workflow safely"), then record fresh histories with `RECORD_HISTORIES=1 make test` and commit
them next to the old ones (keep the old ones: they are the returns still running).

The replayer decodes with the same converter as the lifecycle tests (payloads AES-GCM encrypted
with the fixed test key); histories recorded before encryption hold plaintext payloads, which the
codec passes through, so both kinds replay.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from samples.keys import test_data_converter as data_converter  # the lifecycle tests' converter
from temporalio.worker import Replayer

from workflows.delivery_workflow import DeliveryWorkflow
from workflows.return_workflow import ReturnWorkflow

# tests/histories/*.json: recorded by today's code; tests/histories/<release>/: returns started
# under an earlier release (still running somewhere: they must replay too).
ROOT = Path(__file__).resolve().parents[1] / "histories"
HISTORIES = sorted(ROOT.glob("**/*.json"))


def test_there_are_recorded_histories():
    assert len(HISTORIES) >= 10, "record them: RECORD_HISTORIES=1 make test"


@pytest.mark.parametrize("path", HISTORIES,
                         ids=[str(p.relative_to(ROOT).with_suffix("")) for p in HISTORIES])
async def test_history_replays(path: Path):
    history = WorkflowHistory.from_json(f"return-{path.stem}", path.read_text())
    replayer = Replayer(workflows=[ReturnWorkflow, DeliveryWorkflow],
                        data_converter=data_converter)
    await replayer.replay_workflow(history)
