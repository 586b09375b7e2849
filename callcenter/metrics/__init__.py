"""Prometheus `/metrics`: the figures an operator alerts on (docker/prometheus/)."""
