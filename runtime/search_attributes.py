"""Register the product's custom search attributes on the configured Temporal namespace.

    python -m runtime.search_attributes register   # add what is missing (idempotent)
    python -m runtime.search_attributes check      # exit 1 if any is missing or has another type

The connection comes from `temporalio.envconfig` (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE), like the worker's. The dev server started by
`make run` registers them itself; this is for a self-hosted cluster. Temporal Cloud manages search
attributes through its control plane instead: `check` prints the `tcld` commands to run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from runtime.shutdown import exit_now
from workflows.search_attributes import ALL

# The type names the Temporal CLI, tcld and the Web UI use.
TYPE_NAMES = {
    IndexedValueType.INDEXED_VALUE_TYPE_TEXT: "Text",
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD: "Keyword",
    IndexedValueType.INDEXED_VALUE_TYPE_INT: "Int",
    IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE: "Double",
    IndexedValueType.INDEXED_VALUE_TYPE_BOOL: "Bool",
    IndexedValueType.INDEXED_VALUE_TYPE_DATETIME: "Datetime",
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST: "KeywordList",
}


class SearchAttributeError(RuntimeError):
    """A search attribute cannot be registered; the message says what to do."""


@dataclass
class Plan:
    """What the namespace has compared to what the product needs."""

    namespace: str
    present: list[str] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)  # name -> IndexedValueType
    conflicts: list[str] = field(default_factory=list)  # readable sentences


def wanted() -> dict[str, int]:
    """Name -> IndexedValueType of every search attribute the workflow sets."""
    # SearchAttributeIndexedValueType mirrors the API enum value for value.
    return {key.name: int(key.indexed_value_type) for key in ALL}


async def plan(client: Client, namespace: str) -> Plan:
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    custom = dict(response.custom_attributes)
    system = dict(response.system_attributes)
    result = Plan(namespace=namespace)
    for name, type_ in wanted().items():
        existing = custom.get(name, system.get(name))
        if existing is None:
            result.missing[name] = type_
        elif existing == type_:
            result.present.append(name)
        else:
            where = "a system attribute" if name in system else "already registered"
            result.conflicts.append(
                f"{name} is {where} as {TYPE_NAMES.get(existing, existing)} on namespace "
                f"{namespace!r}, but the returns workflow writes it as {TYPE_NAMES[type_]}. "
                f"Remove it (temporal operator search-attribute remove --name {name}; on "
                f"Temporal Cloud ask support) or use another namespace."
            )
    return result


async def register(client: Client, namespace: str) -> Plan:
    """Add every missing attribute; skip those present; raise on a type conflict."""
    result = await plan(client, namespace)
    if result.conflicts:
        raise SearchAttributeError("\n".join(result.conflicts))
    if result.missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=result.missing)
            )
        except RPCError as err:
            if err.status in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED,
                              RPCStatusCode.UNAUTHENTICATED):
                raise SearchAttributeError(
                    f"the server refused to add search attributes ({err.status.name}: {err.message}).\n"
                    f"On Temporal Cloud add them with tcld (namespace id is <namespace>.<account>):\n"
                    + tcld_commands(result)
                ) from err
            if err.status == RPCStatusCode.ALREADY_EXISTS:  # someone else registered them just now
                return await plan(client, namespace)
            raise
    return result


def tcld_commands(result: Plan) -> str:
    flags = " ".join(f"--search-attribute '{name}={TYPE_NAMES[type_]}'"
                     for name, type_ in result.missing.items())
    return f"  tcld namespace search-attributes add --namespace {result.namespace}.<account> {flags}"


async def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.search_attributes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["register", "check"])
    args = parser.parse_args(argv)

    from runtime.client import connect, connect_config

    config = connect_config()
    namespace = config["namespace"]
    try:
        client = await connect()
    except RuntimeError as err:
        print(f"cannot connect to Temporal at {config['target_host']}: {err}", file=sys.stderr)
        return 2

    if args.command == "check":
        result = await plan(client, namespace)
        for sentence in result.conflicts:
            print(f"conflict: {sentence}")
        for name, type_ in result.missing.items():
            print(f"missing:  {name} ({TYPE_NAMES[type_]})")
        if result.missing:
            print("add them with: python -m runtime.search_attributes register\n"
                  "or on Temporal Cloud:\n" + tcld_commands(result))
        if result.missing or result.conflicts:
            return 1
        print(f"all {len(result.present)} search attributes are registered on namespace {namespace!r}")
        return 0

    try:
        result = await register(client, namespace)
    except SearchAttributeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    added = sorted(result.missing)
    print(f"namespace {namespace!r} at {config['target_host']}: "
          + (f"added {', '.join(added)}; " if added else "nothing to add; ")
          + f"{len(result.present)} already registered")
    return 0


if __name__ == "__main__":
    exit_now(asyncio.run(_main()))
