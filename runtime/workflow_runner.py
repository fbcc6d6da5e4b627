"""How the worker process runs workflow code: the SDK's sandbox, without re-importing the workflow
modules for every run.

The SDK's default sandbox imports the workflow's modules afresh for every workflow run it starts,
and a run starts again whenever a return that is not in the worker's cache (`max_cached_workflows`)
is queried, updated or signalled: with 10,000 open returns and a cache of 1,000, nearly every page
a customer or a person on the console opens. That import cost a status query ~190 ms instead of
~60 ms on a loaded two-core machine, and an approval ~300 ms instead of ~220 ms
(docs/performance.md, "Pages people wait on").

`fast` keeps the sandbox (calls such as `open()` are still refused at run time) but passes every
module through, so the workflow modules are imported once per process. What that gives up: a
module-level `datetime.now()` or `random` in workflow code is no longer refused in the worker
process. That check stays where it is cheap: every test builds its worker with `build_worker`
without a runner, i.e. with the SDK's strict default, so a workflow that reaches for the clock
fails its tests; and the workflow modules hold no module-level state that one run could leave for
another (workflows/*.py: constants only). `RETURNS_WORKFLOW_SANDBOX=strict` runs the worker with
the strict default too.

`RETURNS_WORKFLOW_CACHE` sets how many returns the worker keeps in memory (`max_cached_workflows`,
default 1,000 as the SDK's): a return in the cache answers a query or an update without replaying
its history first. Raise it to hold the returns staff and customers open (memory per cached
return: docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from temporalio.worker import WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

ENV = "RETURNS_WORKFLOW_SANDBOX"
CACHE_ENV = "RETURNS_WORKFLOW_CACHE"
DEFAULT_CACHE = 1_000
MODES = ("fast", "strict")


def workflow_runner(mode: str = "fast") -> WorkflowRunner:
    """The sandbox for `mode`: `fast` (modules imported once per process) or `strict` (the SDK's
    default: the workflow modules imported again for every run)."""
    if mode not in MODES:
        raise ValueError(f"{ENV}: {mode!r} is not one of {', '.join(MODES)}")
    if mode == "strict":
        return SandboxedWorkflowRunner()
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_all_modules())


def from_env(environ: Mapping[str, str]) -> WorkflowRunner:
    """The runner `RETURNS_WORKFLOW_SANDBOX` names (default `fast`); ValueError names the
    variable."""
    return workflow_runner(environ.get(ENV, "").strip() or "fast")


def cache_size(environ: Mapping[str, str]) -> int:
    """`RETURNS_WORKFLOW_CACHE` (default 1,000): returns kept in the worker's memory; ValueError
    names the variable."""
    raw = environ.get(CACHE_ENV, "").strip()
    if not raw:
        return DEFAULT_CACHE
    try:
        size = int(raw)
    except ValueError:
        size = -1
    if size < 1:
        raise ValueError(f"{CACHE_ENV}: {raw!r} is not a whole number of returns of at least 1")
    return size


__all__ = ["CACHE_ENV", "ENV", "MODES", "cache_size", "from_env", "workflow_runner"]
