"""The ACD's live view in Redis (board, agent desktop): agents and the queue snapshot."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

from callcenter.acd.repository import agent_doc

if TYPE_CHECKING:
    from callcenter.acd.agents import AgentSlot
    from callcenter.acd.journal import Journal
    from callcenter.acd.policy import QueueBook
    from callcenter.infra.redis import LiveState


class LiveView:
    def __init__(self, journal: Journal, live: LiveState, book: QueueBook, slots: Mapping[str, AgentSlot],
                 *, publish_s: float = 0.1) -> None:
        self.journal, self.live, self.book, self.slots = journal, live, book, slots
        self.publish_s = publish_s
        self._flush: asyncio.TimerHandle | None = None

    def republish(self) -> None:
        """Write all agents and the queue to Redis again (it keeps nothing across a restart)."""
        docs = {s.agent.agent_id: agent_doc(s.agent, s.interface) for s in self.slots.values()}
        self.journal.write("live agents", lambda: self.live.replace_all("agents", docs))
        self.flush_queues()

    def publish_queues(self) -> None:
        """Queue snapshot to Redis for the board: the latest state, at most every `publish_s`
        (a full snapshot per call step cost O(queue length) each time, quadratic under load)."""
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(self.publish_s, self.flush_queues)

    def flush_queues(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        positions = self.book.positions()
        docs = {q.call_id: {"queue": q.queue, "skill": q.skill, "priority": q.priority,
                            "entered_at": q.entered_at.isoformat(), "seq": q.seq, "callback": q.callback,
                            "position": positions[q.call_id]}
                for q in self.book.ordered_all()}
        self.journal.write("live queue", lambda: self.live.replace_all("queue", docs))

    def close(self) -> None:
        if self._flush is not None:
            self.flush_queues()
