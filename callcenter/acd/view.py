"""What other features may read of the live ACD (the board, the agent desktop): a read-only,
typed view. `AcdService` is one; tests build small ones from a roster, a book and some calls.

- `roster`: seats, teams, queues and the shift rotation;
- `slots`: the agents (by agent id) with the interface their seat rings;
- `calls`: the calls the controller owns, by call id (their states: `callcenter.acd.calls`);
- `waiting()`: the calls waiting in the book, in global order, each with its position in its
  own queue (parked callbacks are not in the book: they are calls in `CALLBACK_PARKED`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from callcenter.acd.agents import AgentSlot
from callcenter.acd.calls import Call
from callcenter.acd.policy import QueuedCall
from callcenter.acd.shifts import Roster


class AcdView(Protocol):
    @property
    def roster(self) -> Roster: ...

    @property
    def slots(self) -> Mapping[str, AgentSlot]: ...

    @property
    def calls(self) -> Mapping[str, Call]: ...

    def waiting(self) -> list[tuple[QueuedCall, int]]: ...
