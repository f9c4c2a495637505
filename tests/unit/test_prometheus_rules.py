"""deploy/prometheus/alerts.yaml is valid, its unit tests pass, and every metric that it
and the Grafana dashboard name is one the service defines (the integration test
test_observability.py checks the same against a running stack's scrape)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from service.observability import metrics

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS = REPO / "deploy" / "prometheus"
DASHBOARD = REPO / "deploy" / "grafana" / "bantin.json"
METRIC = re.compile(r"\b(bantin_[a-z0-9_]+)")
# Exported by the API's database collector (service/observability/database.py).
DATABASE_GAUGES = {
    "bantin_database_up",
    "bantin_outbox_lag_seconds",
    "bantin_delivery_retry_backlog",
    "bantin_delivery_due_backlog",
    "bantin_reminders_due_unsent",
    "bantin_reminders_missed",
    "bantin_subscriptions",
    "bantin_recent_deliveries",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is needed: `make promtool` installs Debian's prometheus package")
    return subprocess.run([binary, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60, check=False)


def test_alert_rules_are_valid() -> None:
    result = promtool("check", "rules", "alerts.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_example_prometheus_config_is_valid() -> None:
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_fire_on_what_they_name() -> None:
    result = promtool("test", "rules", "alerts.test.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def alert_expressions() -> list[str]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yaml").read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def series_names_defined_in_code() -> set[str]:
    """Sample names prometheus-client writes for our metrics (``_total``, ``_bucket`` …)."""
    names = set(DATABASE_GAUGES)
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        for family in value.describe():
            base = family.name
            if family.type == "counter":
                names.add(f"{base}_total")
            elif family.type == "histogram":
                names.update({f"{base}_bucket", f"{base}_sum", f"{base}_count"})
            else:
                names.add(base)
    return names


def names_in(expressions: list[str]) -> set[str]:
    return {name for expr in expressions for name in METRIC.findall(expr)}


def test_every_metric_the_alerts_and_dashboard_use_is_defined() -> None:
    used = names_in(alert_expressions()) | names_in(dashboard_expressions())
    assert used, "no bantin_* metric found: the extraction is broken"
    assert used - series_names_defined_in_code() == set()


def test_the_check_would_see_a_misspelt_metric() -> None:
    assert names_in(["rate(bantin_delivery_totals[5m])"]) - series_names_defined_in_code() == {"bantin_delivery_totals"}
