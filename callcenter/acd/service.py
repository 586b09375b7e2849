"""The ACD service: agents, the queue book and the calls the controller owns.

Decisions come from the pure core: the call aggregate (`callcenter.acd.calls`: a call's
states and what each event means for it), the routing policy (`policy.next_assignments`) and
the `Agent` state machine. This module holds them together: it offers waiting calls to free
agents, runs the ticker, and changes agents on request (login, pause, SIP reachability). The
`Executor` carries out what a call decided. Call control never waits on PostgreSQL: writes go
through the `Journal` in order.
"""

from __future__ import annotations

import asyncio
import copy
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from callcenter.acd.agents import Agent, AgentEvent, AgentSlot, AgentState, IllegalAgentTransition
from callcenter.acd.calls import Call, CallbackPolicy, CallState, LineFacts, Step
from callcenter.acd.effects import Disposition, RecordEvent, ReportCallback
from callcenter.acd.executor import Executor
from callcenter.acd.journal import Journal
from callcenter.acd.liveview import LiveView
from callcenter.acd.phones import SeatPhones
from callcenter.acd.policy import QueueBook, QueuedCall, next_assignments
from callcenter.acd.repository import AgentRepository, agent_doc
from callcenter.acd.requested import CallbackRequest, RequestedCall
from callcenter.acd.shifts import Roster
from callcenter.calls.api import CallRecords
from callcenter.infra.ari import AriClient, AriError
from callcenter.infra.logging import get_logger
from callcenter.infra.redis import LiveState

__all__ = ["AcdError", "AcdService", "AgentSlot", "CallOrder", "CallbackRequest", "ReportCallback", "Transcriber"]

log = get_logger("acd")

# agents taking calls (not paused, reachable): who serves a skill, for the expected wait
WORKING = frozenset({AgentState.AVAILABLE, AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP})


class Transcriber(Protocol):
    """What the ACD asks of live transcription (callcenter/transcription): neither is waited on."""

    def call_bridged(self, call_id: str, caller_channel: str, agent_channel: str, *, line: str = "") -> None: ...

    def call_ended(self, call_id: str) -> None: ...

    async def audit(self, live_call_ids: list[str]) -> list[str]: ...


class CallOrder(Protocol):
    """Per-call ordering (the Stasis router, `callcenter.calls.stasis.StasisRouter`, fits): a job
    runs after everything already queued for its call, events and timers alike. The ACD tells it
    which call each channel is a leg of (`key_by`), so a leg's events queue behind its call's."""

    def in_order(self, key: str, job: Callable[[], Awaitable[None]], what: str = "job") -> None: ...

    def key_by(self, keyer: Callable[[str], str]) -> None: ...


