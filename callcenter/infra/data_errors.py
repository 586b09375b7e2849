"""How a reference-data file's validation errors read (pure: pydantic only)."""

from __future__ import annotations

from pydantic import ValidationError


def describe_errors(exc: ValidationError) -> str:
    """``rules.2.weight`` style locations -> ``rules[2].weight: message``."""
    parts = []
    for err in exc.errors():
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        parts.append(f"{loc or '<root>'}: {err['msg']}")
    return "; ".join(parts)
