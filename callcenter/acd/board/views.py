"""Pure views of the live ACD state for the board and the agent desktop (no I/O).

``acd_view`` reads the ACD's read-only view (:class:`~callcenter.acd.view.AcdView`);
``live_view`` does the same from the Redis mirror (``LiveState``) when the ACD runs in
another process. Callers' numbers are masked
here: the board never shows a full number.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from callcenter.acd.agents import AgentSlot, PauseReason
from callcenter.acd.calls import RINGING, Call, CallState
from callcenter.acd.policy import QueuedCall
from callcenter.acd.shifts import Roster
from callcenter.acd.view import AcdView
from callcenter.infra.masking import mask_phone

# reasons an agent may pick (missed_call is set by the ACD, not chosen)
PAUSE_REASONS = [r.value for r in PauseReason if r is not PauseReason.MISSED_CALL]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _seconds(now: datetime, since: datetime | None) -> float | None:
    return None if since is None else max(0.0, (now - since).total_seconds())


def _shift_name(roster: Roster, team: str, now: datetime) -> str | None:
    try:
        sd = roster.rotation.shift_of(team, now)
    except (AttributeError, KeyError):
        return None
    return sd.name if sd is not None else None


def shift_now(roster: Roster, now: datetime) -> dict[str, Any]:
    """Who is on shift now by the 4班3倒 rotation (the board's banner, the desk): each team at
    work with its shift's name and local start and end (``08:00``..``16:00``)."""
    teams = []
    for team in roster.teams:
        sd, window = roster.rotation.shift_of(team, now), roster.rotation.shift_window(team, now)
        if sd is not None and window is not None:
            teams.append({"team": team, "shift": sd.name, "start": window[0].strftime("%H:%M"),
                          "end": window[1].strftime("%H:%M")})
    return {"teams": teams}


def masked_desk(doc: dict[str, Any]) -> dict[str, Any]:
    """An agent desk as someone other than the agent on the call sees it (a supervisor looking
    on): the caller's number masked."""
    if not doc.get("call"):
        return doc
    return doc | {"call": doc["call"] | {"caller": doc["call"]["caller_masked"]}}


def waiting_entry(qc: QueuedCall, position: int | None, now: datetime) -> dict[str, Any]:
    return {"call_id": qc.call_id, "position": position, "priority": qc.priority, "callback": qc.callback,
            "callback_offered": qc.callback_offered, "entered_at": _iso(qc.entered_at),
            "wait_s": _seconds(now, qc.entered_at), "caller_masked": mask_phone(qc.caller or "")}


def agent_entry(slot: AgentSlot, roster: Roster, calls: Mapping[str, Call], now: datetime) -> dict[str, Any]:
    a = slot.agent
    call = calls.get(a.current_call_id or "")
    try:
        on_shift = bool(roster.is_on_shift(a, now))
    except (KeyError, TypeError, ValueError):
        on_shift = None
    return {"agent_id": a.agent_id, "seat_id": a.seat_id, "team": a.team, "skills": sorted(a.skills),
            "state": a.state.value, "since": _iso(a.since), "in_state_s": _seconds(now, a.since),
            "pause_reason": a.pause_reason.value if a.pause_reason else None,
            "pending_pause": a.pending_pause.value if a.pending_pause else None,
            "override_by": a.override_by, "on_shift": on_shift, "interface": slot.interface,
            "call_id": a.current_call_id,
            "call": None if call is None else {
                "call_id": call.call_id, "state": call.state, "queue": call.queue,
                "caller_masked": mask_phone(call.caller), "callback": call.callback}}


def acd_view(acd: AcdView, now: datetime) -> dict[str, Any]:
    roster = acd.roster
    queues: dict[str, dict[str, Any]] = {}

    def queue(name: str) -> dict[str, Any]:
        return queues.setdefault(name, {"name": name, "waiting": [], "offering": 0, "talking": 0})

    for qdef in roster.queues:
        queue(qdef.name)
    for qc, position in acd.waiting():
        queue(qc.queue)["waiting"].append(waiting_entry(qc, position, now))
    for call in acd.calls.values():
        if call.state is CallState.CALLBACK_PARKED:  # out of the book until it is due again
            entry = waiting_entry(call.entry(), None, now) | {"retry_at": _iso(call.retry_at)}
            queue(call.queue)["waiting"].append(entry)
        elif call.state in RINGING or call.state is CallState.CALLBACK_DIALING:
            queue(call.queue)["offering"] += 1
        elif call.state is CallState.BRIDGED:
            queue(call.queue)["talking"] += 1
    for q in queues.values():
        q["longest_wait_s"] = max((w["wait_s"] or 0 for w in q["waiting"]), default=None)

    on_shift = roster.on_shift_teams(now)
    teams: dict[str, dict[str, Any]] = {t: {"team": t, "on_shift": t in on_shift, "shift": _shift_name(roster, t, now),
                 "seats": len(roster.seats_of(t)), "agents": []} for t in roster.teams}
    for slot in sorted(acd.slots.values(), key=lambda s: (s.agent.seat_id, s.agent.agent_id)):
        entry = agent_entry(slot, roster, acd.calls, now)
        teams.setdefault(entry["team"], {"team": entry["team"], "on_shift": None, "shift": None,
                                         "seats": 0, "agents": []})["agents"].append(entry)
    return {"queues": list(queues.values()), "teams": list(teams.values()), "source": "acd"}


def live_view(agent_docs: dict[str, dict[str, Any]], queue_docs: dict[str, dict[str, Any]],
              now: datetime) -> dict[str, Any]:
    """The same shape from the Redis mirror (no roster: shift facts unknown, no callers)."""
    queues: dict[str, dict[str, Any]] = {}
    for call_id, d in sorted(queue_docs.items(), key=lambda kv: (kv[1].get("position") or 0, kv[0])):
        q = queues.setdefault(d.get("queue", "general"),
                              {"name": d.get("queue", "general"), "waiting": [], "offering": 0, "talking": 0})
        entered = _parse(d.get("entered_at"))
        q["waiting"].append({"call_id": call_id, "position": d.get("position"), "priority": d.get("priority", 0),
                             "callback": bool(d.get("callback")), "callback_offered": False,
                             "entered_at": d.get("entered_at"), "wait_s": _seconds(now, entered),
                             "caller_masked": ""})
    for q in queues.values():
        q["longest_wait_s"] = max((w["wait_s"] or 0 for w in q["waiting"]), default=None)
    teams: dict[str, dict[str, Any]] = {}
    for d in sorted(agent_docs.values(), key=lambda d: (d.get("seat_id", ""), d.get("agent_id", ""))):
        team = d.get("team", "?")
        since = _parse(d.get("since"))
        teams.setdefault(team, {"team": team, "on_shift": None, "shift": None, "seats": 0, "agents": []})[
            "agents"].append({**{k: d.get(k) for k in ("agent_id", "seat_id", "team", "skills", "state",
                                                         "since", "pause_reason", "pending_pause",
                                                         "override_by", "interface", "call_id")},
                              "in_state_s": _seconds(now, since), "on_shift": None, "call": None})
    return {"queues": list(queues.values()), "teams": sorted(teams.values(), key=lambda t: t["team"]),
            "source": "live"}


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def desk_call(call: Call | None, facts: dict[str, Any] | None) -> dict[str, Any]:
    """The agent desktop's call panel: live call facts over the stored IVR facts."""
    f = facts or {}
    caller = (call.caller if call is not None else None) or f.get("caller") or ""
    return {"call_id": call.call_id if call is not None else f.get("call_id"),
            "state": call.state if call is not None else CallState.ENDED,
            "caller": caller, "caller_masked": mask_phone(caller),
            "queue": (call.queue if call is not None else None) or f.get("queue"),
            "skill": (call.skill if call is not None else None) or f.get("skill"),
            "priority": call.priority if call is not None else f.get("priority", 0),
            "callback": bool(call.callback) if call is not None else False,
            "dnis": f.get("dnis"), "line": f.get("line"), "entered_at": f.get("entered_at"),
            "answered_at": f.get("answered_at"), "ivr": f.get("ivr", {}), "ivr_flow": f.get("ivr_flow"),
            "ivr_path": f.get("ivr_path", [])}
