"""The policy activities: `evaluate_return` (the merchant's policy file applied to a return request)
and `apply_overrides` (staff exceptions re-priced with that policy).

Activities (not workflow code) so that a policy file changed on disk and reloaded by the worker
is recorded in history as the decision that was made, and replays never re-decide.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import APPLY_OVERRIDES, EVALUATE_RETURN, ApplyOverrides, EvaluateReturn
from returns.policy.decision import ReturnDecision
from returns.policy.engine import decide
from returns.policy.overrides import apply_overrides
from returns.policy.registry import PolicyRegistry, UnknownMerchant


class PolicyActivities:
    def __init__(self, registry: PolicyRegistry) -> None:
        self._registry = registry

    def _policy(self, merchant_id: str):
        try:
            return self._registry.get(merchant_id)
        except UnknownMerchant as exc:
            # Retrying cannot create a policy file: fail the activity for good, readably.
            raise ApplicationError(str(exc), type="UnknownMerchant", non_retryable=True) from None

    @activity.defn(name=EVALUATE_RETURN)
    async def evaluate_return(self, req: EvaluateReturn) -> ReturnDecision:
        return decide(self._policy(req.request.merchant_id), req.request)

    @activity.defn(name=APPLY_OVERRIDES)
    async def apply_overrides(self, req: ApplyOverrides) -> ReturnDecision:
        """Staff exceptions at review (waive a fee, accept an exception), re-priced by the policy."""
        policy = self._policy(req.decision.merchant_id)
        try:
            return apply_overrides(req.decision, req.overrides, req.actor, policy)
        except ValueError as exc:  # the update validator checks first; this is the last guard
            raise ApplicationError(str(exc), type="InvalidOverride", non_retryable=True) from None
