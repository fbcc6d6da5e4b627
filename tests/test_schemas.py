"""schemas/*.json are generated from returns/events.py; this fails when they drift apart."""

from __future__ import annotations

import json
import subprocess
import sys

from returns import schema_export


def test_committed_schemas_match_the_event_models():
    assert schema_export.stale() == [], "run: python -m returns.schema_export"
    assert sorted(p.name for p in schema_export.SCHEMA_DIR.glob("*.json")) == [
        "out.return-event.json", "parcel.scanned.json", "return.requested.json",
        "return.withdrawn.json"]


def test_schema_files_are_stable_and_end_with_a_newline():
    for name, text in schema_export.rendered().items():
        assert text == schema_export.rendered()[name]
        assert text.endswith("}\n") and not text.endswith("\n\n")
        schema = json.loads(text)
        assert list(schema) == sorted(schema)
        assert schema["required"][0] == "type"
        if name.startswith("out."):  # one schema for every type we send
            assert schema["properties"]["type"] == {"$ref": "#/$defs/OutboundType"}
            continue
        assert schema["properties"]["type"]["const"] == name.removesuffix(".json")


def test_check_exits_non_zero_when_a_file_differs(tmp_path):
    def check() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "returns.schema_export", "--check",
                               "--dir", str(tmp_path)], capture_output=True, text=True)

    assert check().returncode == 1  # nothing written yet
    assert subprocess.run([sys.executable, "-m", "returns.schema_export", "--dir", str(tmp_path)],
                          capture_output=True).returncode == 0
    assert check().returncode == 0
    drifted = tmp_path / "parcel.scanned.json"
    drifted.write_text(drifted.read_text().replace('"picked_up"', '"picked-up"'))
    result = check()
    assert result.returncode == 1
    assert "parcel.scanned.json is out of date" in result.stderr


def test_lost_in_transit_is_a_reason_of_the_contract():
    """000 §1.3 "products lost ... will be refunded or exchanged": the order system can say so."""
    schema = json.loads((schema_export.SCHEMA_DIR / "return.requested.json").read_text())
    assert "lost_in_transit" in schema["$defs"]["ReturnReason"]["enum"]
