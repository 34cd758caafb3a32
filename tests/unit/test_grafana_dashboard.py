"""The Grafana dashboard reads only metrics that Parlons exports."""
from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "parlons-dashboard.json"
SUFFIXES = ("", "_total", "_bucket", "_count", "_sum", "_created")


def expressions(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for value in node.values() for e in expressions(value)]
    if isinstance(node, list):
        return [e for value in node for e in expressions(value)]
    return []


def test_every_metric_on_the_dashboard_is_exported():
    # Declared in domain/metrics.py: the instruments, and the gauges its collectors read at scrape time.
    declared = re.findall(r'"(parlons_[a-z_]+)"', (REPO / "domain" / "metrics.py").read_text())
    exported = {name + suffix for name in declared for suffix in SUFFIXES}
    read = {name for expr in expressions(json.loads(DASHBOARD.read_text()))
            for name in re.findall(r"\bparlons_[a-z_]+", expr)}
    assert {"parlons_llm_retries_total", "parlons_queue_depth", "parlons_outbox_oldest_age_seconds"} <= read
    assert read - exported == set(), "the dashboard reads metrics nobody exports"
