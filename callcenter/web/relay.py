"""What a live hub forwards raw to browsers: only events on the topics it expects, in the shape it
expects. The broker's ACL lets only the controller publish (docker/README.md, "MQTT and Redis
users"); this is the second door: whatever reaches the hub on a topic it does not know, or in a
shape that is not the one its pages read, is dropped and logged, never handed to a page.

A :class:`RelayTable` is a list of :class:`Relayed` rows, tried in order: the first whose pattern
matches the whole topic (without the prefix) decides. Its ``shape`` (a pydantic model or
``TypeAdapter``) validates the payload and what is forwarded is the validated document (fields
the model does not name are left out); ``agrees`` checks the payload against the topic's groups
(an agent's state on another agent's topic is a forgery). A row without a shape is a topic the
controller publishes that the pages do not take raw: not forwarded, not logged. Anything else
is logged as ``relay_dropped`` with the topic (cut short) and the failing fields' names, never
the payload (it may hold a citizen's number).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from callcenter.infra.logging import get_logger

log = get_logger("relay")

TOPIC_LOG_CHARS = 120  # a forged topic can be long: the log line keeps its start


@dataclass(frozen=True)
class Relayed:
    pattern: str
    shape: type[BaseModel] | TypeAdapter | None = None
    agrees: Callable[[re.Match[str], Any], bool] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "_re", re.compile(self.pattern))

    def match(self, topic: str) -> re.Match[str] | None:
        return self._re.fullmatch(topic)  # type: ignore[attr-defined]


class RelayTable:
    def __init__(self, name: str, *rows: Relayed) -> None:
        self.name, self.rows = name, rows
        self.dropped = 0  # tests and health: events refused

    def drop(self, topic: str, reason: str, **extra: Any) -> None:
        self.dropped += 1
        log.warning("relay_dropped", relay=self.name, topic=topic[:TOPIC_LOG_CHARS], reason=reason, **extra)

    def shape(self, topic: str, payload: Any) -> dict[str, Any] | None:
        """The document to forward for this event, or None (not relayed, or dropped and logged)."""
        for row in self.rows:
            match = row.match(topic)
            if match is None:
                continue
            if row.shape is None:
                return None
            try:
                if isinstance(row.shape, TypeAdapter):
                    doc = row.shape.validate_python(payload)
                    out = row.shape.dump_python(doc, mode="json")
                else:
                    doc = row.shape.model_validate(payload)
                    out = doc.model_dump(mode="json")
            except ValidationError as exc:
                fields = sorted({".".join(str(p) for p in e["loc"]) or "(payload)" for e in exc.errors()})
                self.drop(topic, "shape", fields=fields[:8])
                return None
            if row.agrees is not None and not row.agrees(match, doc):
                self.drop(topic, "payload does not match its topic")
                return None
            return out
        self.drop(topic, "unexpected topic")
        return None
