"""Write the event contract as JSON Schema, one file per event type, for the order system's team.

    python -m returns.schema_export            write schemas/<type>.json
    python -m returns.schema_export --check    exit 1 if the committed files differ from the models

The models in returns/events.py are the source; the files are generated, never edited by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import BaseModel

from returns.events import CROSS_FIELD_RULES, ParcelScanned, ReturnRequested, ReturnWithdrawn
from returns.outbound import ReturnEvent

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
EVENT_MODELS: dict[str, type[BaseModel]] = {
    "return.requested": ReturnRequested,
    "return.withdrawn": ReturnWithdrawn,
    "parcel.scanned": ParcelScanned,
}
# What we send back to the order system (returns/outbound.py): one schema for every type.
OUTBOUND_MODELS: dict[str, type[BaseModel]] = {"out.return-event": ReturnEvent}
ALL_MODELS = {**EVENT_MODELS, **OUTBOUND_MODELS}


def render(event_type: str) -> str:
    """The schema file's exact text: sorted keys (stable diffs), two-space indent, newline at end."""
    model = ALL_MODELS[event_type]
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{event_type}.json",
        **model.model_json_schema(mode="validation"),
    }
    # The model defaults `type`, but the OrderEvent union needs it to tell events apart.
    schema["required"] = ["type", *(r for r in schema["required"] if r != "type")]
    schema["properties"]["type"].pop("default", None)
    if model is ReturnRequested:
        schema["description"] = (schema.get("description", "").strip() + "\n\nAlso refused, "
                                 "across fields: " + "; ".join(CROSS_FIELD_RULES) + ".")
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rendered() -> dict[str, str]:
    """File name -> text, for every event type."""
    return {f"{event_type}.json": render(event_type) for event_type in ALL_MODELS}


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of schema files missing from `directory` or different from the models."""
    out = []
    for name, text in rendered().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            out.append(name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m returns.schema_export",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the files differ from the models")
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="default: schemas/")
    args = parser.parse_args(argv)
    if args.check:
        differ = stale(args.dir)
        for name in differ:
            print(f"{args.dir / name} is out of date: run python -m returns.schema_export",
                  file=sys.stderr)
        return 1 if differ else 0
    for path in write(args.dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
