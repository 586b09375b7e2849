"""The ACD service: agents, the queue book and the calls the controller owns.

Decisions come from the pure model (`policy.next_assignments`, the `Agent` state machine);
this module turns them into ARI requests and journal writes. Call control never waits on
PostgreSQL: writes go through the `Journal` in order.
"""

from __future__ import annotations

import asyncio
import copy
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from callcenter.acd.agents import Agent, AgentEvent, AgentState, IllegalAgentTransition
from callcenter.acd.caller_media import CallerMedia
from callcenter.acd.journal import Journal
from callcenter.acd.liveview import LiveView
from callcenter.acd.policy import QueueBook, QueuedCall, next_assignments
from callcenter.acd.repository import AgentRepository, agent_doc
from callcenter.acd.shifts import Roster
from callcenter.calls.records import CallRecords
from callcenter.infra.ari import TRUNK_FORMATS, AriClient, AriError
from callcenter.infra.logging import get_logger
from callcenter.infra.redis import LiveState

log = get_logger("acd")


class AcdError(ValueError):
    """A request the ACD refuses (unknown seat, seat taken, ...); `status` is the HTTP status."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


@dataclass
class CallSession:
    call_id: str  # the caller's channel id
    caller: str
    queue: str
    skill: str
    priority: int = 0
    state: str = "queued"  # queued | offering | bridged | callback_wait | callback_agent | ended
    agent_id: str | None = None
    agent_leg: str | None = None
    citizen_leg: str | None = None  # callback: the leg that calls the citizen back
    bridge_id: str | None = None
    playback_id: str | None = None
    last_announced: datetime | None = None
    attempts: int = 0
    callback: bool = False
    retry_at: datetime | None = None
    answered_at: datetime | None = None
    moh: bool = False  # music on hold is playing to the caller


@dataclass
class AgentSlot:
    agent: Agent
    interface: str


@dataclass
class AcdService(LiveView, CallerMedia):
    ari: AriClient
    records: CallRecords
    repo: AgentRepository
    live: LiveState
    roster: Roster
    app: str
    ring_timeout_s: int = 15
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    journal: Journal = field(default_factory=Journal)
    book: QueueBook = field(default_factory=QueueBook)
    slots: dict[str, AgentSlot] = field(default_factory=dict)
    calls: dict[str, CallSession] = field(default_factory=dict)
    legs: dict[str, tuple[str, str]] = field(default_factory=dict)  # channel -> (call_id, role)
    # a re-queued call gets its old place back: its arrival order and time
    seq_of: dict[str, int] = field(default_factory=dict)
    entered_of: dict[str, datetime] = field(default_factory=dict)
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)  # agent -> wrap-up end; ringback
    background: set[asyncio.Task] = field(default_factory=set)
    queue_publish_s: float = 0.1
    ringback_after_s: float = 1.0
    # runs a job in order with the call's events (the Stasis router's `in_order`, set by the plugin)
    in_order: Callable[[str, Callable[[], Awaitable[None]], str], None] | None = None
    # talk + wrap-up of the last calls, for the expected wait announced to callers
    handle_times: deque[float] = field(default_factory=lambda: deque(maxlen=50))
    _queue_flush: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------ agents
    def agents(self) -> list[Agent]:
        return [s.agent for s in self.slots.values()]

    def slot(self, agent_id: str) -> AgentSlot:
        try:
            return self.slots[agent_id]
        except KeyError:
            raise AcdError(f"unknown agent {agent_id!r}", 404) from None

    def record_agent(self, slot: AgentSlot, event: AgentEvent | None) -> None:
        # the journal writes later: give it the agent as it is now, not as it will be by then
        agent, interface = copy.copy(slot.agent), slot.interface
        doc = agent_doc(agent, interface)
        self.journal.write(f"agent {agent.agent_id}", lambda: self.repo.save(agent, interface, event, doc))
        self.journal.write("live agent", lambda: self.live.put("agents", agent.agent_id, doc))
        if event is not None and event.from_state != event.to_state:
            log.info("agent_state", agent=slot.agent.agent_id, seat=slot.agent.seat_id,
                     frm=event.from_state.value, to=event.to_state.value, reason=event.reason)

    def transition(self, slot: AgentSlot, name: str, *args) -> AgentEvent:
        event = getattr(slot.agent, name)(*args, self.clock()) if args else getattr(slot.agent, name)(self.clock())
        self.record_agent(slot, event)
        if slot.agent.state is AgentState.WRAP_UP:
            self.end_wrap_up_on_time(slot)
        return event

    def end_wrap_up_on_time(self, slot: AgentSlot) -> None:
        """Wrap-up ends at its due time, not at the next tick: a zero wrap-up frees the agent
        at once, a longer one on a timer (the ticker stays as a back-stop)."""
        agent_id = slot.agent.agent_id
        until = slot.agent.wrap_up_until
        delay = (until - self.clock()).total_seconds() if until else 0.0
        if delay <= 0:
            self.record_agent(slot, slot.agent.wrap_up_done(self.clock()))
            return
        self.cancel_timer(agent_id)
        self.timers[agent_id] = asyncio.get_running_loop().call_later(delay, self._wrap_up_due, agent_id)

    def cancel_timer(self, key: str) -> None:
        handle = self.timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    def _wrap_up_due(self, agent_id: str) -> None:
        self.timers.pop(agent_id, None)
        slot = self.slots.get(agent_id)
        if slot is None:
            return
        event = slot.agent.tick(self.clock())
        if event is not None:
            self.record_agent(slot, event)
            task = asyncio.create_task(self.assign(), name=f"acd-assign-after-wrap-up-{agent_id}")
            self.background.add(task)
            task.add_done_callback(self.background.discard)

    async def close(self) -> None:
        """Stop the wrap-up and ringback timers and wait for assignments they started."""
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()
        if self._queue_flush is not None:
            self.flush_queues()
        await asyncio.gather(*self.background, return_exceptions=True)

    async def login(self, agent_id: str, seat_id: str, *, interface: str | None = None,
                    override_by: str | None = None) -> Agent:
        try:
            seat = self.roster.seat(seat_id)
        except (KeyError, ValueError):
            raise AcdError(f"unknown seat {seat_id!r}", 404) from None
        for other in self.slots.values():
            if other.agent.seat_id == seat.id and other.agent.logged_in and other.agent.agent_id != agent_id:
                raise AcdError(f"seat {seat.id} is taken by agent {other.agent.agent_id}")
        current = self.slots.get(agent_id)
        if current is not None and current.agent.logged_in:
            raise AcdError(f"agent {agent_id} is already logged in at {current.agent.seat_id}")
        now = self.clock()
        agent = self.roster.make_agent(agent_id, seat.id)
        slot = AgentSlot(agent, interface or f"PJSIP/{seat.id}")
        event = agent.login(now, self.roster.is_on_shift(agent, now), override_by)  # may raise NotOnShift
        self.slots[agent_id] = slot
        self.record_agent(slot, event)
        if slot.interface.startswith("PJSIP/") and not await self.endpoint_online(seat.id):
            self.transition(slot, "unreachable")
        await self.assign()
        return agent

    async def endpoint_online(self, seat_id: str) -> bool:
        try:
            ep = await self.ari.get(f"/endpoints/PJSIP/{seat_id}")
        except AriError:
            return False
        return ep.get("state") == "online"

    async def logout(self, agent_id: str) -> Agent:
        slot = self.slot(agent_id)
        self.transition(slot, "logout")
        return slot.agent

    async def pause(self, agent_id: str, reason: str) -> Agent:
        slot = self.slot(agent_id)
        self.transition(slot, "pause", reason)
        return slot.agent

    async def unpause(self, agent_id: str) -> Agent:
        slot = self.slot(agent_id)
        self.transition(slot, "unpause")
        await self.assign()
        return slot.agent

    async def set_reachable(self, seat_id: str, online: bool) -> None:
        """SIP registration of a seat changed: never offer a call to a seat that cannot ring."""
        for slot in self.slots.values():
            a = slot.agent
            if a.seat_id != seat_id or not slot.interface.startswith("PJSIP/") or not a.logged_in:
                continue
            try:
                if online and a.state is AgentState.UNREACHABLE:
                    self.transition(slot, "reachable")
                elif not online and a.state in (AgentState.AVAILABLE, AgentState.PAUSED, AgentState.WRAP_UP):
                    self.transition(slot, "unreachable")
            except IllegalAgentTransition as exc:
                log.warning("reachability_ignored", seat=seat_id, error=str(exc))
        if online:
            await self.assign()

    # ------------------------------------------------------------------- queue
    def enqueue(self, session: CallSession, *, entered_at: datetime, seq: int | None = None) -> QueuedCall:
        if seq is None:
            qc = self.book.enqueue(session.call_id, session.queue, session.skill, entered_at,
                                   priority=session.priority, caller=session.caller)
        else:
            qc = self.book.add(QueuedCall(session.call_id, session.queue, session.skill, entered_at, seq,
                                          priority=session.priority, callback=session.callback,
                                          caller=session.caller))
        session.state = "callback_wait" if session.callback else "queued"
        self.calls[session.call_id] = session
        self.legs.setdefault(session.call_id, (session.call_id, "caller"))
        return qc

    async def assign(self) -> None:
        """Offer every call that can be offered now (longest-idle eligible agent first)."""
        now = self.clock()
        pending = []
        for qc, agent in next_assignments(self.book, self.agents(), now, self.roster):
            session = self.calls.get(qc.call_id)
            if session is None:
                self.book.remove(qc.call_id)
                continue
            self.book.remove(qc.call_id)
            slot = self.slots[agent.agent_id]
            session.attempts += 1
            leg = f"a{session.attempts}-{qc.call_id}"
            session.agent_id, session.agent_leg = agent.agent_id, leg
            session.state = "callback_agent" if session.callback else "offering"
            self.legs[leg] = (qc.call_id, "agent")
            self.transition(slot, "offer", qc.call_id)
            pending.append(self.originate_agent(session, slot, qc, leg))
        if pending:
            await asyncio.gather(*pending)
            self.publish_queues()

    async def originate_agent(self, session: CallSession, slot: AgentSlot, qc: QueuedCall, leg: str) -> None:
        kind = "cbagent" if session.callback else "agent"
        # the agent leg speaks what the caller speaks (as Dial does); a callback has no caller yet
        media = {"formats": TRUNK_FORMATS} if session.callback else {"originator": session.call_id}
        try:
            await self.ari.post("/channels", endpoint=slot.interface, app=self.app, **media,
                                appArgs=f"{kind},{session.call_id}", channelId=leg,
                                callerId=session.caller or "12345", timeout=self.ring_timeout_s,
                                idempotent=False)
        except AriError as exc:
            # Asterisk refused or did not answer in time: not the agent's fault, no missed call
            log.warning("agent_originate_failed", agent=slot.agent.agent_id, error=str(exc))
            await self.ari.safe(self.ari.delete(f"/channels/{leg}"))  # in case it was made late
            # no new offer from here: if the caller is gone (its channel was the originator), its
            # hang-up event is queued behind this handler, and offering again at once would spin
            # until it ran; the ticker offers again within half a second otherwise
            await self.agent_leg_failed(session.call_id, leg, cause="originate failed", missed=False,
                                        reassign=False)
            return
        now = self.clock()
        self.journal.write("leg", lambda: self.records.leg(session.call_id, leg, "agent",
                                                            seat_id=slot.agent.seat_id, at=now))
        if not session.callback and not session.moh:
            self.music_if_still_ringing(session, leg)

    async def agent_leg_failed(self, call_id: str, leg: str, *, cause: str, missed: bool = True,
                               reassign: bool = True) -> None:
        """The agent's phone did not answer (or could not ring): agent per missed-call policy,
        call back at the front of its queue (same place in line)."""
        self.legs.pop(leg, None)
        session = self.calls.get(call_id)
        if session is None or session.agent_leg != leg:
            return
        slot = self.slots.get(session.agent_id or "")
        if slot is not None and slot.agent.state is AgentState.RINGING:
            self.transition(slot, "no_answer" if missed else "offer_cancelled")
        session.agent_id = session.agent_leg = None
        now = self.clock()
        self.journal.write("leg end", lambda: self.records.leg_update(leg, ended_at=now, cause=cause))
        row_seq = self.seq_of.get(call_id)
        self.enqueue(session, entered_at=self.entered_of.get(call_id, now), seq=row_seq)
        if reassign:
            await self.assign()

    async def hangup(self, channel_id: str | None) -> None:
        if channel_id:
            await self.ari.safe(self.ari.delete(f"/channels/{channel_id}"))

