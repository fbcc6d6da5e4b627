"""`python -m returns.policy.evaluate`: try a policy on a file of past return requests."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from returns.policy.evaluate import main

from .builders import POLICIES_DIR, fine_jewelry_request, opalook_request, requested_item


def _events(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "returns.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_table_shows_each_line_with_its_reasons(tmp_path):
    """004 §2.2 / §4.1 and 000 §1.5 decisions, as a merchant sees them in the table."""
    events = _events(tmp_path,
                     fine_jewelry_request(items=[requested_item(reason="size_fit")]).model_dump_json(),
                     opalook_request(country="US", return_id="R-2").model_dump_json())
    code, out, err = _run(str(events))
    assert code == 0 and err == ""
    assert "R-1001  merchant=fine-jewelry" in out
    assert "eligible" in out and "350.00 USD" in out and "150.00 USD" in out
    assert "- 004 §4.1: non-quality return: 30% of the order amount deducted" in out
    assert "refund -> returnless_refund" in out and "> 000 §1.5:" in out
    assert out.rstrip().endswith("2 returns, 2 items: 2 eligible, 0 for staff review, "
                                 "0 auto-rejected; refunds 100.00 EUR, 350.00 USD; 0 invalid lines")


def test_invalid_lines_are_reported_with_number_and_field(tmp_path):
    """A merchant's export with bad rows: each is named by line number and field; exit status 1."""
    good = fine_jewelry_request().model_dump()
    bad = json.loads(json.dumps(good, default=str))
    bad["order"]["lines"][0]["unit_price"] = -5
    events = _events(tmp_path, json.dumps(good, default=str), "{oops",
                     json.dumps(bad), json.dumps({"type": "parcel.scanned"}), "")
    code, out, err = _run(str(events))
    assert code == 1
    assert f"{events}:2: not valid JSON" in err
    assert f"{events}:3: order.lines.0.unit_price: Input should be greater than or equal to 0" in err
    assert ":4:" not in err  # other event types are skipped, not invalid
    assert "1 returns" in out and "2 invalid lines" in out


def test_merchant_filter_and_json_output(tmp_path):
    """--merchant keeps one merchant's returns; --json prints one decision per line."""
    events = _events(tmp_path, fine_jewelry_request().model_dump_json(),
                     opalook_request(return_id="R-2").model_dump_json())
    code, out, _ = _run(str(events), "--merchant", "opalook", "--json")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["return_id"] for r in records] == ["R-2"]
    assert records[0]["decision"]["merchant_id"] == "opalook"
    assert records[0]["decision"]["items"][0]["refund_amount"] == 10_000  # 000 §2.1 excl. tax


def test_unknown_merchant_in_events_is_an_invalid_line(tmp_path):
    """An event for a merchant without a policy is reported, not silently skipped."""
    request = opalook_request().model_copy(update={"merchant_id": "acme"})
    code, _, err = _run(str(_events(tmp_path, request.model_dump_json())))
    assert code == 1 and "merchant_id: no return policy for merchant 'acme'" in err


def test_trying_a_changed_policy(tmp_path):
    """The point of the command: copy the policies, change one rule (the 004 §4.1 fee from 30% to
    20%), run last month's returns again and see the new refunds."""
    policies = tmp_path / "policies"
    policies.mkdir()
    for path in POLICIES_DIR.glob("*.toml"):
        (policies / path.name).write_text(path.read_text())
    fj = policies / "fine-jewelry.toml"
    fj.write_text(fj.read_text().replace("basis_points = 3000", "basis_points = 2000", 1))
    events = _events(tmp_path, fine_jewelry_request(items=[requested_item(reason="size_fit")])
                     .model_dump_json())
    _, out, _ = _run(str(events), "--policies", str(policies))
    assert "400.00 USD" in out and "100.00 USD" in out


def test_broken_policy_files_exit_2(tmp_path):
    """Broken policy files stop the command with the file and field (exit status 2)."""
    (tmp_path / "bad.toml").write_text("[policy]\nmerchant_id = 'x'\n")
    code, _, err = _run(str(_events(tmp_path, "")), "--policies", str(tmp_path))
    assert code == 2 and "bad.toml: policy.version: Field required" in err


def test_runs_as_a_module(tmp_path):
    """`python -m returns.policy.evaluate EVENTS.jsonl` as documented in docs/policies.md."""
    events = _events(tmp_path, fine_jewelry_request().model_dump_json())
    done = subprocess.run([sys.executable, "-m", "returns.policy.evaluate", str(events)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert "R-1001  merchant=fine-jewelry" in done.stdout