class AcdError(ValueError):
    """A request the ACD refuses (unknown seat, seat taken, ...); `status` is the HTTP status."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


@dataclass
class AcdService:
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
    calls: dict[str, Call] = field(default_factory=dict)
    legs: dict[str, tuple[str, str]] = field(default_factory=dict)  # channel -> (call_id, LegRole)
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)  # agent -> wrap-up end; ringback
    background: set[asyncio.Task] = field(default_factory=set)
    ringback_after_s: float = 1.0
    callback_policy: CallbackPolicy = field(default_factory=CallbackPolicy)
    # runs a job in order with the call's events (the Stasis router); None: at once (unit tests)
    order: CallOrder | None = None
    # talk + wrap-up of the last calls, for the expected wait announced to callers
    handle_times: deque[float] = field(default_factory=lambda: deque(maxlen=50))
    # seats whose phone carries a channel that is none of the ACD's legs: a call the app_queue
    # fallback put through while no controller held the app (never offered until it ends)
    busy_elsewhere: set[str] = field(default_factory=set)
    fallback_calls: set[str] = field(default_factory=set)  # the fallback's callers the app follows
    # seats that went offline while their agent was on a call: unreachable once it leaves the call
    seats_lost: set[str] = field(default_factory=set)
    phones: SeatPhones = field(default_factory=SeatPhones)  # which phone of each seat is registered
    resyncs: int = 0  # resyncs done (on each ARI (re)connect)
    # live transcription of bridged calls, if that feature runs (returns None when it does not)
    transcriber: Callable[[], Transcriber | None] = field(default=lambda: None)
    # who hears how requested callbacks went (`request_callback`): called without being waited on
    callback_listeners: list[Callable[[ReportCallback], Awaitable[None]]] = field(default_factory=list)
    # whether a caller whose agent hung up first goes on to the post-call rating (the surveys take it)
    rating_on: Callable[[], bool] = field(default=lambda: False)

    def __post_init__(self) -> None:
        self.executor = Executor(self)
        self.live_view = LiveView(self.journal, self.live, self.book, self.slots)
        if self.order is not None:
            self.order.key_by(self.call_of)  # a leg's events queue behind its call's

    def call_of(self, channel: str) -> str:
        """The call a channel is a leg of (the channel itself when it is none of the ACD's legs)."""
        return self.legs.get(channel, (channel, ""))[0]

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
        if slot.agent.state is AgentState.WRAP_UP and slot.agent.seat_id in self.seats_lost:
            self.seats_lost.discard(slot.agent.seat_id)
            self.record_agent(slot, slot.agent.unreachable(self.clock()))
        elif slot.agent.state is AgentState.WRAP_UP:
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
        self.live_view.close()
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
        self.seats_lost.discard(seat.id)
        self.record_agent(slot, event)
        if slot.interface.startswith("PJSIP/") and not await self.endpoint_online(seat.id):
            self.transition(slot, "unreachable")
        await self.assign()
        return agent

    async def endpoint_online(self, seat_id: str) -> bool:
        """Either phone of the seat (desk or browser, `SeatPhones`) is registered."""
        self.seat_channels(seat_id, await self.phones.refresh(self.ari, seat_id))
        return self.phones.reachable(seat_id)

    def seat_channels(self, seat_id: str, channels: list[str]) -> bool:
        """The channels on a seat's phone (an endpoint snapshot): the seat is busy elsewhere while
        one of them is not the ACD's. Returns whether the seat just became free."""
        foreign = [c for c in channels if c not in self.legs]
        if foreign and seat_id not in self.busy_elsewhere:
            self.busy_elsewhere.add(seat_id)
            log.warning("seat_busy_elsewhere", seat=seat_id, channels=foreign)
        elif not foreign and seat_id in self.busy_elsewhere:
            self.busy_elsewhere.discard(seat_id)
            log.info("seat_free_again", seat=seat_id)
            return True
        return False

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
        """SIP registration of a seat changed: never offer a call to a seat that cannot ring. A seat
        lost mid-call is marked unreachable when its agent leaves the call (`transition`)."""
        if online:
            self.seats_lost.discard(seat_id)
        for slot in self.slots.values():
            a = slot.agent
            if a.seat_id != seat_id or not slot.interface.startswith("PJSIP/") or not a.logged_in:
                continue
            try:
                if online and a.state is AgentState.UNREACHABLE:
                    self.transition(slot, "reachable")
                elif not online and a.state in (AgentState.AVAILABLE, AgentState.PAUSED, AgentState.WRAP_UP):
                    self.transition(slot, "unreachable")
                elif not online and a.state is AgentState.ON_CALL and a.current_call_id in self.calls:
                    self.seats_lost.add(seat_id)
                    self._agent_lost(self.calls[a.current_call_id])
            except IllegalAgentTransition as exc:
                log.warning("reachability_ignored", seat=seat_id, error=str(exc))
        if online:
            await self.assign()

    def _agent_lost(self, call: Call) -> None:
        """The phone died mid-call: the call decides (in order with its own events). An inbound
        caller goes back to the line, its agent to wrap-up and so unreachable (`seats_lost`); a
        callback runs to its end first. Never queued again from here: nothing spins."""
        async def job() -> None:
            await self.executor.run(call, call.agent_lost(self.clock()))

        if self.order is not None:
            self.order.in_order(call.call_id, job, "agent lost")

    def end_fallback_call(self, call_id: str) -> None:
        """A caller the app_queue fallback took has gone: its row is closed as `fallback`."""
        self.fallback_calls.discard(call_id)
        now = self.clock()
        self.journal.write("fallback call end", lambda: self.records.update(
            call_id, RecordEvent.ENDED, at=now, ended_at=now, disposition=Disposition.FALLBACK))

    # ------------------------------------------------------------------- calls
    def waiting(self) -> list[tuple[QueuedCall, int]]:
        """The calls in the book, in global order, each with its position in its own queue."""
        positions = self.book.positions()
        return [(qc, positions[qc.call_id]) for qc in self.book.ordered_all()]

    def recent_aht_s(self) -> float | None:
        return sum(self.handle_times) / len(self.handle_times) if self.handle_times else None

    def agents_serving(self, skill: str) -> int:
        return sum(1 for s in self.slots.values() if skill in s.agent.skills and s.agent.state in WORKING)

    async def assign(self) -> None:
        """Offer every call that can be offered now (longest-idle eligible agent first)."""
        now = self.clock()
        pending = []
        agents = [a for a in self.agents() if a.seat_id not in self.busy_elsewhere]
        for qc, agent in next_assignments(self.book, agents, now, self.roster):
            call = self.calls.get(qc.call_id)
            if call is None:
                self.book.remove(qc.call_id)
                continue
            rest = self.executor.start(call, call.offer(agent.agent_id, agent.seat_id, now).effects)
            if rest is not None:
                pending.append(rest)
        if pending:
            await asyncio.gather(*pending)
            self.live_view.publish_queues()

    async def tick(self) -> None:
        """Every half second: wrap-ups due, callback offers and announcements to waiting
        callers, parked callbacks due again, then a routing round."""
        now = self.clock()
        for slot in list(self.slots.values()):
            event = slot.agent.tick(now)
            if event is not None:
                self.record_agent(slot, event)
        for qc in self.book.ordered_all():
            call, qdef = self.calls.get(qc.call_id), self.roster.queue(qc.queue)
            if call is None or qdef is None:
                continue

            def facts(qc: QueuedCall = qc) -> LineFacts:
                return LineFacts(self.book.position_of(qc.call_id), self.recent_aht_s(),
                                 self.agents_serving(qc.skill))

            await self._tick_run(call, call.waiting_tick(now, qc, qdef, facts))
        for call in list(self.calls.values()):
            await self._tick_run(call, call.retry_due(now))
        await self.assign()

    async def _tick_run(self, call: Call, step: Step) -> None:
        """One call's refused request does not cost the other calls their tick, nor the routing."""
        try:
            await self.executor.run(call, step)
        except AriError as exc:
            log.warning("tick_request_failed", call_id=call.call_id, status=exc.status, error=exc.message)

    async def hangup(self, channel_id: str | None) -> None:
        if channel_id:
            await self.ari.safe(self.ari.delete(f"/channels/{channel_id}"))

    # ------------------------------------------------------- requested callbacks
    def on_callback_report(self, listener: Callable[[ReportCallback], Awaitable[None]]) -> Callable[[], None]:
        """`listener` hears every requested callback's connect and end (`ReportCallback`);
        returns what stops it."""
        self.callback_listeners.append(listener)
        return lambda: self.callback_listeners.remove(listener) if listener in self.callback_listeners else None

    async def request_callback(self, call_id: str, number: str, *, origin: str, queue: str = "general",
                               skill: str | None = None, priority: int = -1, max_attempts: int = 1,
                               line: str = "") -> bool:
        """Call a citizen back through the ACD: an agent is reserved by the normal routing
        (below every inbound call), then the citizen is dialled and bridged. The outcome goes to
        the listeners with `origin`; `line` is the line of the call it is about (recording and
        transcription follow that line's rule). False when a call with this id is already there (a repeated
        request); ValueError (as AcdError 422) on bad input."""
        qdef = self.roster.queue(queue)
        if qdef is None:
            raise AcdError(f"unknown queue {queue!r}", 422)
        try:
            req = CallbackRequest(call_id, number, queue, skill or qdef.skill, origin, priority, max_attempts, line)
        except ValueError as exc:
            raise AcdError(str(exc), 422) from None
        if call_id in self.calls:
            return False
        call, step = RequestedCall.request(req, self.book.next_seq(), self.clock())
        self.calls[call_id] = call
        await self.executor.run(call, step)
        return True

    async def cancel_callback(self, call_id: str) -> bool:
        """Withdraw a requested callback (in order with its call's events). True when it ended as
        cancelled; False when it is unknown or already dialling or talking to the citizen."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        async def job() -> None:
            call = self.calls.get(call_id)
            try:
                if isinstance(call, RequestedCall):
                    await self.executor.run(call, call.cancel(self.clock()))
            finally:
                done.set_result(isinstance(call, RequestedCall) and call.state is CallState.ENDED)

        if self.order is None:
            await job()
        else:
            self.order.in_order(call_id, job, "callback cancel")
        return await done
