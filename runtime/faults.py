"""Fault injection for the fault tests and benchmarks: make the payment provider, the mail transport
or the label service fail, lose their answer or hang. Off unless RETURNS_FAULTS is set.

    RETURNS_FAULTS="seed=7;refund:fail=0.3,lost=0.2,hang=0.1;email:fail=0.2;label:hang=0.2;hang_s=2;outage=3"

Per target (`refund` = issue_refund, `email` = send_notification, `label` = create_return_label):
- `fail=P`: raise a retryable error before calling the real activity (the provider is down);
- `lost=P`: call the real activity, then raise (it acted, but its answer never arrived): the retry
  must not act twice, which is what the idempotency keys are for;
- `hang=P`: sleep `hang_s` seconds (default 2) first (a slow provider; longer than the activity's
  timeout, the attempt times out and runs on as a zombie while its retry starts).

`outage=N` (default: none) ends an outage: an activity's attempts after the Nth run without
faults, as a real provider comes back. Without it a refund's faults compound with its backoff (10 s,
20 s, 40 s, ...) and a run's length has no bound; with `outage=3` one refund waits 76 s at most
(its brief first try, three attempts, then the long retry: each activity counts its own attempts).

Each decision is drawn from a RNG seeded with (seed, target, workflow id, activity id, attempt), so
a run's faults are the same whichever worker process runs which attempt.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from temporalio import activity

from activities import contracts as c
from runtime.logging import get_logger

log = get_logger(__name__)

TARGETS = {"refund": c.ISSUE_REFUND, "email": c.SEND_NOTIFICATION, "label": c.CREATE_RETURN_LABEL}
KINDS = ("fail", "lost", "hang")


class InjectedFault(RuntimeError):
    """A fault injected on purpose (RETURNS_FAULTS); retryable like any provider outage."""


@dataclass(frozen=True)
class FaultPlan:
    seed: int = 0
    hang_seconds: float = 2.0
    outage: int | None = None  # attempts after this many run clean
    rates: dict[str, dict[str, float]] = field(default_factory=dict)  # activity name -> kind -> p

    @classmethod
    def parse(cls, spec: str) -> "FaultPlan":
        seed, hang, outage, rates = 0, 2.0, None, {}
        for part in filter(None, (p.strip() for p in spec.split(";"))):
            if part.startswith("seed="):
                seed = int(part.removeprefix("seed="))
                continue
            if part.startswith("hang_s="):
                hang = float(part.removeprefix("hang_s="))
                continue
            if part.startswith("outage="):
                outage = int(part.removeprefix("outage="))
                if outage < 1:
                    raise ValueError(f"RETURNS_FAULTS: {part!r}: outage must be at least 1 attempt")
                continue
            target, sep, settings = part.partition(":")
            if not sep or target.strip() not in TARGETS:
                raise ValueError(f"RETURNS_FAULTS: {part!r}: expected <target>:<kind>=<p>,... with "
                                 f"target one of {', '.join(TARGETS)}")
            kinds = {}
            for setting in settings.split(","):
                kind, _, value = setting.strip().partition("=")
                if kind not in KINDS:
                    raise ValueError(f"RETURNS_FAULTS: unknown fault {kind!r} (one of {', '.join(KINDS)})")
                kinds[kind] = float(value)
                if not 0 <= kinds[kind] <= 1:
                    raise ValueError(f"RETURNS_FAULTS: {target}:{kind} must be a probability")
            rates[TARGETS[target.strip()]] = kinds
        return cls(seed=seed, hang_seconds=hang, outage=outage, rates=rates)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "FaultPlan | None":
        spec = env.get("RETURNS_FAULTS", "").strip()
        return cls.parse(spec) if spec else None

    def draw(self, name: str, info: activity.Info) -> set[str]:
        rates = self.rates.get(name, {})
        if self.outage is not None and info.attempt > self.outage:
            return set()
        rng = random.Random(f"{self.seed}:{name}:{info.workflow_id}:{info.activity_id}:{info.attempt}")
        return {kind for kind in KINDS if rng.random() < rates.get(kind, 0.0)}


def _activity_name(fn: Callable) -> str | None:
    definition = getattr(fn, "__temporal_activity_definition", None)
    return definition.name if definition is not None else None


def with_faults(activities: list[Callable], plan: FaultPlan | None) -> list[Callable]:
    """The same activities, those named in `plan` wrapped with its faults."""
    if plan is None:
        return activities
    return [_wrap(fn, name, plan) if (name := _activity_name(fn)) in plan.rates else fn
            for fn in activities]


def _wrap(fn: Callable, name: str, plan: FaultPlan) -> Callable:
    @functools.wraps(fn)
    async def faulty(*args, **kwargs):
        info = activity.info()
        drawn = plan.draw(name, info)
        where = dict(activity=name, workflow_id=info.workflow_id, attempt=info.attempt)
        if "hang" in drawn:
            log.warning("fault.hang", seconds=plan.hang_seconds, **where)
            await asyncio.sleep(plan.hang_seconds)
        if "fail" in drawn:
            log.warning("fault.fail", **where)
            raise InjectedFault(f"injected fault: {name} unavailable")
        result = await fn(*args, **kwargs)
        if "lost" in drawn:
            log.warning("fault.lost", **where)
            raise InjectedFault(f"injected fault: {name} acted but its answer was lost")
        return result

    del faulty.__temporal_activity_definition  # copied from `fn` by wraps; ours follows
    return activity.defn(name=name)(faulty)


__all__ = ["FaultPlan", "InjectedFault", "with_faults"]
