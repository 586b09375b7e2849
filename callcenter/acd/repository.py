"""PostgreSQL side of the ACD: the agents table, agent state history and their events."""

from __future__ import annotations

from typing import Any

import asyncpg

from callcenter.acd.agents import Agent, AgentEvent, AgentState, PauseReason
from callcenter.infra.outbox import write_with_event


def agent_doc(agent: Agent, interface: str) -> dict[str, Any]:
    return {
        "agent_id": agent.agent_id, "seat_id": agent.seat_id, "team": agent.team,
        "skills": sorted(agent.skills), "state": agent.state.value, "interface": interface,
        "since": agent.since.isoformat() if agent.since else None,
        "idle_since": agent.idle_since.isoformat() if agent.idle_since else None,
        "pause_reason": agent.pause_reason.value if agent.pause_reason else None,
        "pending_pause": agent.pending_pause.value if agent.pending_pause else None,
        "call_id": agent.current_call_id, "override_by": agent.override_by,
    }


class AgentRepository:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def save(self, agent: Agent, interface: str, event: AgentEvent | None, doc: dict[str, Any]) -> None:
        """Upsert the agent's current state, append the transition, queue its MQTT event
        (`doc`: the agent's `agent_doc`, which the caller has already built for Redis)."""
        changed = event is not None and event.from_state != event.to_state
        await write_with_event(self.pool, [
            """INSERT INTO agents(agent_id, seat_id, interface, state, since, idle_since, pause_reason,
                                  pending_pause, override_by, return_state, call_id, updated_at)
               VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11, now())
               ON CONFLICT (agent_id) DO UPDATE SET seat_id=$2, interface=$3, state=$4, since=$5,
                 idle_since=$6, pause_reason=$7, pending_pause=$8, override_by=$9, return_state=$10,
                 call_id=$11, updated_at=now()""",
            """INSERT INTO agent_states(agent_id, seat_id, from_state, to_state, reason, at)
               SELECT $1, $2, $12, $16, $13, $14 WHERE $15""",
        ], [
            agent.agent_id, agent.seat_id, interface, agent.state.value, agent.since, agent.idle_since,
            agent.pause_reason.value if agent.pause_reason else None,
            agent.pending_pause.value if agent.pending_pause else None, agent.override_by,
            agent.return_state.value if agent.return_state else None, agent.current_call_id,
            event.from_state.value if changed else None, event.reason if changed else None,
            event.at if changed else None, changed, event.to_state.value if changed else None,
        ], f"agents/{agent.agent_id}/state",
            {**doc, "reason": event.reason if event else None})

    async def load_logged_in(self) -> list[asyncpg.Record]:
        return await self.pool.fetch("SELECT * FROM agents WHERE state <> 'logged_out' ORDER BY agent_id")


def restore_agent(agent: Agent, row: asyncpg.Record) -> Agent:
    """Put a stored agent's state back on a fresh model object (after a controller restart)."""
    agent.state = AgentState(row["state"])
    agent.since = row["since"]
    agent.idle_since = row["idle_since"]
    agent.pause_reason = PauseReason(row["pause_reason"]) if row["pause_reason"] else None
    agent.pending_pause = PauseReason(row["pending_pause"]) if row["pending_pause"] else None
    agent.override_by = row["override_by"]
    agent.return_state = AgentState(row["return_state"]) if row["return_state"] else None
    agent.current_call_id = row["call_id"]
    return agent
