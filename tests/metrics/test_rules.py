"""The Prometheus rules, example configuration and Grafana dashboard in monitoring/: checked by
Prometheus' own `promtool` (Debian's `prometheus` package, installed by `make test`), and every
product metric they name is one the product exports.

That the rules and the dashboard's queries evaluate against real series is checked in
test_prometheus.py, against the Prometheus that scrapes a running worker and receiver.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from activities import metrics as activity_metrics
from runtime import telemetry
from runtime.settings import ROOT
from workflows import metrics as workflow_metrics

MONITORING = ROOT / "monitoring"
RULES = MONITORING / "prometheus-rules.yml"
DASHBOARD = MONITORING / "grafana-dashboard.json"
EXPORTED = {*workflow_metrics.ALL, *activity_metrics.ALL, telemetry.WEBHOOK_REQUESTS}


def promtool(*args: str) -> subprocess.CompletedProcess:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: `make test` installs Debian's `prometheus` package "
                    "(apt-get install prometheus)", pytrace=False)
    return subprocess.run([path, *args], cwd=MONITORING, capture_output=True, text=True,
                          timeout=60)


def dashboard_queries() -> list[str]:
    """Every PromQL query of the dashboard's panels and variables."""
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    return queries + [v["definition"] for v in dashboard["templating"]["list"]
                      if "definition" in v]


def product_metrics(text: str) -> set[str]:
    return set(re.findall(r"\breturns_[a-z_]+\b", text))


def test_the_rules_pass_promtool_check():
    result = promtool("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_alerts_fire_as_their_unit_tests_say():
    result = promtool("test", "rules", "prometheus-rules.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_configuration_is_valid():
    result = promtool("check", "config", "prometheus.example.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_and_dashboard_name_only_metrics_the_product_exports():
    named = product_metrics(RULES.read_text()) | product_metrics(" ".join(dashboard_queries()))
    assert named - EXPORTED == set()
    # Every metric of the product is on the dashboard.
    assert EXPORTED - product_metrics(" ".join(dashboard_queries())) == set()


def test_every_dashboard_panel_names_the_returns_behind_it():
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        named = product_metrics(json.dumps(panel.get("targets")))
        if panel["type"] == "row" or not named - {telemetry.WEBHOOK_REQUESTS}:
            continue  # not about returns (the receiver's requests, the workers)
        assert "`" in panel["description"], f"{panel['title']}: no list query in its description"
