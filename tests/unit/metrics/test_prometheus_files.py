"""docker/prometheus/: the alert rules use only metrics /metrics exports, and both files parse."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from callcenter.metrics import collect

PROM = Path(__file__).resolve().parents[3] / "docker" / "prometheus"
SUFFIXES = ("_total", "_bucket", "_count", "_sum")


def exported() -> set[str]:
    names = set(re.findall(r'"(callcenter_[a-z0-9_]+)"', Path(collect.__file__).read_text()))
    return names | {n + s for n in names for s in SUFFIXES}


def test_alert_rules_use_exported_metrics_only():
    rules = yaml.safe_load((PROM / "alerts.yml").read_text())
    used: set[str] = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert {"alert", "expr", "labels", "annotations"} <= set(rule), rule
            used |= set(re.findall(r"\b(callcenter_[a-z0-9_]+)", str(rule["expr"])))
    assert used, "no rule reads a callcenter metric"
    assert used <= exported(), f"unknown metrics in alerts.yml: {sorted(used - exported())}"


def test_scrape_config_uses_the_token_and_the_rules():
    conf = yaml.safe_load((PROM / "prometheus.yml").read_text())
    assert "alerts.yml" in conf["rule_files"]
    job = conf["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics" and job["authorization"]["type"] == "Bearer"
