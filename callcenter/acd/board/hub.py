"""The board's and the agent desks' live hub, on the web shell's machinery
(:class:`callcenter.web.hub.Hub`): one MQTT subscription to ``<prefix>/#``.

Every client first gets a full snapshot; any MQTT event marks snapshots stale (the topic says
which caches: :meth:`Snapshots.invalidate`) and the hub pushes fresh ones, debounced, and every
``refresh_s`` of quiet. The board is the group ``BOARD``; each agent desk is the group of its
agent id, and a supervisor watching a desk is in the group :class:`Watch` of that agent id (the
same document with the caller's number masked). Agent desktops also get the raw events about
themselves and their current call (``{"type": "event", "topic", "payload"}``), for features such
as the live transcript: only those of :data:`callcenter.acd.board.relayed.DESK`, validated (the
rest is dropped and logged).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from callcenter.acd.board.relayed import DESK
from callcenter.acd.board.snapshot import Snapshots
from callcenter.acd.board.views import masked_desk
from callcenter.web.hub import Hub, dumps

BOARD = None  # the group key of the supervisors' board; an agent desk's is its agent id


@dataclass(frozen=True)
class Watch:
    """The group key of a supervisor looking on at an agent's desk."""

    agent_id: str


def _agent_of(key: Hashable) -> str:
    return key.agent_id if isinstance(key, Watch) else str(key)


class BoardHub(Hub):
    relay = DESK

    def __init__(self, settings: Any, snapshots: Snapshots, *, debounce_s: float = 0.1,
                 refresh_s: float = 15.0) -> None:
        super().__init__(settings, name="board", debounce_s=debounce_s, refresh_s=refresh_s)
        self.snapshots = snapshots
        snapshots.live_connected = self.connected.is_set

    def changed(self, topic: str) -> None:
        self.snapshots.invalidate(topic)

    def refreshed(self) -> None:
        self.snapshots.invalidate("*")

    async def document(self, key: Hashable) -> dict[str, Any]:
        if key is BOARD:
            return await self.snapshots.board()
        doc = await self.snapshots.agent(_agent_of(key))
        return masked_desk(doc) if isinstance(key, Watch) else doc

    def listens(self, topic: str) -> bool:
        return any(key is not BOARD for key in self.groups)

    async def event(self, topic: str, payload: Any) -> None:
        parts = topic.split("/")
        text = None
        for key, clients in list(self.groups.items()):
            if key is BOARD:
                continue
            agent_id = _agent_of(key)
            mine = (parts[0] == "agents" and len(parts) > 1 and parts[1] == agent_id) or (
                parts[0] == "calls" and len(parts) > 1 and parts[1] == self.snapshots.current_call_id(agent_id))
            if mine:
                if text is None:  # shaped once, for the first desk it concerns
                    doc = self.relay.shape(topic, payload)
                    if doc is None:
                        return
                    text = dumps({"type": "event", "topic": topic, "payload": doc})
                await self.send(clients, text)
