"""Ending a process that used the Temporal client."""

from __future__ import annotations

import os
import sys


def exit_now(code: int) -> None:
    """Exit without interpreter finalisation: the Temporal core's threads can abort it at teardown
    (temporalio/sdk-python#300, "PyGILState_Release ... must be current"), turning a clean run
    into exit code -6. Everything is flushed first."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
