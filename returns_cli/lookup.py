"""Find a return from what a person or a scanner types: its id, its workflow id, a label barcode.

A return is one workflow per merchant and return id (`return-<merchant_id>-<return_id>`,
returns.events.workflow_id_for), and both ids may hold `-`: the workflow id is never split.
What is typed is looked up, in this order, and every match is kept:
- a workflow id (`return-...`): that workflow, as it is;
- the workflow ids the return id makes with `--merchant`, or with each merchant that has a
  policy (read at once, so a return started a moment ago is found before visibility has it);
- the visibility query `ReturnId=<id> OR LabelBarcode=<typed> OR TrackingRefs=<ref>` (and
  `MerchantId=<merchant>`, or `MerchantId IN (...)` for the merchants a person may see):
  returns of merchants this machine has no policy for, labels (`RMA-<id>`, a carrier's
  tracking code), and any tracking number the return knows, typed with or without spaces and
  dashes, found by its hash (returns/tracking_refs.py: the number is never in visibility).
Each match is read back from its `MerchantId` and `ReturnId` search attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from returns.events import workflow_id_for
from returns.tracking_refs import is_tracking_number, tracking_ref
from returns_cli.queries import FilterError, quoted
from workflows import search_attributes as sa

WORKFLOW_ID_PREFIX = "return-"


class LookupFailed(Exception):
    """Temporal refused or failed a lookup; the message says which."""


@dataclass(frozen=True, order=True)
class ReturnRef:
    """One return: its merchant and its id. Prints as the return id (what people call it)."""

    merchant_id: str
    return_id: str

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.merchant_id, self.return_id)

    def __str__(self) -> str:
        return self.return_id


def policy_merchants() -> list[str]:
    """The merchants with a policy here (RETURNS_POLICIES_DIR); none when it cannot be read."""
    try:
        from returns.policy.registry import PolicyRegistry
        from runtime.settings import Settings

        return list(PolicyRegistry.load(Settings.from_env().policies_dir).merchant_ids)
    except Exception:  # noqa: BLE001 - only a shortcut: visibility still finds the return
        return []


async def _described(client: Client, workflow_id: str, timeout: float) -> ReturnRef | None:
    try:
        description = await client.get_workflow_handle(workflow_id).describe(
            rpc_timeout=timedelta(seconds=timeout))
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            return None
        raise LookupFailed(f"cannot look up {workflow_id}: {err.message}") from None
    attrs = description.typed_search_attributes
    merchant, return_id = attrs.get(sa.MERCHANT_ID), attrs.get(sa.RETURN_ID)
    if not merchant or not return_id:
        return None  # not a return workflow
    return ReturnRef(merchant, return_id)


def visibility_query(typed: str, return_id: str, *, merchant: str | None = None,
                     visible: list[str] | None = None) -> str | None:
    """The query for what `typed` may name: its return id, label barcode, tracking number (by
    ref); of `merchant`, or of the `visible` merchants, when given. None: nothing to ask."""
    clauses = []
    try:
        clauses += [f"{sa.RETURN_ID.name}={quoted('RETURN', return_id)}",
                    f"{sa.LABEL_BARCODE.name}={quoted('RETURN', typed)}"]
    except FilterError:
        pass
    if is_tracking_number(typed):
        clauses.append(f'{sa.TRACKING_REFS.name}="{tracking_ref(typed)}"')
    if not clauses:
        return None
    query = "(" + " OR ".join(clauses) + ")"
    try:
        if merchant:
            query += f" AND {sa.MERCHANT_ID.name}={quoted('--merchant', merchant)}"
        if visible is not None:
            if not visible:
                return None
            query += (f" AND {sa.MERCHANT_ID.name} IN ("
                      + ", ".join(quoted("merchant", m) for m in visible) + ")")
    except FilterError:
        return None
    return query


async def find_returns(client: Client, typed: str, return_id: str, *, merchant: str | None,
                       timeout: float, merchants: list[str] | None = None,
                       visible: list[str] | None = None) -> list[ReturnRef]:
    """Every return `typed` (as typed) or `return_id` (with any `RMA-` removed) may name; of
    `merchant` only when given. `merchants`: whose workflow ids to try (default: the policies).
    `visible`: the visibility query asks only for returns of these merchants."""
    found: set[ReturnRef] = set()
    if typed.startswith(WORKFLOW_ID_PREFIX):
        ref = await _described(client, typed, timeout)
        if ref is not None and merchant in (None, ref.merchant_id):
            found.add(ref)
        return sorted(found)
    candidates = [merchant] if merchant else (policy_merchants() if merchants is None else merchants)
    for candidate in candidates:
        ref = await _described(client, workflow_id_for(candidate, return_id), timeout)
        if ref is not None:
            found.add(ref)
    query = visibility_query(typed, return_id, merchant=merchant, visible=visible)
    if query is None:
        return sorted(found)
    try:
        async for w in client.list_workflows(query, limit=20,
                                             rpc_timeout=timedelta(seconds=timeout)):
            attrs = w.typed_search_attributes
            if attrs.get(sa.MERCHANT_ID) and attrs.get(sa.RETURN_ID):
                found.add(ReturnRef(attrs.get(sa.MERCHANT_ID), attrs.get(sa.RETURN_ID)))
    except RPCError as err:
        raise LookupFailed(f"cannot look up {typed}: {err.message}") from None
    return sorted(found)


__all__ = ["LookupFailed", "ReturnRef", "find_returns", "policy_merchants", "visibility_query"]
