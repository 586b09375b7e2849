"""Live transcripts into the mass-incident detector (pure): the citizen's finals of a call are
collected until they say enough to be one request, then handed over once (the detector counts a
call once; its first final is usually only "喂，你好"). Time comes from the caller of `heard`.

The district of a call: a district the citizen names ("我们仁和区这边…"), else the one of their
latest ticket (looked up by the service, as the IVR's incident offer does); a call whose district
stays unknown is not fed, and its ticket, which has a district, counts for it later."""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from callcenter.dispatch.catalogue import DISTRICT_UNITS
from callcenter.dispatch.incidents import bigrams

# the names a caller uses: the full name, and the short one where it is unambiguous
_NAMES = {**{name: name for name in DISTRICT_UNITS}, "仁和": "仁和区", "米易": "米易县", "盐边": "盐边县",
          "钒钛新区": "钒钛高新区", "高新区": "钒钛高新区"}
_NAME_RE = re.compile("|".join(sorted(map(re.escape, _NAMES), key=len, reverse=True)))


def district_named(text: str) -> str | None:
    """The one district the text names; None when it names none or several."""
    found = {_NAMES[m] for m in _NAME_RE.findall(text)}
    return found.pop() if len(found) == 1 else None


@dataclass
class _Call:
    last: datetime
    parts: list[str] = field(default_factory=list)
    done: bool = False


class TranscriptFeed:
    """Per call, the citizen's finals until they hold `min_bigrams` topical bigrams (about one
    sentence on the matter); calls idle for `idle` are forgotten, at most `max_calls` are kept."""

    def __init__(self, *, min_bigrams: int = 6, idle: timedelta = timedelta(minutes=30),
                 max_calls: int = 10000) -> None:
        self.min_bigrams, self.idle, self.max_calls = min_bigrams, idle, max_calls
        self._calls: OrderedDict[str, _Call] = OrderedDict()  # least recently heard first

    def heard(self, call_id: str, leg: str, text: str, at: datetime) -> str | None:
        """One final of a call; returns the citizen's words so far when they first say enough."""
        self._forget(at)
        if leg != "citizen" or not text.strip():
            return None
        call = self._calls.pop(call_id, None) or _Call(at)
        call.last = at
        self._calls[call_id] = call
        if call.done:
            return None
        call.parts.append(text.strip())
        said = "，".join(call.parts)
        if sum(bigrams(said).values()) < self.min_bigrams:
            return None
        call.done, call.parts = True, []
        return said

    def _forget(self, now: datetime) -> None:
        while self._calls:
            call_id, call = next(iter(self._calls.items()))
            if now - call.last <= self.idle and len(self._calls) < self.max_calls:
                break
            del self._calls[call_id]

    def __len__(self) -> int:
        return len(self._calls)
